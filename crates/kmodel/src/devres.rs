//! `drivers/base/devres.c`: device-managed actions.
//!
//! Actions sit on the device's devres list and run in reverse registration order (LIFO) when
//! the driver unbinds (after `remove`) or when probe fails. Each runs exactly once: it is taken
//! off the list (under the devres lock, one step) before it runs.

use crate::device::{DeviceId, DevresAction, DevresEntry};
use crate::errno::Errno;
use crate::report::ViolationKind;
use crate::sched::{Access, AccessKind, Kernel};
use crate::slab::Obj;
use crate::trace::DeviceEvent;

impl Kernel {
    fn devres_point(&self, dev: DeviceId) {
        let obj = self.dev_rec(dev, |d| d.devres_obj);
        self.point(Access::new(obj, AccessKind::ListWrite));
    }

    /// Queue an action; on an injected failure hand it back unrun.
    fn devres_add(
        &self,
        dev: DeviceId,
        name: &'static str,
        data: u64,
        action: DevresAction,
    ) -> Result<(), DevresAction> {
        self.devres_point(dev);
        if self.dev_rec(dev, |d| std::mem::take(&mut d.fail_next_devres)) {
            return Err(action);
        }
        self.dev_rec(dev, |d| d.devres.push(DevresEntry { name, data, action }));
        Ok(())
    }

    /// `devm_add_action(dev, action, data)`: `name` and `data` identify the action for
    /// [`Kernel::devm_release_action`], as the kernel matches on the function and its data.
    /// Fails with `-ENOMEM` when a failure was injected with
    /// [`Kernel::devres_inject_enomem`]; the action is then dropped without running.
    pub fn devm_add_action(
        &self,
        dev: DeviceId,
        name: &'static str,
        data: u64,
        action: impl FnOnce(&Kernel) + 'static,
    ) -> Result<(), Errno> {
        let _f = self.func("devm_add_action");
        self.devres_add(dev, name, data, Box::new(action))
            .map_err(|_| Errno::ENOMEM)
    }

    /// `devm_add_action_or_reset`: like [`Kernel::devm_add_action`], but when registration
    /// fails the action runs at once and the error is returned.
    pub fn devm_add_action_or_reset(
        &self,
        dev: DeviceId,
        name: &'static str,
        data: u64,
        action: impl FnOnce(&Kernel) + 'static,
    ) -> Result<(), Errno> {
        let _f = self.func("devm_add_action_or_reset");
        self.devres_add(dev, name, data, Box::new(action))
            .map_err(|action| {
                action(self);
                Errno::ENOMEM
            })
    }

    /// Make the next devres registration on `dev` fail with `-ENOMEM` (fault injection).
    pub fn devres_inject_enomem(&self, dev: DeviceId) {
        self.dev_rec(dev, |d| d.fail_next_devres = true);
    }

    /// `devm_release_action`: remove the newest matching action and run it now. WARNs when no
    /// action matches.
    pub fn devm_release_action(&self, dev: DeviceId, name: &'static str, data: u64) {
        let _f = self.func("devm_release_action");
        self.devres_point(dev);
        let entry = self.dev_rec(dev, |d| {
            let i = d
                .devres
                .iter()
                .rposition(|e| e.name == name && e.data == data)?;
            Some(d.devres.remove(i))
        });
        match entry {
            Some(e) => {
                self.dev_event(
                    dev,
                    DeviceEvent::DevresRun {
                        action: e.name.to_string(),
                    },
                );
                (e.action)(self);
            }
            None => self.violation(
                ViolationKind::Warn,
                None,
                None,
                format!(
                    "devm_release_action: no devres action {name} on {}",
                    self.dev_name(dev)
                ),
            ),
        }
    }

    /// Whether an action is registered (`devres_find`). Reads the devres list.
    pub fn devres_find(&self, dev: DeviceId, name: &'static str, data: u64) -> bool {
        self.devres_point(dev);
        self.dev_rec(dev, |d| {
            d.devres.iter().any(|e| e.name == name && e.data == data)
        })
    }

    /// `devres_release_all`: run every action, newest first.
    pub(crate) fn devres_release_all(&self, dev: DeviceId) {
        let _f = self.func("devres_release_all");
        loop {
            self.devres_point(dev);
            let Some(e) = self.dev_rec(dev, |d| d.devres.pop()) else {
                return;
            };
            self.dev_event(
                dev,
                DeviceEvent::DevresRun {
                    action: e.name.to_string(),
                },
            );
            (e.action)(self);
        }
    }

    /// `devm_kzalloc`: heap memory freed when the device unbinds.
    pub fn devm_kzalloc<T: 'static>(
        &self,
        dev: DeviceId,
        ty: &'static str,
        name: impl Into<String>,
        value: T,
    ) -> Result<Obj<T>, Errno> {
        let _f = self.func("devm_kzalloc");
        let obj = self.kzalloc(ty, name, value);
        self.devm_add_action_or_reset(dev, "devm_kfree", obj.id().0 as u64, move |k| k.kfree(obj))?;
        Ok(obj)
    }
}
