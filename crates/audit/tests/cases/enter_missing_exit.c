// audit-release: v7.1
// expect: enter-without-exit 20
// A work function that leaves its drm_bridge_enter() section open on an error return
// (the shape of v7.1's sn65dsi83_reset_work).
struct foo {
	struct drm_bridge bridge;
	struct work_struct reset_work;
};

static void foo_reset_work(struct work_struct *ws)
{
	struct foo *ctx = container_of(ws, struct foo, reset_work);
	int ret;
	int idx;

	if (!drm_bridge_enter(&ctx->bridge, &idx))
		return;
	ret = foo_reset(ctx);
	if (ret)
		return;
	drm_bridge_exit(idx);
}
