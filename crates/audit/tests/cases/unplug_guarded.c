// audit-release: v7.1
// expect: none
// The same driver done right: remove only unplugs, every hardware access of a callback is
// inside drm_bridge_enter()/drm_bridge_exit().
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
	int idx;

	if (!drm_bridge_enter(bridge, &idx))
		return;
	foo_power_off(ctx);
	drm_bridge_exit(idx);
}

static void foo_remove(struct i2c_client *client)
{
	struct foo *ctx = i2c_get_clientdata(client);

	drm_bridge_unplug(&ctx->bridge);
}

static const struct drm_bridge_funcs foo_funcs = {
	.atomic_disable = foo_disable,
};

static struct i2c_driver foo_driver = {
	.driver = { .name = "foo", },
	.remove = foo_remove,
};

static const struct of_device_id foo_match[] = {
	{ .compatible = "vendor,foo" },
	{ }
};
