//! Device resources a driver touches: regulators, GPIOs, I2C/regmap and IRQs.
//!
//! They belong to the device that got them and are revoked when it unbinds (devres) or when
//! its hardware is marked gone (an unplug). Touching one afterwards is reported as "hardware
//! access after unplug"; disabling one more often than it was enabled is a double release, as
//! the regulator core's "unbalanced disables" warning.

use crate::device::DeviceId;
use crate::report::ViolationKind;
use crate::sched::{Access, AccessKind, Kernel, ObjId};
use crate::{ObjKind, State};

/// The kind of a device resource.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HwKind {
    Regulator,
    Gpio,
    I2c,
    Irq,
}

impl HwKind {
    fn ty(self) -> &'static str {
        match self {
            HwKind::Regulator => "struct regulator",
            HwKind::Gpio => "struct gpio_desc",
            HwKind::I2c => "struct regmap",
            HwKind::Irq => "irq",
        }
    }
}

/// A device resource.
///
/// # Invariants
///
/// Always names a [`HwRec`] in its kernel's object table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hw(ObjId);

impl Hw {
    pub fn id(self) -> ObjId {
        self.0
    }
}

pub(crate) struct HwRec {
    pub dev: DeviceId,
    #[allow(dead_code)]
    pub kind: HwKind,
    pub enabled: u32,
    /// Released by devres at unbind.
    pub revoked: bool,
    /// The hardware is gone (unplugged).
    pub gone: bool,
}

impl State {
    fn hw(&mut self, h: Hw) -> &mut HwRec {
        match &mut self.obj_mut(h.0).kind {
            ObjKind::Hw(r) => r,
            _ => unreachable!("not a device resource"),
        }
    }
}

impl Kernel {
    /// `devm_regulator_get` / `devm_gpiod_get` / `devm_regmap_init_i2c` /
    /// `devm_request_threaded_irq`: a resource of `dev`, revoked when `dev` unbinds.
    pub fn devm_hw_get(&self, dev: DeviceId, kind: HwKind, name: &str) -> Hw {
        let _f = self.func("devm_hw_get");
        let h = {
            let mut st = self.st.borrow_mut();
            let full = format!("{} {name}", st.devices.devices[dev.0 as usize].info.name);
            Hw(st.new_object(
                kind.ty(),
                full,
                ObjKind::Hw(HwRec {
                    dev,
                    kind,
                    enabled: 0,
                    revoked: false,
                    gone: false,
                }),
            ))
        };
        // A failure to register leaves the resource unrevoked; the model never injects one here.
        let _ = self.devm_add_action(dev, "devm_hw_release", h.0 .0 as u64, move |k| {
            k.point(Access::new(h.0, AccessKind::Write));
            k.st.borrow_mut().hw(h).revoked = true;
        });
        h
    }

    /// Touch the hardware behind `h` (a register access, a GPIO set, an I2C transfer).
    pub fn hw_access(&self, h: Hw, what: &str) {
        self.point(Access::new(h.0, AccessKind::Write));
        let (revoked, gone) = {
            let mut st = self.st.borrow_mut();
            let r = st.hw(h);
            (r.revoked, r.gone)
        };
        if revoked || gone {
            let why = if revoked {
                "after its device was unbound"
            } else {
                "after the hardware was unplugged"
            };
            self.violation(
                ViolationKind::HwAfterUnplug,
                Some(h.0),
                Some(AccessKind::Write),
                format!("{what} {why}"),
            );
        }
    }

    /// `regulator_enable` / `enable_irq` / `gpiod_set_value(1)`.
    pub fn hw_enable(&self, h: Hw) {
        self.hw_access(h, "enable");
        self.st.borrow_mut().hw(h).enabled += 1;
    }

    /// `regulator_disable` / `disable_irq`. One disable more than enables is a double release.
    pub fn hw_disable(&self, h: Hw) {
        self.hw_access(h, "disable");
        let under = {
            let mut st = self.st.borrow_mut();
            let r = st.hw(h);
            if r.enabled == 0 {
                true
            } else {
                r.enabled -= 1;
                false
            }
        };
        if under {
            self.violation(
                ViolationKind::DoubleRelease,
                Some(h.0),
                None,
                "unbalanced disables".into(),
            );
        }
    }

    /// Mark every resource of `dev` as gone: the hardware was physically removed. Each
    /// resource is its own step, so an explorer orders the removal against every access.
    pub fn hw_mark_gone(&self, dev: DeviceId) {
        let ids: Vec<ObjId> = {
            let st = self.st.borrow();
            st.objects
                .iter()
                .enumerate()
                .filter(|(_, o)| matches!(&o.kind, ObjKind::Hw(r) if r.dev == dev))
                .map(|(i, _)| ObjId(i as u32))
                .collect()
        };
        for id in ids {
            self.point(Access::new(id, AccessKind::Write));
            self.st.borrow_mut().hw(Hw(id)).gone = true;
        }
    }

    /// How many times the resource is enabled now. Model introspection.
    pub fn hw_enabled(&self, h: Hw) -> u32 {
        self.st.borrow_mut().hw(h).enabled
    }
}
