// audit-release: v7.1
// expect: none
// The same probe with its teardown: the work cancelled and the IRQ freed in remove, and a
// counted next bridge.
struct foo {
	struct drm_bridge bridge;
	struct drm_bridge *next;
	struct work_struct hpd_work;
	int irq;
};

static void foo_hpd_work(struct work_struct *w)
{
}

static irqreturn_t foo_irq(int irq, void *data)
{
	return IRQ_HANDLED;
}

static int foo_probe(struct i2c_client *client)
{
	struct foo *ctx = devm_drm_bridge_alloc(&client->dev, struct foo, bridge, &foo_funcs);

	INIT_WORK(&ctx->hpd_work, foo_hpd_work);
	ctx->irq = client->irq;
	request_threaded_irq(ctx->irq, NULL, foo_irq, IRQF_ONESHOT, "foo", ctx);
	ctx->next = of_drm_find_and_get_bridge(client->dev.of_node);
	return 0;
}

static void foo_teardown(struct foo *ctx)
{
	free_irq(ctx->irq, ctx);
	cancel_work_sync(&ctx->hpd_work);
}

static void foo_remove(struct i2c_client *client)
{
	struct foo *ctx = i2c_get_clientdata(client);

	drm_bridge_remove(&ctx->bridge);
	foo_teardown(ctx);
}

static struct i2c_driver foo_driver = {
	.driver = { .name = "foo", },
	.probe = foo_probe,
	.remove = foo_remove,
};
