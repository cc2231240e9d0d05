//! Shared fixtures: a test bridge driver that logs its callbacks, and run helpers.
#![allow(dead_code)]

pub mod testing;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use drm::bridge::{devm_drm_bridge_alloc, drm_bridge_name, DrmBridge, DrmBridgeFuncs};
use drm::drv::{drm_dev_alloc, DrmDevice};
use drm::encoder::{drmm_encoder_alloc, DrmEncoder};
use drm::{set_rules, Release, Rules};
use kmodel::device::{BusId, DeviceId, DeviceInfo};
use kmodel::{Config, Errno, Kernel, Stop, ThreadOrder, Violation, ViolationKind};

/// A log shared by the test and the driver callbacks (outside the model heap).
pub type Log = Rc<RefCell<Vec<String>>>;

pub fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

/// `struct drm_bridge_priv` of the KUnit suite: callbacks log "<bridge>:<callback>".
pub struct TestFuncs {
    pub log: Log,
    pub destroyed: Rc<Cell<bool>>,
    pub attach_err: Option<Errno>,
}

impl TestFuncs {
    fn note(&self, k: &Kernel, b: DrmBridge, what: &str) {
        self.log
            .borrow_mut()
            .push(format!("{}:{what}", drm_bridge_name(k, b)));
    }
}

impl DrmBridgeFuncs for TestFuncs {
    fn attach(&self, k: &Kernel, b: DrmBridge, _e: DrmEncoder, _f: u32) -> Result<(), Errno> {
        self.note(k, b, "attach");
        match self.attach_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    fn detach(&self, k: &Kernel, b: DrmBridge) {
        self.note(k, b, "detach");
    }
    fn destroy(&self, k: &Kernel, b: DrmBridge) {
        self.destroyed.set(true);
        self.note(k, b, "destroy");
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        self.note(k, b, "pre_enable");
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        self.note(k, b, "enable");
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        self.note(k, b, "disable");
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        self.note(k, b, "post_disable");
    }
    fn is_atomic(&self) -> bool {
        true
    }
}

/// A test bridge: its callbacks, its destroyed flag and its log.
pub struct Tb {
    pub bridge: DrmBridge,
    pub destroyed: Rc<Cell<bool>>,
}

/// `devm_drm_bridge_alloc` of a test bridge on `dev`.
pub fn alloc(k: &Kernel, dev: DeviceId, name: &str, log: &Log) -> Tb {
    alloc_with(k, dev, name, log, None)
}

pub fn alloc_with(
    k: &Kernel,
    dev: DeviceId,
    name: &str,
    log: &Log,
    attach_err: Option<Errno>,
) -> Tb {
    let destroyed = Rc::new(Cell::new(false));
    let funcs = Rc::new(TestFuncs {
        log: log.clone(),
        destroyed: destroyed.clone(),
        attach_err,
    });
    let bridge = devm_drm_bridge_alloc(k, dev, "struct drm_bridge_priv", name, Some(funcs), ())
        .expect("alloc");
    Tb { bridge, destroyed }
}

/// A bare device with no driver (`kunit_device_register`): devres runs at `device_del`.
pub fn bare_device(k: &Kernel, name: &str) -> DeviceId {
    let bus = bus(k);
    k.device_add(
        bus,
        DeviceInfo {
            name: name.into(),
            ..Default::default()
        },
    )
}

#[derive(Copy, Clone)]
struct TestBus(BusId);

pub fn bus(k: &Kernel) -> BusId {
    k.global(|k| TestBus(k.bus_register("kunit"))).0
}

/// Owner of the test's own `drm_device` reference.
pub const TEST: &str = "test";

/// A `drm_device` (first reference owned by [`TEST`]) with one drmm encoder.
pub fn drm_with_encoder(k: &Kernel, parent: DeviceId) -> (DrmDevice, DrmEncoder) {
    let drm = drm_dev_alloc(k, parent, "card0", TEST);
    let enc = drmm_encoder_alloc(k, drm, "encoder-0").expect("encoder");
    (drm, enc)
}

/// Run `f` under `release` with leak checking, and return the kernel.
pub fn run(release: Release, f: impl FnOnce(&Kernel) + 'static) -> Kernel {
    run_rules(Rules::for_release(release), f)
}

pub fn run_rules(rules: Rules, f: impl FnOnce(&Kernel) + 'static) -> Kernel {
    let k = Kernel::new(Config::default());
    let stop = k.run(&mut ThreadOrder, move |k| {
        set_rules(k, rules);
        f(k)
    });
    assert_eq!(stop, Stop::Finished);
    k
}

/// Assert that the run reported nothing, printing the reports otherwise.
pub fn assert_clean(k: &Kernel) {
    let v = k.violations();
    let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
    assert!(v.is_empty(), "unexpected reports:\n{}", all.join("\n"));
}

/// The kinds reported, in order.
pub fn kinds(k: &Kernel) -> Vec<ViolationKind> {
    k.violations().iter().map(|v| v.kind).collect()
}

/// The violations of `kind`.
pub fn of_kind(k: &Kernel, kind: ViolationKind) -> Vec<Violation> {
    k.violations()
        .into_iter()
        .filter(|v| v.kind == kind)
        .collect()
}

/// The sorted owners of a bridge's references, as "owner" or "owner xN".
pub fn owners(k: &Kernel, b: DrmBridge) -> Vec<String> {
    let mut o: Vec<String> = drm::bridge::drm_bridge_owners(k, b)
        .into_iter()
        .map(|(n, c)| if c == 1 { n } else { format!("{n} x{c}") })
        .collect();
    o.sort();
    o
}

/// Preempt at every scheduling point: the next enabled thread after the current one.
pub struct RoundRobin;

impl kmodel::Scheduler for RoundRobin {
    fn choose(&mut self, v: &kmodel::SchedView<'_>) -> Option<kmodel::Tid> {
        let n = v.threads.len() as u32;
        let cur = v.current.map(|t| t.0).unwrap_or(0);
        (1..=n)
            .map(|i| kmodel::Tid((cur + i) % n))
            .find(|&t| v.is_enabled(t))
    }
}

/// Run `f` under `rules` with the [`RoundRobin`] scheduler.
pub fn run_rr(rules: Rules, f: impl FnOnce(&Kernel) + 'static) -> Kernel {
    let k = Kernel::new(Config::default());
    let stop = k.run(&mut RoundRobin, move |k| {
        set_rules(k, rules);
        f(k)
    });
    assert_eq!(stop, Stop::Finished);
    k
}

/// The kernel log lines (`DRM_WARN`, `drm_warn`) the run printed, in order: model events,
/// not violations.
pub fn log_lines(k: &Kernel, prefix: &str) -> Vec<String> {
    k.trace()
        .events
        .into_iter()
        .filter_map(|e| match e {
            kmodel::trace::Event::Model { what, .. } if what.starts_with(prefix) => Some(what),
            _ => None,
        })
        .collect()
}
