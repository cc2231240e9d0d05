// audit-release: v7.1
// expect: hw-after-unplug-call 28
// expect: unguarded-hw-access 20
// A driver that calls drm_bridge_unplug() but then touches the device in remove, and has
// a disable callback that reaches the hardware through a helper outside enter/exit.
struct foo {
	struct drm_bridge bridge;
	struct regmap *regmap;
	struct gpio_desc *enable_gpio;
};

static void foo_power_off(struct foo *ctx)
{
	gpiod_set_value_cansleep(ctx->enable_gpio, 0);
}

static void foo_disable(struct drm_bridge *bridge, struct drm_atomic_state *state)
{
	struct foo *ctx = container_of(bridge, struct foo, bridge);
	foo_power_off(ctx);
}

static void foo_remove(struct i2c_client *client)
{
	struct foo *ctx = i2c_get_clientdata(client);

	drm_bridge_unplug(&ctx->bridge);
	regmap_write(ctx->regmap, 0x10, 0);
}

static const struct drm_bridge_funcs foo_funcs = {
	.atomic_disable = foo_disable,
};

static struct i2c_driver foo_driver = {
	.driver = { .name = "foo", },
	.remove = foo_remove,
};
