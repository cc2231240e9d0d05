use kmodel::*;

#[test]
fn two_threads_uaf_under_one_schedule() {
    let k = Kernel::new(Config::default());
    let stop = k.run(&mut ThreadOrder, |k| {
        let o = k.kzalloc("struct foo", "foo", 5u32);
        let m = k.mutex_init("m");
        let t1 = k.spawn("reader", move |k| {
            k.mutex_lock(m);
            k.mutex_unlock(m);
            let v = k.read(o, |v| *v);
            assert_eq!(v, 5);
        });
        k.spawn("freer", move |k| {
            k.kfree(o);
        });
        k.join(t1);
    });
    assert_eq!(stop, Stop::Finished);
    for v in k.violations() {
        println!("{}", k.render(&v));
    }
    println!("{}", k.schedule());
}
