// The same bridge with its teardown: remove frees the interrupt and cancels the work, so no
// kworker runs it after the add-on is unplugged (the corrected twin of work_uncancelled.c).
// Written for the tests; not kernel code.
struct wk {
	struct drm_bridge bridge;
	struct drm_bridge *next_bridge;
	struct regmap *regmap;
	struct work_struct reset_work;
	int irq;
};

static const struct of_device_id wk_match[] = {
	{ .compatible = "bridgesim,work-bridge" },
	{ }
};

static void wk_reset_work(struct work_struct *ws)
{
	struct wk *ctx = container_of(ws, struct wk, reset_work);

	regmap_write(ctx->regmap, 0x09, 1);
}

static irqreturn_t wk_irq(int irq, void *data)
{
	struct wk *ctx = data;

	schedule_work(&ctx->reset_work);
	return IRQ_HANDLED;
}

static int wk_attach(struct drm_bridge *bridge, struct drm_encoder *encoder,
		     enum drm_bridge_attach_flags flags)
{
	struct wk *ctx = container_of(bridge, struct wk, bridge);

	return drm_bridge_attach(encoder, ctx->next_bridge, bridge, flags);
}

static const struct drm_bridge_funcs wk_funcs = {
	.attach = wk_attach,
};

static int wk_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct wk *ctx;
	int ret;

	ctx = devm_drm_bridge_alloc(dev, struct wk, bridge, &wk_funcs);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	INIT_WORK(&ctx->reset_work, wk_reset_work);
	ctx->next_bridge = devm_drm_of_get_bridge(dev, dev->of_node, 1, 0);
	if (IS_ERR(ctx->next_bridge))
		return PTR_ERR(ctx->next_bridge);
	ctx->regmap = devm_regmap_init_i2c(client, &wk_regmap_config);
	if (IS_ERR(ctx->regmap))
		return PTR_ERR(ctx->regmap);
	ctx->irq = client->irq;
	ret = devm_request_threaded_irq(dev, ctx->irq, NULL, wk_irq, IRQF_ONESHOT, "wk", ctx);
	if (ret)
		return ret;
	drm_bridge_add(&ctx->bridge);
	return 0;
}

static void wk_remove(struct i2c_client *client)
{
	struct wk *ctx = i2c_get_clientdata(client);

	drm_bridge_remove(&ctx->bridge);
	disable_irq(ctx->irq);
	cancel_work_sync(&ctx->reset_work);
}

static struct i2c_driver wk_driver = {
	.driver = { .name = "wk", .of_match_table = wk_match, },
	.probe = wk_probe,
	.remove = wk_remove,
};
