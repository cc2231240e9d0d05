// audit-release: v7.1
// expect: none
// Every path out of an entered section exits it: gotos to an exit label, a scoped_guard,
// a switch, and the early return when drm_bridge_enter() fails.
struct foo {
	struct drm_bridge bridge;
	struct mutex lock;
};

static void foo_enable(struct drm_bridge *bridge, struct drm_atomic_state *state)
{
	struct foo *ctx = container_of(bridge, struct foo, bridge);
	int ret;
	int idx;

	if (!drm_bridge_enter(bridge, &idx))
		return;
	ret = regulator_enable(ctx->vcc);
	if (ret)
		goto err_exit;
	scoped_guard(mutex, &ctx->lock) {
		regmap_write(ctx->regmap, 1, 2);
	}
	switch (ctx->mode) {
	case 1:
		goto err_exit;
	default:
		break;
	}
err_exit:
	drm_bridge_exit(idx);
}

static int foo_positive(struct foo *ctx)
{
	int idx;

	if (drm_bridge_enter(&ctx->bridge, &idx)) {
		regmap_write(ctx->regmap, 1, 2);
		drm_bridge_exit(idx);
	}
	return 0;
}
