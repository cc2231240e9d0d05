//! Interrupt handlers and work items run as their own threads.

use std::rc::Rc;

use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::hw::HwKind;
use kmodel::*;

struct Nop;
impl Driver for Nop {
    fn name(&self) -> &'static str {
        "nop"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["x,nop"]
    }
    fn probe(&self, _k: &Kernel, _dev: DeviceId) -> Result<(), Errno> {
        Ok(())
    }
}

fn device(k: &Kernel) -> DeviceId {
    let bus = k.bus_register("platform");
    k.driver_register(bus, Rc::new(Nop));
    k.device_add(
        bus,
        DeviceInfo {
            name: "hdmi-connector".into(),
            compatible: vec!["x,nop".into()],
            ..Default::default()
        },
    )
}

/// `irq_first`: request the IRQ before the GPIO it reads (devres then frees the GPIO first).
fn hpd(sched: &mut dyn Scheduler, irq_first: bool) -> Kernel {
    let k = Kernel::new(Config::default());
    k.run(sched, move |k| {
        let dev = device(k);
        let gpio = (!irq_first).then(|| k.devm_hw_get(dev, HwKind::Gpio, "hpd"));
        let cell = k.kzalloc("cell", "gpio cell", None);
        if let Some(g) = gpio {
            k.write(cell, |c| *c = Some(g));
        }
        let irq = k
            .devm_request_threaded_irq(
                dev,
                "hpd",
                Rc::new(move |k: &Kernel| {
                    let g = k.read(cell, |c| *c);
                    if let Some(g) = g {
                        k.hw_access(g, "gpiod_get_value(hpd)");
                    }
                }),
            )
            .unwrap();
        if irq_first {
            let g = k.devm_hw_get(dev, HwKind::Gpio, "hpd");
            k.write(cell, |c| *c = Some(g));
        }
        let handler = k.fire_irq(irq).expect("delivered while requested");
        let unbind = k.spawn("unbind", move |k| k.device_release_driver(dev));
        k.join(unbind);
        k.join(handler);
        assert_eq!(k.fire_irq(irq), None, "not delivered after free_irq");
        k.device_del(dev);
        k.kfree(cell);
    });
    k
}

#[test]
fn free_irq_waits_for_the_running_handler() {
    // The unbind thread runs first: free_irq must wait for the handler, which then still
    // finds its GPIO (released after the IRQ, devres being LIFO).
    let k = hpd(&mut RoundRobin, false);
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}

/// Threads: init 0, handler 1, unbind 2. `first` runs its first two steps as soon as it can (the
/// handler or kworker taking its item), then unbind, init and the handler or kworker run in
/// that order of preference.
struct FirstStepThen {
    first: Tid,
    taken: u32,
}

impl Scheduler for FirstStepThen {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        // Its Begin step, then the step that takes the interrupt or the work item.
        if self.taken < 2 && view.is_enabled(self.first) {
            self.taken += 1;
            return Some(self.first);
        }
        [Tid(2), Tid(0), Tid(1)]
            .into_iter()
            .find(|&t| view.is_enabled(t))
    }
}

#[test]
fn an_irq_requested_before_its_resource_can_touch_it_after_release() {
    // The handler has started when the unbind runs to its end.
    let mut s = FirstStepThen {
        first: Tid(1),
        taken: 0,
    };
    let k = hpd(&mut s, true);
    let kinds: Vec<_> = k.violations().iter().map(|v| v.kind).collect();
    // The GPIO (newer) is released first; free_irq then waits for the handler, which reads
    // the released GPIO.
    assert_eq!(
        kinds,
        vec![ViolationKind::HwAfterUnplug],
        "{:?}",
        k.violations()
    );
}

/// A handler that has not started when free_irq runs never starts: free_irq and delivery
/// exclude each other (desc->lock), so nothing touches the device after its unbind.
#[test]
fn a_handler_not_started_before_free_irq_never_runs() {
    /// Let the unbind run to completion before the handler's first step.
    struct UnbindFirst;
    impl Scheduler for UnbindFirst {
        fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
            [Tid(2), Tid(0), Tid(1)]
                .into_iter()
                .find(|&t| view.is_enabled(t))
        }
    }
    let k = hpd(&mut UnbindFirst, true);
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}

