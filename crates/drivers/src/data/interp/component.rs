//! The component framework's calls (crate::component) and the encoder a component makes at its
//! master's bind (`drmm_simple_encoder_alloc`, with a bridge embedded in the same struct whose
//! funcs are set by hand): docs/driver-format.md, "Components".

use std::rc::Rc;
use std::sync::Arc;

use drm::bridge::{drm_bridge_set_funcs, drmm_simple_encoder_alloc_with_bridge, DrmBridgeFuncs};
use drm::drv::DrmDevice;
use drm::encoder::drmm_encoder_alloc;
use kmodel::device::DeviceId;
use kmodel::{Errno, Kernel};

use super::{intern, Ctx, DataFuncs, Frame, Val};
use crate::component::{
    component_add, component_bind_all, component_del, component_master_add_with_match,
    component_master_del, component_unbind_all, AggregateOps, ComponentOps,
};
use crate::data::format::{Call, CallName, Description, Slot};

/// A data driver's `component_ops`: its `bind` and `unbind` callbacks, on its container.
struct DataComponent {
    desc: Arc<Description>,
    dev: DeviceId,
    ctx: Ctx,
}

impl DataComponent {
    fn run(&self, k: &Kernel, slot: Slot, drm: DrmDevice) -> Result<(), Errno> {
        let mut fr = Frame::new(k, self.desc.clone(), self.dev, Some(self.ctx));
        fr.bind_data = Some(drm);
        fr.run_slot(slot)
    }
}

impl ComponentOps for DataComponent {
    fn bind(&self, k: &Kernel, _master: DeviceId, drm: DrmDevice) -> Result<(), Errno> {
        self.run(k, Slot::Bind, drm)
    }
    fn unbind(&self, k: &Kernel, _master: DeviceId, drm: DrmDevice) {
        let _ = self.run(k, Slot::Unbind, drm);
    }
}

/// A data driver's `component_master_ops`: its `bind` and `unbind` callbacks.
struct DataAggregate {
    desc: Arc<Description>,
    ctx: Ctx,
}

impl AggregateOps for DataAggregate {
    fn bind(&self, k: &Kernel, master: DeviceId) -> Result<(), Errno> {
        Frame::new(k, self.desc.clone(), master, Some(self.ctx)).run_slot(Slot::Bind)
    }
    fn unbind(&self, k: &Kernel, master: DeviceId) {
        let _ = Frame::new(k, self.desc.clone(), master, Some(self.ctx)).run_slot(Slot::Unbind);
    }
}

impl Frame<'_> {
    fn need_ctx(&self, c: &Call) -> Result<Ctx, Errno> {
        self.ctx.ok_or_else(|| {
            self.k.warn(format!(
                "{}: `{}` before the container is allocated ({})",
                self.desc.name, c.name, c.at
            ));
            Errno::EINVAL
        })
    }

    /// The OF nodes `drm_of_component_probe` matches
    /// (v6.17:drivers/gpu/drm/drm_of.c:drm_of_component_probe): for each `ports` phandle whose
    /// parent is available, the available remote port parents of its endpoints (whose own
    /// parent is available). The first loop's matches, the `ports` themselves (the IPU's CRTC
    /// components), are left out: the model has no CRTC objects (a pipeline's CRTC is the
    /// registered display::Pipe), so no driver would add them. `-ENODEV` without `ports` or
    /// without an available one.
    fn component_match(&self) -> Result<Vec<kmodel::of::NodeId>, Errno> {
        let k = self.k;
        let node = k.dev_of_node(self.dev).ok_or(Errno::EINVAL)?;
        k.of_tree(|t| {
            let mut ports = Vec::new();
            while let Some(p) = t.of_parse_phandle(node, "ports", ports.len()) {
                ports.push(p);
            }
            let available =
                |n: Option<kmodel::of::NodeId>| n.is_some_and(|n| t.of_device_is_available(n));
            let live: Vec<_> = ports
                .iter()
                .copied()
                .filter(|p| available(t.parent(*p)))
                .collect();
            if live.is_empty() {
                return Err(Errno::ENODEV);
            }
            let mut m = Vec::new();
            for p in live {
                for &ep in t.children(p) {
                    let Ok(remote) = t.of_graph_get_remote_port_parent(ep) else {
                        continue;
                    };
                    if !t.of_device_is_available(remote) || !available(t.parent(remote)) {
                        continue;
                    }
                    if !m.contains(&remote) {
                        m.push(remote);
                    }
                }
            }
            Ok(m)
        })
    }

    pub(super) fn exec_component(&mut self, c: &Call) -> Result<(), Errno> {
        let k = self.k;
        let dev = self.dev;
        match c.name {
            CallName::ComponentAdd => {
                let ctx = self.need_ctx(c)?;
                let ops = Rc::new(DataComponent {
                    desc: self.desc.clone(),
                    dev,
                    ctx,
                });
                component_add(k, dev, ops)
            }
            CallName::ComponentDel => {
                component_del(k, dev);
                Ok(())
            }
            CallName::DrmOfComponentProbe => {
                let matches = self.component_match()?;
                if self.ctx.is_none() {
                    // The master's drvdata (imx_drm_bind's dev_set_drvdata(dev, drm)) lives in
                    // the aggregate_device component_master_add_with_match allocates.
                    self.alloc_plain(false)?;
                }
                let ctx = self.need_ctx(c)?;
                let ops = Rc::new(DataAggregate {
                    desc: self.desc.clone(),
                    ctx,
                });
                component_master_add_with_match(k, dev, ops, matches)
            }
            CallName::ComponentMasterDel => {
                component_master_del(k, dev);
                if let Some(Ctx::Plain(o)) = self.ctx {
                    if !self.freed_at_unbind() {
                        k.dev_set_drvdata::<()>(dev, None);
                        k.kfree(o);
                    }
                }
                Ok(())
            }
            CallName::ComponentBindAll | CallName::ComponentUnbindAll => {
                let drm = self.drm_of(self.field(c))?;
                if c.name == CallName::ComponentBindAll {
                    component_bind_all(k, dev, drm)
                } else {
                    component_unbind_all(k, dev, drm);
                    Ok(())
                }
            }
            CallName::DrmmSimpleEncoderAlloc => {
                let from = c.from.as_deref().expect("checked at load");
                let drm = self.drm_of(from)?;
                let name = k.dev_name(dev);
                let f = self.field(c).to_string();
                match &c.bridge {
                    None => {
                        let enc = drmm_encoder_alloc(k, drm, &name)?;
                        self.set(&f, Val::Encoder(enc));
                    }
                    Some(bf) => {
                        let ty = intern(c.id.as_deref().unwrap_or("struct drm_encoder"));
                        let (enc, b) =
                            drmm_simple_encoder_alloc_with_bridge(k, drm, ty, &name, None, ())?;
                        self.set(&f, Val::Encoder(enc));
                        self.set(bf, Val::Bridge(b));
                    }
                }
                Ok(())
            }
            CallName::BridgeFuncs => {
                let Some(b) = self.bridge_of(self.field(c)) else {
                    return Ok(());
                };
                let funcs: Rc<dyn DrmBridgeFuncs> = Rc::new(DataFuncs {
                    desc: self.desc.clone(),
                    owner: self.ctx,
                });
                drm_bridge_set_funcs(k, b, funcs);
                Ok(())
            }
            _ => unreachable!("{} is not a component call", c.name),
        }
    }
}
