//! `linux/interrupt.h` and `linux/workqueue.h`: interrupt handlers and work items as model
//! threads.
//!
//! Firing an interrupt spawns a thread that runs the handler (a threaded IRQ), so the handler
//! races with everything else. `free_irq` and `disable_irq` wait for running handlers
//! (`synchronize_irq`); after `free_irq` (done by devres at unbind for `devm_request_threaded_irq`)
//! the interrupt is no longer delivered. Work items run in a kworker thread spawned when the
//! queued work is run; `cancel_work_sync` removes pending work and waits for a running one.
//!
//! Delivery and teardown exclude each other as `desc->lock` and the pool lock make them do:
//! a handler thread checks that its interrupt is still requested and enabled and registers
//! itself as running in one step, and `free_irq` drops the handler and takes the running list
//! in one step, so a handler never starts after `free_irq` has returned (nor a work function
//! after `cancel_work_sync`), as in `free_irq` (kernel/irq/manage.c) and `__cancel_work_sync`
//! (kernel/workqueue.c); neither file is in the corpus.

use std::rc::Rc;

use crate::device::DeviceId;
use crate::errno::Errno;
use crate::sched::{Kernel, ObjId, Tid};
use crate::slab::Obj;

/// A handler or work function.
pub type Handler = Rc<dyn Fn(&Kernel)>;

struct IrqState {
    name: String,
    handler: Option<Handler>,
    enabled: bool,
    running: Vec<Tid>,
}

/// A requested interrupt line.
///
/// # Invariants
///
/// Names an `IrqState` heap object of its kernel.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Irq(Obj<IrqState>);

impl Irq {
    pub fn id(self) -> ObjId {
        self.0.id()
    }
}

/// The `struct work_struct` itself: what its owner frees.
struct WorkState {
    name: String,
    func: Handler,
}

/// The workqueue's side of a work item: its pending bit and the kworkers running it (the
/// pool's `current_work`). It outlives the work_struct, as the pool does, so a kworker that
/// finds its item cancelled touches nothing its owner freed.
struct WorkPool {
    pending: bool,
    /// A `cancel_work_sync` holds the pending bit while it waits (`WORK_OFFQ_CANCELING`): a
    /// work that queues itself again meanwhile is not queued.
    canceling: bool,
    running: Vec<Tid>,
}

/// A work item (`struct work_struct`).
///
/// # Invariants
///
/// `0` names a `WorkState` heap object of its kernel, `1` a static `WorkPool`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Work(Obj<WorkState>, Obj<WorkPool>);

/// The kernel's list of queued work items.
#[derive(Copy, Clone)]
struct Workqueue(Obj<Vec<Work>>);

impl Kernel {
    /// `devm_request_threaded_irq`: the handler runs in its own thread each time the interrupt
    /// fires; devres frees the IRQ (waiting for running handlers) when `dev` unbinds.
    pub fn devm_request_threaded_irq(
        &self,
        dev: DeviceId,
        name: &str,
        handler: Handler,
    ) -> Result<Irq, Errno> {
        let _f = self.func("devm_request_threaded_irq");
        let full = format!("{}:{name}", self.dev_name(dev));
        let irq = Irq(self.static_obj(
            "struct irq_desc",
            full.clone(),
            IrqState {
                name: full,
                handler: Some(handler),
                enabled: true,
                running: Vec::new(),
            },
        ));
        self.devm_add_action_or_reset(dev, "devm_irq_release", irq.id().0 as u64, move |k| {
            k.free_irq(irq)
        })?;
        Ok(irq)
    }

    /// The hardware raises the interrupt: if it is requested and enabled, a thread runs the
    /// handler. Returns the handler thread.
    pub fn fire_irq(&self, irq: Irq) -> Option<Tid> {
        let _f = self.func("generic_handle_irq");
        let (name, handler, enabled) =
            self.read(irq.0, |s| (s.name.clone(), s.handler.clone(), s.enabled));
        handler.filter(|_| enabled)?;
        let t = self.spawn(&format!("irq/{name}"), move |k| {
            let _f = k.func("irq_thread");
            // Still requested and enabled now? Then it runs, and free_irq waits for it.
            let me = k.current();
            let handler = k.write(irq.0, |s| {
                let h = s.handler.clone().filter(|_| s.enabled)?;
                s.running.push(me);
                Some(h)
            });
            if let Some(handler) = handler {
                handler(k);
            }
        });
        Some(t)
    }

