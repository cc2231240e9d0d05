// audit-release: v7.1
// expect: none
// Counted references put on every path: __free(drm_bridge_put), an explicit put on the
// error path, a reference handed on to a field, and an error code correlated with the
// lookup (ret is set only when the lookup failed).
struct foo {
	struct drm_bridge bridge;
	struct drm_bridge *next;
};

static int foo_attach(struct drm_bridge *bridge, struct drm_encoder *encoder,
		      enum drm_bridge_attach_flags flags)
{
	struct drm_bridge *next __free(drm_bridge_put) = of_drm_find_and_get_bridge(bridge->of_node);

	if (!next)
		return -EPROBE_DEFER;
	return drm_bridge_attach(encoder, next, bridge, flags);
}

static int foo_find(struct foo *ctx, struct device_node *np)
{
	struct drm_bridge *b;
	int ret;

	b = of_drm_find_and_get_bridge(np);
	if (IS_ERR(b))
		return PTR_ERR(b);
	ret = foo_check(b);
	if (ret) {
		drm_bridge_put(b);
		return ret;
	}
	ctx->next = b;
	return 0;
}

static int foo_correlated(struct foo *ctx, struct device_node *np)
{
	struct drm_bridge *b __free(drm_bridge_put) = NULL;
	struct drm_bridge *c;
	int ret = 0;

	c = of_drm_find_and_get_bridge(np);
	if (!c)
		ret = -EINVAL;
	if (ret)
		return ret;
	ctx->next = c;
	return 0;
}