#[test]
fn work_runs_in_a_kworker_and_cancel_waits() {
    let k = Kernel::new(Config::default());
    // The kworker (thread 1) takes its item, then init cancels: cancel waits for it.
    let mut s = FirstStepThen {
        first: Tid(1),
        taken: 0,
    };
    k.run(&mut s, |k| {
        let log = k.kzalloc("log", "log", Vec::<&str>::new());
        let w = k.init_work(
            "reset_work",
            Rc::new(move |k: &Kernel| k.write(log, |l| l.push("work ran"))),
        );
        assert!(k.queue_work(w));
        assert!(!k.queue_work(w), "already pending");
        assert!(k.work_pending(w));
        let workers = k.run_queued_work();
        assert_eq!(workers.len(), 1);
        assert_eq!(k.thread_name(workers[0]), "kworker/reset_work");
        assert!(!k.cancel_work_sync(w), "not pending any more");
        assert_eq!(
            k.read(log, |l| l.clone()),
            ["work ran"],
            "cancel_work_sync waited for it"
        );
        assert!(k.queue_work(w));
        assert!(k.cancel_work_sync(w), "pending work is dropped");
        assert!(k.run_queued_work().is_empty());
        k.destroy_work(w);
        k.kfree(log);
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}

/// Work handed to a kworker that has not taken it yet is still pending: cancel_work_sync
/// drops it and the kworker does nothing, so the work never runs after the cancel returns.
#[test]
fn a_cancel_before_the_kworker_takes_the_item_wins() {
    let k = Kernel::new(Config::default());
    // Thread order: init runs on until it waits, so the kworker starts only at the join.
    k.run(&mut ThreadOrder, |k| {
        let log = k.kzalloc("log", "log", Vec::<&str>::new());
        let w = k.init_work(
            "reset_work",
            Rc::new(move |k: &Kernel| k.write(log, |l| l.push("work ran"))),
        );
        assert!(k.queue_work(w));
        let late = k.run_queued_work();
        assert_eq!(late.len(), 1);
        assert!(
            k.cancel_work_sync(w),
            "still pending: the kworker has not taken it"
        );
        k.join(late[0]);
        assert!(
            k.read(log, |l| l.is_empty()),
            "the cancelled work never ran"
        );
        k.destroy_work(w);
        k.kfree(log);
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}

/// A work that queues itself again is stopped by cancel_work_sync, as the kernel's
/// WORK_OFFQ_CANCELING does: the running instance's requeue fails while the cancel waits, so
/// nothing of it is left queued after the cancel returns.
#[test]
fn a_self_requeueing_work_ends_with_the_cancel() {
    let k = Kernel::new(Config::default());
    // The kworker (thread 1) takes its item, then init cancels while it runs.
    let mut s = FirstStepThen {
        first: Tid(1),
        taken: 0,
    };
    k.run(&mut s, |k| {
        let slot: Rc<std::cell::Cell<Option<kmodel::interrupt::Work>>> = Rc::default();
        let me = slot.clone();
        let w = k.init_work(
            "monitor_work",
            Rc::new(move |k: &Kernel| {
                let w = me.get().expect("set before it runs");
                k.queue_work(w);
            }),
        );
        slot.set(Some(w));
        assert!(k.queue_work(w));
        let workers = k.run_queued_work();
        assert_eq!(workers.len(), 1);
        k.cancel_work_sync(w);
        assert!(
            !k.work_pending(w),
            "the requeue during the cancel did not stick"
        );
        assert!(k.run_queued_work().is_empty(), "nothing left queued");
        assert!(k.queue_work(w), "after the cancel it can be queued again");
        assert!(k.cancel_work_sync(w));
        k.destroy_work(w);
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
}
