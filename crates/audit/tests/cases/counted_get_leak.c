// audit-release: v7.1
// expect: counted-get-leak 17
// A counted lookup put on the success path only.
static int foo_attach(struct drm_bridge *bridge, struct drm_encoder *encoder,
		      enum drm_bridge_attach_flags flags)
{
	struct drm_bridge *next;
	int ret;

	next = of_drm_find_and_get_bridge(bridge->of_node);
	if (!next)
		return -EPROBE_DEFER;
	ret = drm_bridge_attach(encoder, next, bridge, flags);
	if (ret) {
		dev_err(bridge->dev, "attach failed\n");
		// The reference taken above is lost here.
		return ret;
	}
	drm_bridge_put(next);
	return 0;
}