    /// `synchronize_irq`: wait for every handler thread of this interrupt to finish.
    pub fn synchronize_irq(&self, irq: Irq) {
        let _f = self.func("synchronize_irq");
        let running = self.read(irq.0, |s| s.running.clone());
        self.join_others(running);
    }

    /// `disable_irq`: stop delivery and wait for running handlers.
    pub fn disable_irq(&self, irq: Irq) {
        self.write(irq.0, |s| s.enabled = false);
        self.synchronize_irq(irq);
    }

    /// `enable_irq`.
    pub fn enable_irq(&self, irq: Irq) {
        self.write(irq.0, |s| s.enabled = true);
    }

    /// `free_irq`: never deliver it again, then wait for the handlers already running.
    pub fn free_irq(&self, irq: Irq) {
        let _f = self.func("free_irq");
        let running = self.write(irq.0, |s| {
            s.handler = None;
            s.running.clone()
        });
        self.join_others(running);
    }

    /// Wait for each of `threads` but the current one.
    fn join_others(&self, threads: Vec<Tid>) {
        let me = self.current();
        for t in threads.into_iter().filter(|&t| t != me) {
            self.join(t);
        }
    }

    fn workqueue(&self) -> Workqueue {
        self.global(|k| Workqueue(k.static_obj("struct workqueue_struct", "system_wq", Vec::new())))
    }

    /// `INIT_WORK`.
    pub fn init_work(&self, name: &str, func: Handler) -> Work {
        Work(
            self.kzalloc(
                "struct work_struct",
                name.to_string(),
                WorkState {
                    name: name.to_string(),
                    func,
                },
            ),
            self.static_obj(
                "struct worker_pool",
                name.to_string(),
                WorkPool {
                    pending: false,
                    canceling: false,
                    running: Vec::new(),
                },
            ),
        )
    }

    /// `queue_work(system_wq, w)`: returns false if it was already pending.
    pub fn queue_work(&self, w: Work) -> bool {
        let _f = self.func("queue_work");
        // test_and_set_bit(WORK_STRUCT_PENDING_BIT): one step.
        if self.write(w.1, |s| {
            s.canceling || std::mem::replace(&mut s.pending, true)
        }) {
            return false;
        }
        let wq = self.workqueue();
        self.write(wq.0, |q| q.push(w));
        true
    }

    /// A kworker runs every queued item, each in its own kworker thread (spawned here, in
    /// queue order). Returns the kworker threads. A kworker takes its item in one step: it
    /// clears the pending bit and registers as running (`current_work`), or, if a cancel came
    /// first, does nothing.
    pub fn run_queued_work(&self) -> Vec<Tid> {
        let _f = self.func("process_one_work");
        let wq = self.workqueue();
        let items = self.write(wq.0, std::mem::take);
        let mut threads = Vec::new();
        for w in items {
            if !self.read(w.1, |s| s.pending) {
                continue;
            }
            let (name, func) = self.read(w.0, |s| (s.name.clone(), s.func.clone()));
            let t = self.spawn(&format!("kworker/{name}"), move |k| {
                let me = k.current();
                let taken = k.write(w.1, |s| {
                    let taken = std::mem::replace(&mut s.pending, false);
                    if taken {
                        s.running.push(me);
                    }
                    taken
                });
                if taken {
                    func(k);
                }
            });
            threads.push(t);
        }
        threads
    }

    /// `cancel_work_sync`: drop it if pending, wait if it is running, and while waiting keep
    /// it from being queued again (a work that requeues itself ends with the cancel). Returns
    /// whether it was pending.
    pub fn cancel_work_sync(&self, w: Work) -> bool {
        let _f = self.func("cancel_work_sync");
        let (was, running) = self.write(w.1, |s| {
            s.canceling = true;
            (std::mem::replace(&mut s.pending, false), s.running.clone())
        });
        let wq = self.workqueue();
        self.write(wq.0, |q| q.retain(|&x| x != w));
        self.join_others(running);
        self.write(w.1, |s| s.canceling = false);
        was
    }

    /// Free a work item (its owner's release path). Cancel it first.
    pub fn destroy_work(&self, w: Work) {
        self.kfree(w.0);
    }

    /// Whether a work item is queued and not yet run.
    pub fn work_pending(&self, w: Work) -> bool {
        self.read(w.1, |s| s.pending)
    }
}

/// Touch-point for explorers and reports: the object a work item lives in.
impl Work {
    pub fn id(self) -> ObjId {
        self.0.id()
    }
}
