//! The planted IRQ/unbind race, a program that uses kmodel's device layer: it lives with
//! the tests, not in `explore::models`, which only use the runtime's primitives (the
//! explorer knows nothing of devices). Included by the tests with `#[path]`.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use explore::Program;
use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

struct IrqDriver {
    irq: Rc<Cell<Option<Hw>>>,
}

impl Driver for IrqDriver {
    fn name(&self) -> &'static str {
        "acme-irq"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["acme,irq"]
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        self.irq.set(Some(k.devm_hw_get(dev, HwKind::Irq, "irq")));
        Ok(())
    }
}

/// Planted race (b): an interrupt handler touches its device's IRQ resource while an unbind
/// (`device_release_driver`) revokes it. With `fixed`, the handler runs under the device
/// lock and checks that the device is still bound (as a threaded handler synchronised with
/// remove would).
#[allow(dead_code)]
pub fn irq_unbind(fixed: bool) -> Program {
    Arc::new(move |k: &Kernel| {
        let bus = k.bus_register("platform");
        let cell = Rc::new(Cell::new(None));
        k.driver_register(bus, Rc::new(IrqDriver { irq: cell.clone() }));
        let dev = k.device_add(
            bus,
            DeviceInfo {
                name: "irqdev".into(),
                compatible: vec!["acme,irq".into()],
                ..Default::default()
            },
        );
        let h = cell.get().expect("probe got the IRQ");
        let irq = k.spawn("irq", move |k| {
            if fixed {
                k.device_lock(dev);
                if k.device_is_bound(dev) {
                    k.hw_access(h, "read IRQ status");
                }
                k.device_unlock(dev);
            } else {
                k.hw_access(h, "read IRQ status");
            }
        });
        let unbind = k.spawn("unbind", move |k| k.device_release_driver(dev));
        k.join(irq);
        k.join(unbind);
    })
}

/// Planted race (b), buggy.
#[allow(dead_code)] // not every including test uses both
pub fn irq_unbind_race() -> Program {
    irq_unbind(false)
}
