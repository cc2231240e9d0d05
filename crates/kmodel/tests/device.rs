//! The device model: matching, deferred probe, remove and devres ordering.

use std::rc::Rc;

use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::trace::{DeviceEvent, Event};
use kmodel::*;

/// Appends to a shared log so tests can assert ordering.
type Log = Obj<Vec<String>>;

struct Supplier;
impl Driver for Supplier {
    fn name(&self) -> &'static str {
        "reg-fixed-voltage"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["regulator-fixed"]
    }
    fn probe(&self, _k: &Kernel, _dev: DeviceId) -> Result<(), Errno> {
        Ok(())
    }
}

/// A consumer that defers until a device named "vcc" is bound, then registers three devres
/// actions that log their order.
struct Consumer {
    log: Log,
}
impl Driver for Consumer {
    fn name(&self) -> &'static str {
        "panel-simple"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["panel-simple"]
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let log = self.log;
        k.write(log, |l| l.push("probe".into()));
        let supplier_bound = k
            .devices()
            .into_iter()
            .any(|d| k.dev_name(d) == "vcc" && k.device_is_bound(d));
        // A devres action registered before the deferral must run at the failed probe.
        k.devm_add_action(dev, "early", 0, move |k| {
            k.write(log, |l| l.push("release early".into()))
        })?;
        if !supplier_bound {
            return Err(Errno::EPROBE_DEFER);
        }
        for name in ["first", "second", "third"] {
            k.devm_add_action(dev, name, 1, move |k| {
                k.write(log, |l| l.push(format!("release {name}")))
            })?;
        }
        Ok(())
    }
    fn remove(&self, k: &Kernel, _dev: DeviceId) {
        k.write(self.log, |l| l.push("remove".into()));
    }
}

fn info(name: &str, compat: &str) -> DeviceInfo {
    DeviceInfo {
        name: name.into(),
        compatible: vec![compat.into()],
        ..Default::default()
    }
}

#[test]
fn deferred_probe_succeeds_after_supplier_binds_and_devres_runs_lifo_after_remove() {
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, |k| {
        let log: Log = k.kzalloc("log", "log", Vec::new());
        let bus = k.bus_register("platform");
        k.driver_register(bus, Rc::new(Consumer { log }));
        let panel = k.device_add(bus, info("panel", "panel-simple"));
        assert!(k.device_is_deferred(panel) && !k.device_is_bound(panel));
        let vcc = k.device_add(bus, info("vcc", "regulator-fixed"));
        assert!(!k.device_is_bound(vcc), "no supplier driver yet");
        assert!(k.device_is_deferred(panel));
        k.driver_register(bus, Rc::new(Supplier));
        assert!(k.device_is_bound(vcc));
        assert!(k.device_is_bound(panel), "retried when the supplier bound");
        assert!(!k.device_is_deferred(panel));
        k.device_release_driver(panel);
        let l = k.read(log, |l| l.clone());
        assert_eq!(
            l,
            [
                "probe",
                "release early",
                "probe",
                "remove",
                "release third",
                "release second",
                "release first",
                "release early"
            ]
        );
        k.device_del(panel);
        k.device_del(vcc);
        k.kfree(log);
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
    let evs: Vec<DeviceEvent> = k
        .trace()
        .events
        .into_iter()
        .filter_map(|e| match e {
            Event::Device {
                dev: DeviceId(0),
                what,
                ..
            } => Some(what),
            _ => None,
        })
        .collect();
    assert_eq!(evs[0], DeviceEvent::Add);
    assert!(evs.contains(&DeviceEvent::Deferred {
        driver: "panel-simple".into()
    }));
    assert!(evs.contains(&DeviceEvent::Bound {
        driver: "panel-simple".into()
    }));
    assert_eq!(evs.last(), Some(&DeviceEvent::Del));
}

#[test]
fn devm_add_action_or_reset_runs_the_action_when_registration_fails() {
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, |k| {
        let log: Log = k.kzalloc("log", "log", Vec::new());
        let bus = k.bus_register("platform");
        let dev = k.device_add(bus, info("dev", "none"));
        k.devres_inject_enomem(dev);
        let r = k.devm_add_action_or_reset(dev, "put", 0, move |k| {
            k.write(log, |l| l.push("ran".into()))
        });
        assert_eq!(r, Err(Errno::ENOMEM));
        assert_eq!(k.read(log, |l| l.clone()), ["ran"]);
        k.devres_inject_enomem(dev);
        let r = k.devm_add_action(dev, "put", 0, move |k| {
            k.write(log, |l| l.push("never".into()))
        });
        assert_eq!(r, Err(Errno::ENOMEM));
        k.devm_add_action(dev, "put", 7, move |k| {
            k.write(log, |l| l.push("released early".into()))
        })
        .unwrap();
        assert!(k.devres_find(dev, "put", 7));
        k.devm_release_action(dev, "put", 7);
        assert!(!k.devres_find(dev, "put", 7));
        k.device_del(dev);
        assert_eq!(k.read(log, |l| l.clone()), ["ran", "released early"]);
        k.kfree(log);
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}

#[test]
fn probe_error_releases_devres_and_does_not_defer() {
    struct Failing;
    impl Driver for Failing {
        fn name(&self) -> &'static str {
            "failing"
        }
        fn of_match_table(&self) -> &[&'static str] {
            &["x,failing"]
        }
        fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
            let o = k.devm_kzalloc(dev, "struct priv", "priv", 0u8)?;
            k.write(o, |v| *v = 1);
            Err(Errno::EINVAL)
        }
    }
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, |k| {
        let bus = k.bus_register("platform");
        k.driver_register(bus, Rc::new(Failing));
        let dev = k.device_add(bus, info("f", "x,failing"));
        assert!(!k.device_is_bound(dev) && !k.device_is_deferred(dev));
        k.device_del(dev);
    });
    // devm_kzalloc memory was freed at the failed probe: nothing leaks.
    assert!(k.violations().is_empty(), "{:?}", k.violations());
    assert!(k.trace().events.iter().any(|e| matches!(
        e,
        Event::Device {
            what: DeviceEvent::ProbeFailed { errno: 22, .. },
            ..
        }
    )));
}

#[test]
fn a_linked_consumer_unbinds_before_its_supplier() {
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, |k| {
        let log: Log = k.kzalloc("log", "log", Vec::new());
        let bus = k.bus_register("platform");
        k.driver_register(bus, Rc::new(Supplier));
        k.driver_register(bus, Rc::new(Consumer { log }));
        let vcc = k.device_add(bus, info("vcc", "regulator-fixed"));
        let panel = k.device_add(bus, info("panel", "panel-simple"));
        k.device_link_add(panel, vcc);
        assert!(k.device_is_bound(panel));
        k.device_del(vcc);
        assert!(!k.device_is_bound(panel), "the consumer was unbound first");
        let l = k.read(log, |l| l.clone());
        assert_eq!(l.last().map(String::as_str), Some("release early"));
        k.device_del(panel);
        k.kfree(log);
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}
