//! Running a [`Description`]'s callbacks on the [`Kernel`]: every call of the vocabulary is
//! mapped onto the model functions of `drm`, `kmodel` and this crate (`supply`, `mipi_dsi`,
//! `graph`), never reimplemented. The container's private fields live in the bridge's private
//! part (tagged `drm_bridge.private`, as the Rust models' fields are), or for a driver with no
//! bridge in a devres object of its own; `next_bridge` is the core's `bridge->next_bridge`.

mod component;
mod display;

use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;
use std::sync::{Arc, Mutex as StdMutex, OnceLock};

use drm::bridge::panel::{
    devm_drm_panel_bridge_add, drm_panel_bridge_add_typed, drm_panel_bridge_remove,
};
use drm::bridge::{
    devm_drm_bridge_add, devm_drm_bridge_alloc, devm_drm_bridge_alloc_legacy, drm_bridge_add,
    drm_bridge_attach, drm_bridge_clear_and_put_next_bridge, drm_bridge_detect, drm_bridge_dev_ptr,
    drm_bridge_edid_read, drm_bridge_encoder_ptr, drm_bridge_enter, drm_bridge_exit,
    drm_bridge_get, drm_bridge_hpd_notify, drm_bridge_ops, drm_bridge_priv, drm_bridge_priv_mut,
    drm_bridge_put, drm_bridge_remove, drm_bridge_unplug, of_drm_find_and_get_bridge,
    of_drm_find_bridge, of_drm_get_bridge_by_endpoint, DrmBridge, DrmBridgeFuncs, DrmBridgeObj,
    DrmBridgeOps, F_NEXT_BRIDGE,
};
use drm::connector::{drm_kms_helper_hotplug_event, ConnectorStatus};
use drm::encoder::DrmEncoder;
use drm::of::{devm_drm_of_get_bridge, drm_of_find_panel_or_bridge};
use drm::panel::{drm_panel_priv, drm_panel_priv_mut, of_drm_find_panel, DrmPanel, DrmPanelObj};
use drm::RefOwner;
use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::interrupt::{Irq, Work};
use kmodel::mutex::Mutex;
use kmodel::of_platform::OfBus;
use kmodel::srcu::SrcuIdx;
use kmodel::{Errno, Kernel, Obj};

use super::format::{
    BridgeOp, Call, CallName, Callback, Cond, Description, FieldKind, Returns, Slot, BIND_DATA,
    NEXT_BRIDGE,
};
use super::{select, DriverData};
use crate::graph::remote_node;
use crate::mipi_dsi::{
    devm_mipi_dsi_attach_to, mipi_dsi_attach, mipi_dsi_detach, mipi_dsi_host_register,
    mipi_dsi_host_unregister, of_find_mipi_dsi_host_by_node, MipiDsiDevice, MipiDsiHost,
    MipiDsiHostOps,
};
use crate::registry::hpd_irq_requested;
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get, devm_regulator_get_optional};

mod panel;

/// A `&'static str` for a name read from data (`k.func` and driver names need one). Each
/// distinct name is leaked once.
pub fn intern(s: &str) -> &'static str {
    static NAMES: OnceLock<StdMutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(x) = set.get(s) {
        return x;
    }
    let x: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(x);
    x
}

/// The value of one private field.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Val {
    /// NULL, 0, or not yet set.
    #[default]
    Null,
    Bridge(DrmBridge),
    Panel(DrmPanel),
    Hw(Hw),
    Work(Work),
    Irq(Irq),
    Mutex(Mutex),
    /// A mutex after `mutex_destroy`.
    DestroyedMutex(Mutex),
    Host(MipiDsiHost),
    Dev(DeviceId),
    /// A flag field that is set (a cleared flag is `Null`).
    Flag,
    Drm(drm::drv::DrmDevice),
    Encoder(DrmEncoder),
    Connector(drm::connector::DrmConnector),
}

/// The driver's private part of its container: the fields by name, the device, and the
/// description the probe ran (callbacks run the same one).
pub struct DataPriv {
    pub dev: DeviceId,
    pub desc: Arc<Description>,
    pub vals: BTreeMap<String, Val>,
    /// The container is freed by devres at unbind (`devm_kzalloc`, or a bridge before the
    /// refcounted era), not at the last put.
    pub freed_at_unbind: bool,
}

/// Where the container is.
#[derive(Copy, Clone, Debug)]
enum Ctx {
    Bridge(DrmBridge),
    /// A panel's container (`role = "panel"`, [`panel`]).
    Panel(DrmPanel),
    Plain(Obj<DataPriv>),
}

/// A data driver: its descriptions per release, registered on its bus.
pub struct DataDriver {
    pub data: Arc<DriverData>,
}

impl Driver for DataDriver {
    fn name(&self) -> &'static str {
        self.data.name
    }
    fn of_match_table(&self) -> &[&'static str] {
        &self.data.compatible
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let desc = select(k, &self.data);
        let mut fr = Frame::new(k, desc.clone(), dev, None);
        let r = fr.run_slot(Slot::Probe);
        if r.is_err() {
            k.dev_set_drvdata::<()>(dev, None);
        }
        r
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let Some(ctx) = drvdata_ctx(k, dev, &self.data) else {
            return;
        };
        let desc = ctx_desc(k, ctx);
        let mut fr = Frame::new(k, desc, dev, Some(ctx));
        let _ = fr.run_slot(Slot::Remove);
    }
}

fn drvdata_ctx(k: &Kernel, dev: DeviceId, data: &DriverData) -> Option<Ctx> {
    use super::format::DriverRole;
    // A driver whose role changed between releases (parallel-display: an encoder component
    // up to v6.17, a bridge from v6.18) keeps what the description its probe ran allocated.
    let role = if data.roles_differ() {
        select(k, data).role
    } else {
        data.role
    };
    match role {
        DriverRole::Bridge => k
            .dev_get_drvdata::<DrmBridgeObj>(dev)
            .map(|o| Ctx::Bridge(DrmBridge::from_obj(o))),
        DriverRole::Panel => k
            .dev_get_drvdata::<DrmPanelObj>(dev)
            .map(|o| Ctx::Panel(DrmPanel::from_obj(o))),
        _ => k.dev_get_drvdata::<DataPriv>(dev).map(Ctx::Plain),
    }
}

fn ctx_desc(k: &Kernel, ctx: Ctx) -> Arc<Description> {
    match ctx {
        Ctx::Bridge(b) => drm_bridge_priv::<DataPriv, _>(k, b, |p| p.desc.clone()),
        Ctx::Panel(p) => drm_panel_priv::<DataPriv, _>(k, p, |p| p.desc.clone()),
        Ctx::Plain(o) => k.read(o, |p| p.desc.clone()),
    }
}

fn ctx_dev(k: &Kernel, ctx: Ctx) -> DeviceId {
    match ctx {
        Ctx::Bridge(b) => drm_bridge_priv::<DataPriv, _>(k, b, |p| p.dev),
        Ctx::Panel(p) => drm_panel_priv::<DataPriv, _>(k, p, |p| p.dev),
        Ctx::Plain(o) => k.read(o, |p| p.dev),
    }
}

/// A callback's result, and what a `drm_bridge_detect` / `drm_bridge_edid_read` in it gave.
type Ran = (Result<(), Errno>, Option<ConnectorStatus>, Option<u32>);

/// The bridge callbacks of a data driver.
struct DataFuncs {
    desc: Arc<Description>,
    /// For a bridge the driver did not allocate as its container (embedded in an encoder
    /// struct, its funcs set by hand with `bridge_funcs`): the container its callbacks reach
    /// (`bridge_to_imxpd`), a read of it.
    owner: Option<Ctx>,
}

impl DataFuncs {
    fn run(&self, k: &Kernel, b: DrmBridge, slot: Slot) -> Option<Result<(), Errno>> {
        self.run_for(k, b, slot).map(|(r, _, _)| r)
    }

    /// A frame for a callback of bridge `b`.
    fn frame<'k>(&self, k: &'k Kernel, b: DrmBridge) -> Frame<'k> {
        match self.owner {
            Some(ctx) => {
                let dev = ctx_dev(k, ctx);
                let mut fr = Frame::new(k, self.desc.clone(), dev, Some(ctx));
                fr.embedded = Some(b);
                fr
            }
            None => {
                let dev = ctx_dev(k, Ctx::Bridge(b));
                Frame::new(k, self.desc.clone(), dev, Some(Ctx::Bridge(b)))
            }
        }
    }

    /// Run the callback; also what a `drm_bridge_detect` / `drm_bridge_edid_read` in it gave.
    fn run_for(&self, k: &Kernel, b: DrmBridge, slot: Slot) -> Option<Ran> {
        self.desc.slot(slot)?;
        let mut fr = self.frame(k, b);
        let r = fr.run_slot(slot);
        Some((r, fr.got_status, fr.got_modes))
    }
}

impl DrmBridgeFuncs for DataFuncs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        if self.desc.slot(Slot::Attach).is_none() {
            return Ok(());
        }
        let mut fr = self.frame(k, b);
        fr.encoder = Some((enc, flags));
        fr.run_slot(Slot::Attach)
    }
    fn detach(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::Detach);
    }
    fn destroy(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::Destroy);
        if self.owner.is_some() {
            // Not this bridge's container: its work items are the owner's.
            return;
        }
        // The container's embedded work items go with it.
        let works: Vec<Work> = drm_bridge_priv::<DataPriv, _>(k, b, |p| {
            if p.freed_at_unbind {
                return Vec::new();
            }
            p.vals
                .values()
                .filter_map(|v| match v {
                    Val::Work(w) => Some(*w),
                    _ => None,
                })
                .collect()
        });
        for w in works {
            k.destroy_work(w);
        }
    }
    fn mode_valid(&self, k: &Kernel, b: DrmBridge) -> bool {
        match self.run(k, b, Slot::ModeValid) {
            None => true,
            Some(Err(_)) => false,
            Some(Ok(())) => !matches!(
                self.desc.slot(Slot::ModeValid).map(|c| &c.returns),
                Some(Returns::Bool(false))
            ),
        }
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::AtomicPreEnable);
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::AtomicEnable);
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::AtomicDisable);
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::AtomicPostDisable);
    }
    fn detect(&self, k: &Kernel, b: DrmBridge) -> ConnectorStatus {
        match self.run_for(k, b, Slot::Detect) {
            Some((Ok(()), Some(got), _)) => got,
            Some((Ok(()), None, _)) => match self.desc.slot(Slot::Detect).map(|c| &c.returns) {
                Some(Returns::Status(s)) if s == "connected" => ConnectorStatus::Connected,
                Some(Returns::Status(s)) if s == "disconnected" => ConnectorStatus::Disconnected,
                _ => ConnectorStatus::Unknown,
            },
            _ => ConnectorStatus::Unknown,
        }
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        let slot = if self.desc.slot(Slot::GetModes).is_some() {
            Slot::GetModes
        } else {
            Slot::EdidRead
        };
        match self.run_for(k, b, slot) {
            Some((Ok(()), _, Some(got))) => got,
            Some((Ok(()), _, None)) => match self.desc.slot(slot).map(|c| &c.returns) {
                Some(Returns::Count(n)) => *n,
                _ => 0,
            },
            _ => 0,
        }
    }
    fn hpd_notify(&self, k: &Kernel, b: DrmBridge, _status: ConnectorStatus) {
        let _ = self.run(k, b, Slot::HpdNotify);
    }
    fn hpd_enable(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::HpdEnable);
    }
    fn hpd_disable(&self, k: &Kernel, b: DrmBridge) {
        let _ = self.run(k, b, Slot::HpdDisable);
    }
    fn is_atomic(&self) -> bool {
        self.desc.atomic
    }
}

/// The DSI host side of a data driver that registers a host.
struct DataHostOps {
    desc: Arc<Description>,
    ctx: Ctx,
}

impl MipiDsiHostOps for DataHostOps {
    fn attach(&self, k: &Kernel, host: DeviceId, dsi: MipiDsiDevice) -> Result<(), Errno> {
        if self.desc.slot(Slot::DsiHostAttach).is_none() {
            return Ok(());
        }
        let mut fr = Frame::new(k, self.desc.clone(), host, Some(self.ctx));
        fr.dsi = Some(dsi);
        fr.run_slot(Slot::DsiHostAttach)
    }
    fn detach(&self, k: &Kernel, host: DeviceId, dsi: MipiDsiDevice) {
        if self.desc.slot(Slot::DsiHostDetach).is_none() {
            return;
        }
        let mut fr = Frame::new(k, self.desc.clone(), host, Some(self.ctx));
        fr.dsi = Some(dsi);
        let _ = fr.run_slot(Slot::DsiHostDetach);
    }
}

/// The interrupts the data drivers requested, by device and field (the scenario's `irq` step
/// raises them).
#[derive(Copy, Clone)]
struct IrqLines(Obj<Vec<(DeviceId, String, Irq)>>);

fn irq_lines(k: &Kernel) -> IrqLines {
    k.global(|k| IrqLines(k.static_obj("irq lines", "irq lines", Vec::new())))
}

fn irq_requested(k: &Kernel, dev: DeviceId, field: &str, irq: Irq) {
    k.write(irq_lines(k).0, |v| {
        v.retain(|(d, f, _)| !(*d == dev && f == field));
        v.push((dev, field.to_string(), irq));
    });
}

/// The interrupts the data driver bound to `dev` requested, by field name, in request order.
/// After unbind devres has freed them: firing one delivers nothing.
pub fn requested_irqs(k: &Kernel, dev: DeviceId) -> Vec<(String, Irq)> {
    k.read(irq_lines(k).0, |v| {
        v.iter()
            .filter(|(d, _, _)| *d == dev)
            .map(|(_, f, i)| (f.clone(), *i))
            .collect()
    })
}

/// Whether calls marked `can_fail` explore their failure (the scenario's `inject_faults`).
#[derive(Copy, Clone)]
struct InjectFaults(bool);

/// Explore both outcomes of every `can_fail` call in this execution. Setup, before boot.
pub fn set_inject_faults(k: &Kernel, on: bool) {
    let got = k.global(|_| InjectFaults(on));
    debug_assert_eq!(got.0, on);
}

fn inject_faults(k: &Kernel) -> bool {
    k.global(|_| InjectFaults(false)).0
}

/// Whether a `can_fail` call fails this time: a coin another thread flips races with the
/// call's read of it, so the explorer runs both orders (read first: success; flip first:
/// failure). Without `inject_faults`, the call succeeds.
fn fault_coin(k: &Kernel, what: &str) -> bool {
    if !inject_faults(k) {
        return false;
    }
    let coin = k.static_obj("fault injection", format!("fault: {what}"), false);
    k.spawn(&format!("fault-inject/{what}"), move |k| {
        k.write(coin, |c| *c = true)
    });
    k.read(coin, |c| *c)
}

/// One running callback: the description, the device, where the container is, and what the
/// callback holds (entered sections, guards) until it returns.
struct Frame<'k> {
    k: &'k Kernel,
    desc: Arc<Description>,
    dev: DeviceId,
    ctx: Option<Ctx>,
    /// Fields set before the container exists (moved into it at allocation).
    pending: BTreeMap<String, Val>,
    enters: Vec<SrcuIdx>,
    guards: Vec<Mutex>,
    /// `.attach`'s encoder and flags.
    encoder: Option<(DrmEncoder, u32)>,
    /// The peripheral of a DSI host callback.
    dsi: Option<MipiDsiDevice>,
    /// Set by `return_error`.
    returned: Option<Errno>,
    /// Set by `return`: the current function returns with success.
    stop: bool,
    /// What `drm_bridge_detect` / `drm_bridge_edid_read` gave: the callback returns it.
    got_status: Option<ConnectorStatus>,
    got_modes: Option<u32>,
    /// The endpoint of the innermost `for_each_endpoint_of_node`.
    endpoint: Option<kmodel::of::EndpointRef>,
    /// Set by `continue`: the rest of the loop body is skipped.
    cont: bool,
    /// The bridge whose callback runs, when it is not the container (`DataFuncs::owner`).
    embedded: Option<DrmBridge>,
    /// A component `bind`'s `void *data`: its master's drm_device.
    bind_data: Option<drm::drv::DrmDevice>,
}

/// `fn NAME(&self, field) -> Option<T>`: the field's value when it is a `Val::VARIANT`.
macro_rules! fields_of {
    ($($name:ident: $variant:ident => $ty:ty),* $(,)?) => {
        $(
            fn $name(&self, name: &str) -> Option<$ty> {
                match self.get(name) {
                    Val::$variant(v) => Some(v),
                    _ => None,
                }
            }
        )*
    };
}

impl<'k> Frame<'k> {
    fn new(k: &'k Kernel, desc: Arc<Description>, dev: DeviceId, ctx: Option<Ctx>) -> Self {
        Frame {
            k,
            desc,
            dev,
            ctx,
            pending: BTreeMap::new(),
            enters: Vec::new(),
            guards: Vec::new(),
            encoder: None,
            dsi: None,
            returned: None,
            stop: false,
            got_status: None,
            got_modes: None,
            endpoint: None,
            cont: false,
            embedded: None,
            bind_data: None,
        }
    }

    fn run_slot(&mut self, slot: Slot) -> Result<(), Errno> {
        let Some(cb) = self.desc.slot(slot).cloned() else {
            return Ok(());
        };
        self.run_callback(&cb)
    }

    fn run_callback(&mut self, cb: &Callback) -> Result<(), Errno> {
        let k = self.k;
        let fname = match (&cb.cite, &cb.follows) {
            (Some(drm::Citation::Source { function, .. }), _) => intern(function),
            (None, Some(function)) => intern(function),
            // A framework callback gets the driver's prefix, as a C identifier (simple-bridge's
            // attach is simple_bridge_attach); a function of the driver is named already.
            _ if Slot::from_name(&cb.name).is_some() => {
                intern(&format!("{}_{}", self.desc.name.replace('-', "_"), cb.name))
            }
            _ => intern(&cb.name),
        };
        let _f = k.func(fname);
        let guards_before = self.guards.len();
        let r = self.run_calls(&cb.calls);
        // `return`: this function is done; its caller goes on.
        self.stop = false;
        // guard(): released when the function returns, on every path.
        while self.guards.len() > guards_before {
            let m = self.guards.pop().expect("non-empty");
            k.mutex_unlock(m);
        }
        r
    }

    fn run_calls(&mut self, calls: &[Call]) -> Result<(), Errno> {
        for c in calls {
            if let Some(e) = self.returned {
                return Err(e);
            }
            if self.stop || self.cont {
                return Ok(());
            }
            if let Some(cond) = &c.cond {
                if !self.holds(cond) {
                    continue;
                }
            }
            let r = if c.can_fail && fault_coin(self.k, &format!("{} {}", c.name, c.at)) {
                Err(Errno::EIO)
            } else {
                self.exec(c)
            };
            match r {
                Ok(()) => {}
                Err(Errno::ENODEV) if c.optional => {}
                Err(_) if !c.or_else.is_empty() => {
                    // The other branch, then go on.
                    self.run_calls(&c.or_else)?;
                }
                Err(e) => {
                    // The error branch, then return (its own failures are ignored).
                    let saved = self.returned.take();
                    let _ = self.run_calls(&c.on_error);
                    self.returned = saved;
                    return Err(e);
                }
            }
        }
        match self.returned {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn holds(&self, cond: &Cond) -> bool {
        let k = self.k;
        match cond {
            Cond::Set(f) => self.get(f) != Val::Null,
            Cond::Unset(f) => self.get(f) == Val::Null,
            Cond::Compatible(c) => k
                .dev_of_node(self.dev)
                .is_some_and(|n| k.of_tree(|t| t.of_device_is_compatible(n, c) > 0)),
            Cond::Property(p) => k
                .dev_of_node(self.dev)
                .is_some_and(|n| k.of_tree(|t| t.property(n, p).is_some())),
            Cond::Not(c) => !self.holds(c),
            Cond::DsiProperty(p) => self
                .dsi
                .and_then(|d| d.node)
                .is_some_and(|n| k.of_tree(|t| t.property(n, p).is_some())),
            Cond::BridgeEncoder => self
                .bridge()
                .is_some_and(|b| drm_bridge_encoder_ptr(k, b).is_some()),
            Cond::BridgeDev => self
                .bridge()
                .is_some_and(|b| drm_bridge_dev_ptr(k, b).is_some()),
            Cond::Remote(port) => remote_node(k, self.dev, *port, -1).is_some(),
            Cond::RemoteCompatible(port, c) => remote_node(k, self.dev, *port, -1)
                .is_some_and(|n| k.of_tree(|t| t.of_device_is_compatible(n, c) > 0)),
            Cond::PanelPrepared | Cond::PanelEnabled | Cond::Child(_) => self.holds_panel(cond),
            Cond::Ops(f, op) => match self.get(f) {
                // `field->ops & DRM_BRIDGE_OP_*`: a read of the pointed-to bridge.
                Val::Bridge(n) => {
                    let ops = drm_bridge_ops(k, n);
                    let o = ops_of(&[*op]);
                    (o.detect && ops.detect)
                        || (o.edid && ops.edid)
                        || (o.hpd && ops.hpd)
                        || (o.modes && ops.modes)
                        || (o.hdmi && ops.hdmi)
                        || (o.hdmi_audio && ops.hdmi_audio)
                        || (o.dp_audio && ops.dp_audio)
                        || (o.hdmi_cec && ops.hdmi_cec)
                }
                _ => false,
            },
            Cond::FlagsNoConnector => self
                .encoder
                .is_some_and(|(_, f)| f & drm::bridge::DRM_BRIDGE_ATTACH_NO_CONNECTOR != 0),
            Cond::RemoteAvailable => self.remote_available(),
            Cond::All(cs) => cs.iter().all(|c| self.holds(c)),
        }
    }

    fn bridge(&self) -> Option<DrmBridge> {
        match self.ctx {
            Some(Ctx::Bridge(b)) => Some(b),
            _ => self.embedded,
        }
    }

    /// A field's value (`next_bridge`: the core's field, a load of that field alone, as
    /// v7.0:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_attach reads it).
    fn get(&self, name: &str) -> Val {
        let k = self.k;
        if name == BIND_DATA {
            return self.bind_data.map_or(Val::Null, Val::Drm);
        }
        if name == NEXT_BRIDGE {
            return match self.bridge() {
                Some(b) => k
                    .read_field(b.obj(), F_NEXT_BRIDGE, |x| x.next_bridge)
                    .map_or(Val::Null, Val::Bridge),
                None => Val::Null,
            };
        }
        match self.ctx {
            Some(Ctx::Bridge(b)) => drm_bridge_priv::<DataPriv, _>(k, b, |p| {
                p.vals.get(name).copied().unwrap_or_default()
            }),
            Some(Ctx::Panel(pn)) => drm_panel_priv::<DataPriv, _>(k, pn, |p| {
                p.vals.get(name).copied().unwrap_or_default()
            }),
            Some(Ctx::Plain(o)) => k.read(o, |p| p.vals.get(name).copied().unwrap_or_default()),
            None => self.pending.get(name).copied().unwrap_or_default(),
        }
    }

    fn set(&mut self, name: &str, v: Val) {
        let k = self.k;
        if name == NEXT_BRIDGE {
            let nb = match v {
                Val::Bridge(b) => Some(b),
                _ => None,
            };
            if let Some(b) = self.bridge() {
                k.write_field(b.obj(), F_NEXT_BRIDGE, |x| x.next_bridge = nb);
            }
            return;
        }
        match self.ctx {
            Some(Ctx::Bridge(b)) => drm_bridge_priv_mut::<DataPriv, _>(k, b, |p| {
                p.vals.insert(name.to_string(), v);
            }),
            Some(Ctx::Panel(pn)) => drm_panel_priv_mut::<DataPriv, _>(k, pn, |p| {
                p.vals.insert(name.to_string(), v);
            }),
            Some(Ctx::Plain(o)) => k.write(o, |p| {
                p.vals.insert(name.to_string(), v);
            }),
            None => {
                self.pending.insert(name.to_string(), v);
            }
        }
    }

    // The value of a field when it holds that kind (else `None`), one accessor per kind.
    fields_of! {
        bridge_of: Bridge => DrmBridge,
        panel_of: Panel => DrmPanel,
        hw_of: Hw => Hw,
        work_of: Work => Work,
        irq_of: Irq => Irq,
    }

    fn mutex_of(&self, name: &str) -> Option<Mutex> {
        match self.get(name) {
            Val::Mutex(m) => Some(m),
            Val::DestroyedMutex(m) => {
                // CONFIG_DEBUG_MUTEXES poisons a destroyed mutex.
                self.k.warn(format!(
                    "DEBUG_LOCKS_WARN_ON(lock->magic != lock): {}->{name} used after mutex_destroy",
                    self.desc.container
                ));
                Some(m)
            }
            _ => None,
        }
    }

    /// The owner of a counted reference held in `field`.
    fn owner(&self, field: &str) -> RefOwner {
        if field == NEXT_BRIDGE {
            RefOwner::next_bridge(self.k, self.dev)
        } else {
            RefOwner::Caller(format!("{field} of {}", self.k.dev_name(self.dev)).into())
        }
    }

    fn freed_at_unbind(&self) -> bool {
        let k = self.k;
        match self.ctx {
            Some(Ctx::Bridge(b)) => drm_bridge_priv::<DataPriv, _>(k, b, |p| p.freed_at_unbind),
            Some(Ctx::Panel(pn)) => drm_panel_priv::<DataPriv, _>(k, pn, |p| p.freed_at_unbind),
            Some(Ctx::Plain(o)) => k.read(o, |p| p.freed_at_unbind),
            None => true,
        }
    }

    fn field<'c>(&self, c: &'c Call) -> &'c str {
        c.field
            .as_deref()
            .expect("checked at load: the call has its field")
    }

    fn function(&self, c: &Call) -> &Callback {
        let name = c
            .function
            .as_deref()
            .expect("checked at load: the call names a function");
        self.desc
            .callbacks
            .get(name)
            .expect("checked at load: a callback")
    }

    /// Run a callback of the description as its own function (a work item, an IRQ handler,
    /// a devm action), on the container `ctx`.
    fn spawn_fn(k: &Kernel, desc: Arc<Description>, dev: DeviceId, ctx: Option<Ctx>, name: &str) {
        let Some(cb) = desc.callbacks.get(name).cloned() else {
            return;
        };
        let mut fr = Frame::new(k, desc, dev, ctx);
        let _ = fr.run_callback(&cb);
    }

    fn handler(&self, func: &str) -> kmodel::interrupt::Handler {
        let desc = self.desc.clone();
        let dev = self.dev;
        let ctx = self.ctx;
        let func = func.to_string();
        Rc::new(move |k: &Kernel| Frame::spawn_fn(k, desc.clone(), dev, ctx, &func))
    }

    fn alloc_bridge(&mut self, legacy: bool) -> Result<(), Errno> {
        let k = self.k;
        let name = k.dev_name(self.dev);
        let r = drm::rules(k);
        // cite: v6.17:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free
        let freed_at_last_put = r.bridge_refcount && r.destroy_hook;
        let private = DataPriv {
            dev: self.dev,
            desc: self.desc.clone(),
            vals: std::mem::take(&mut self.pending),
            freed_at_unbind: legacy || !freed_at_last_put,
        };
        let ty = intern(&self.desc.container);
        let funcs: Rc<dyn DrmBridgeFuncs> = Rc::new(DataFuncs {
            desc: self.desc.clone(),
            owner: None,
        });
        // cite: v6.17:drivers/gpu/drm/drm_bridge.c:__devm_drm_bridge_alloc
        let b = if legacy || !drm::rules(k).bridge_refcount {
            devm_drm_bridge_alloc_legacy(k, self.dev, ty, &name, funcs, private)?
        } else {
            devm_drm_bridge_alloc(k, self.dev, ty, &name, Some(funcs), private)?
        };
        let np = k.dev_of_node(self.dev);
        let ops = ops_of(&self.desc.ops);
        k.write(b.obj(), |x| {
            x.of_node = np;
            x.ops = ops;
        });
        self.ctx = Some(Ctx::Bridge(b));
        k.dev_set_drvdata(self.dev, Some(b.obj()));
        Ok(())
    }

    fn alloc_plain(&mut self, devm: bool) -> Result<(), Errno> {
        let k = self.k;
        let private = DataPriv {
            dev: self.dev,
            desc: self.desc.clone(),
            vals: std::mem::take(&mut self.pending),
            freed_at_unbind: devm,
        };
        let ty = intern(&self.desc.container);
        let name = k.dev_name(self.dev);
        let o = if devm {
            k.devm_kzalloc(self.dev, ty, &name, private)?
        } else {
            k.kzalloc(ty, name, private)
        };
        self.ctx = Some(Ctx::Plain(o));
        k.dev_set_drvdata(self.dev, Some(o));
        Ok(())
    }

    fn remote(&self, c: &Call) -> Option<kmodel::of::NodeId> {
        // Inside for_each_endpoint_of_node, a lookup with no port/endpoint is the current
        // endpoint's (port 0, endpoint of_ep.id, as lcdif_attach_bridge passes them).
        let endpoint = match self.endpoint {
            Some(ep) if c.current_endpoint => ep.id as i32,
            _ => c.endpoint,
        };
        let r = remote_node(self.k, self.dev, c.port, endpoint);
        // In a DSI host callback, a host with no output port finds the peripheral's own node
        // (as samsung_dsim_host_attach does).
        r.or_else(|| self.dsi.and_then(|d| d.node))
    }

    fn need_bridge(&self) -> Result<DrmBridge, Errno> {
        self.bridge().ok_or_else(|| {
            self.k.warn(format!(
                "{}: a bridge call before the container is allocated",
                self.desc.name
            ));
            Errno::EINVAL
        })
    }

    fn exec(&mut self, c: &Call) -> Result<(), Errno> {
        let k = self.k;
        let dev = self.dev;
        match c.name {
            CallName::DevmDrmBridgeAlloc => {
                if self.desc.role == super::format::DriverRole::Bridge {
                    self.alloc_bridge(false)
                } else {
                    self.alloc_plain(true)
                }
            }
            CallName::DevmKzalloc if self.desc.role == super::format::DriverRole::Panel => {
                self.exec_panel(c)
            }
            CallName::DevmKzalloc => {
                if self.desc.role == super::format::DriverRole::Bridge {
                    self.alloc_bridge(true)
                } else {
                    self.alloc_plain(true)
                }
            }
            CallName::Kzalloc => self.alloc_plain(false),
            CallName::Kfree => {
                if let Some(Ctx::Plain(o)) = self.ctx {
                    k.kfree(o);
                }
                Ok(())
            }
            CallName::DrmBridgeAdd => {
                let b = self.need_bridge()?;
                drm_bridge_add(k, b);
                Ok(())
            }
            CallName::DevmDrmBridgeAdd => {
                let b = self.need_bridge()?;
                devm_drm_bridge_add(k, dev, b)
            }
            CallName::DrmBridgeRemove => {
                let b = self.need_bridge()?;
                drm_bridge_remove(k, b);
                Ok(())
            }
            CallName::DrmBridgeUnplug => {
                let b = self.need_bridge()?;
                drm_bridge_unplug(k, b);
                Ok(())
            }
            CallName::DrmBridgeAttach => {
                if let Some(from) = c.from.as_deref() {
                    // A display controller attaching the first bridge to its encoder.
                    return self.attach_first(c, from);
                }
                let b = self.need_bridge()?;
                let next = self.bridge_of(self.field(c));
                let (enc, _) = self.encoder.ok_or(Errno::EINVAL)?;
                drm_bridge_attach(k, Some(enc), next, Some(b), self.attach_flags(c))
            }
            CallName::DrmDevAlloc
            | CallName::DevmDrmDevAlloc
            | CallName::DrmmModeConfigInit
            | CallName::DrmEncoderInit
            | CallName::DrmmEncoderAlloc
            | CallName::DrmBridgeConnectorInit
            | CallName::DrmConnectorInit
            | CallName::DrmConnectorAttachEncoder
            | CallName::DrmConnectorCleanup
            | CallName::DrmDevRegister
            | CallName::DrmDevUnregister
            | CallName::DrmAtomicHelperShutdown
            | CallName::DrmDevPut
            | CallName::ForEachEndpointOfNode
            | CallName::Continue
            | CallName::OfGetI2cAdapterByNode
            | CallName::DrmEdidReadDdc
            | CallName::ReturnStatus => self.exec_display(c),
            CallName::ComponentAdd
            | CallName::ComponentDel
            | CallName::DrmOfComponentProbe
            | CallName::ComponentMasterDel
            | CallName::ComponentBindAll
            | CallName::ComponentUnbindAll
            | CallName::DrmmSimpleEncoderAlloc
            | CallName::BridgeFuncs => self.exec_component(c),
            CallName::DrmBridgeEnter => {
                let b = self.need_bridge()?;
                match drm_bridge_enter(k, b) {
                    Some(idx) => {
                        self.enters.push(idx);
                        Ok(())
                    }
                    None => Err(Errno::ENODEV),
                }
            }
            CallName::DrmBridgeExit => {
                match self.enters.pop() {
                    Some(idx) => drm_bridge_exit(k, idx),
                    None => k.warn(format!(
                        "{}: drm_bridge_exit without drm_bridge_enter ({})",
                        self.desc.name, c.at
                    )),
                }
                Ok(())
            }
            CallName::DrmBridgeGet => {
                let f = self.field(c).to_string();
                let src = match &c.from {
                    Some(from) => self.bridge_of(from),
                    None => self.bridge_of(&f),
                };
                let got = drm_bridge_get(k, src, self.owner(&f));
                self.set(&f, got.map_or(Val::Null, Val::Bridge));
                Ok(())
            }
            CallName::DrmBridgePut => {
                let f = self.field(c);
                drm_bridge_put(k, self.bridge_of(f), self.owner(f));
                Ok(())
            }
            CallName::DrmBridgeClearAndPut => {
                let f = self.field(c).to_string();
                let owner = self.owner(&f);
                if f == NEXT_BRIDGE {
                    let b = self.need_bridge()?;
                    drm_bridge_clear_and_put_next_bridge(k, b, owner);
                } else {
                    let old = self.bridge_of(&f);
                    self.set(&f, Val::Null);
                    drm_bridge_put(k, old, owner);
                }
                Ok(())
            }
            CallName::Store => {
                let f = self.field(c).to_string();
                let v = match &c.from {
                    Some(from) => self.get(from),
                    None => Val::Null,
                };
                self.set(&f, v);
                Ok(())
            }
            CallName::OfDrmFindBridge => {
                let np = self.remote(c).ok_or(Errno::ENODEV)?;
                let b = of_drm_find_bridge(k, np).ok_or(Errno::EPROBE_DEFER)?;
                let f = self.field(c).to_string();
                self.set(&f, Val::Bridge(b));
                Ok(())
            }
            CallName::OfDrmFindAndGetBridge => {
                let np = self.remote(c).ok_or(Errno::ENODEV)?;
                let f = self.field(c).to_string();
                let b =
                    of_drm_find_and_get_bridge(k, np, self.owner(&f)).ok_or(Errno::EPROBE_DEFER)?;
                self.set(&f, Val::Bridge(b));
                Ok(())
            }
            CallName::OfDrmGetBridgeByEndpoint => {
                let f = self.field(c).to_string();
                let b = of_drm_get_bridge_by_endpoint(k, self.remote(c), self.owner(&f))?;
                self.set(&f, Val::Bridge(b));
                Ok(())
            }
            CallName::DrmOfFindPanelOrBridge => {
                let want_panel = c.from.is_some();
                let want_bridge = c.field.is_some();
                let (p, b) =
                    drm_of_find_panel_or_bridge(k, self.remote(c), want_panel, want_bridge)?;
                if let (Some(pf), Some(p)) = (&c.from, p) {
                    self.set(pf, Val::Panel(p));
                }
                if let (Some(bf), Some(b)) = (&c.field, b) {
                    self.set(bf, Val::Bridge(b));
                }
                Ok(())
            }
            CallName::DevmDrmOfGetBridge => {
                let b = devm_drm_of_get_bridge(k, dev, self.remote(c))?;
                let f = self.field(c).to_string();
                self.set(&f, Val::Bridge(b));
                Ok(())
            }
            CallName::OfDrmFindPanel => {
                let np = self.remote(c).ok_or(Errno::ENODEV)?;
                let p = of_drm_find_panel(k, np)?;
                let f = self.field(c).to_string();
                self.set(&f, Val::Panel(p));
                Ok(())
            }
            CallName::DevmDrmPanelBridgeAdd | CallName::DrmPanelBridgeAdd => {
                let from = c.from.as_deref().expect("checked at load");
                let p = self.panel_of(from).ok_or(Errno::EINVAL)?;
                let b = if c.name == CallName::DevmDrmPanelBridgeAdd {
                    devm_drm_panel_bridge_add(k, dev, p)?
                } else {
                    drm_panel_bridge_add_typed(k, p)?
                };
                let f = self.field(c).to_string();
                self.set(&f, Val::Bridge(b));
                Ok(())
            }
            CallName::DrmPanelBridgeRemove => {
                drm_panel_bridge_remove(k, self.bridge_of(self.field(c)));
                Ok(())
            }
            CallName::DevmRegulatorGet => {
                let h = devm_regulator_get(k, dev, c.id.as_deref().unwrap_or(""))?;
                let f = self.field(c).to_string();
                self.set(&f, Val::Hw(h));
                Ok(())
            }
            CallName::DevmRegulatorGetOptional => {
                let h = devm_regulator_get_optional(k, dev, c.id.as_deref().unwrap_or(""))?;
                let f = self.field(c).to_string();
                self.set(&f, h.map_or(Val::Null, Val::Hw));
                Ok(())
            }
            CallName::DevmGpiodGet | CallName::DevmGpiodGetOptional => {
                let h = match c.id.as_deref() {
                    // NULL con_id: the plain `gpios` property.
                    None | Some("") => {
                        crate::supply::devm_gpiod_get_index_optional(k, dev, None, 0)?
                    }
                    Some(id) => devm_gpiod_get_optional(k, dev, id)?,
                };
                if c.name == CallName::DevmGpiodGet && h.is_none() {
                    return Err(Errno::ENOENT);
                }
                let f = self.field(c).to_string();
                self.set(&f, h.map_or(Val::Null, Val::Hw));
                Ok(())
            }
            CallName::RegulatorEnable | CallName::RegulatorDisable => {
                if let Some(h) = self.hw_of(self.field(c)) {
                    if c.name == CallName::RegulatorEnable {
                        k.hw_enable(h);
                    } else {
                        k.hw_disable(h);
                    }
                }
                Ok(())
            }
            CallName::GpiodSetValue
            | CallName::GpiodGetValue
            | CallName::RegmapRead
            | CallName::RegmapWrite => {
                if let Some(h) = self.hw_of(self.field(c)) {
                    let what = match &c.what {
                        Some(w) => w.clone(),
                        None => format!("{}({})", c.name, self.field(c)),
                    };
                    k.hw_access(h, &what);
                }
                Ok(())
            }
            CallName::DevmRegmapInit | CallName::DevmIoremap => {
                let f = self.field(c).to_string();
                // A register window either way: revoked when the device goes.
                let h = k.devm_hw_get(dev, HwKind::I2c, &f);
                self.set(&f, Val::Hw(h));
                Ok(())
            }
            CallName::DevmAddAction | CallName::DevmAddActionOrReset => {
                let cb = self.function(c).name.clone();
                let name = intern(&cb);
                let (desc, ctx) = (self.desc.clone(), self.ctx);
                let data = self.action_data();
                let act = move |k: &Kernel| Frame::spawn_fn(k, desc, dev, ctx, &cb);
                if c.name == CallName::DevmAddAction {
                    k.devm_add_action(dev, name, data, act)
                } else {
                    k.devm_add_action_or_reset(dev, name, data, act)
                }
            }
            CallName::DevmReleaseAction => {
                let name = intern(&self.function(c).name);
                k.devm_release_action(dev, name, self.action_data());
                Ok(())
            }
            CallName::RequestIrq | CallName::DevmRequestThreadedIrq => {
                let f = self.field(c).to_string();
                let decl = self.desc.fields.get(&f).expect("checked at load").clone();
                let source = decl.source.clone().unwrap_or_else(|| "interrupts".into());
                let has = k.dev_of_node(dev).is_some_and(|n| {
                    k.of_tree(|t| {
                        t.property(n, &source).is_some()
                            || (source == "interrupts"
                                && t.property(n, "interrupts-extended").is_some())
                    })
                });
                if !has {
                    // client->irq is 0: nothing is requested, the field stays 0.
                    return Ok(());
                }
                let func = decl.func.clone().expect("checked at load");
                let irq =
                    k.devm_request_threaded_irq(dev, intern(&self.desc.name), self.handler(&func))?;
                if decl.hpd {
                    hpd_irq_requested(k, dev, irq);
                }
                irq_requested(k, dev, &f, irq);
                self.set(&f, Val::Irq(irq));
                Ok(())
            }
            CallName::FreeIrq
            | CallName::DisableIrq
            | CallName::DisableIrqNosync
            | CallName::EnableIrq => {
                if let Some(i) = self.irq_of(self.field(c)) {
                    match c.name {
                        CallName::FreeIrq => k.free_irq(i),
                        CallName::EnableIrq => k.enable_irq(i),
                        // The model's disable_irq waits only for the other running handlers,
                        // so from the handler itself it is disable_irq_nosync.
                        _ => k.disable_irq(i),
                    }
                }
                Ok(())
            }
            CallName::InitWork | CallName::InitDelayedWork => {
                let f = self.field(c).to_string();
                let func = self
                    .desc
                    .fields
                    .get(&f)
                    .and_then(|d| d.func.clone())
                    .expect("checked at load");
                let w = k.init_work(&format!("{} {f}", k.dev_name(dev)), self.handler(&func));
                self.set(&f, Val::Work(w));
                // The work_struct is embedded in the container: the model's separate object
                // goes when the container does, at unbind (devres memory) or at the last put
                // (`.destroy`). Nothing cancels it unless the description does.
                if self.freed_at_unbind() {
                    k.devm_add_action_or_reset(
                        dev,
                        "embedded work_struct",
                        w.id().0 as u64,
                        move |k| k.destroy_work(w),
                    )?;
                }
                Ok(())
            }
            CallName::ScheduleWork
            | CallName::ScheduleDelayedWork
            | CallName::CancelWorkSync
            | CallName::CancelDelayedWorkSync => {
                if let Some(w) = self.work_of(self.field(c)) {
                    if matches!(
                        c.name,
                        CallName::ScheduleWork | CallName::ScheduleDelayedWork
                    ) {
                        k.queue_work(w);
                    } else {
                        k.cancel_work_sync(w);
                    }
                }
                Ok(())
            }
            // Panels: data::interp::panel.
            CallName::DevmDrmPanelAlloc
            | CallName::DrmPanelInit
            | CallName::DrmPanelAdd
            | CallName::DrmPanelRemove
            | CallName::DrmPanelPrepare
            | CallName::DrmPanelEnable
            | CallName::DrmPanelDisable
            | CallName::DrmPanelUnprepare
            | CallName::DrmPanelOfBacklight
            | CallName::PmRuntimeEnable
            | CallName::PmRuntimeDisable
            | CallName::PmRuntimeUseAutosuspend
            | CallName::PmRuntimeDontUseAutosuspend
            | CallName::PmRuntimeGetSync
            | CallName::PmRuntimePutAutosuspend
            | CallName::MipiDsiDcsWrite => self.exec_panel(c),
            CallName::MipiDsiHostRegister => {
                let ctx = self.ctx.ok_or(Errno::EINVAL)?;
                let ops = Rc::new(DataHostOps {
                    desc: self.desc.clone(),
                    ctx,
                });
                let h = mipi_dsi_host_register(k, dev, ops);
                let f = self.field(c).to_string();
                self.set(&f, Val::Host(h));
                Ok(())
            }
            CallName::MipiDsiHostUnregister => {
                if let Val::Host(h) = self.get(self.field(c)) {
                    mipi_dsi_host_unregister(k, h);
                }
                Ok(())
            }
            CallName::DevmMipiDsiAttach => {
                let host = remote_node(k, dev, c.port, c.endpoint).ok_or(Errno::EPROBE_DEFER)?;
                devm_mipi_dsi_attach_to(k, dev, host)
            }
            CallName::MipiDsiAttach | CallName::MipiDsiDetach => {
                let node = k.dev_of_node(dev);
                let host = node
                    .and_then(|n| k.of_tree(|t| t.parent(n)))
                    .and_then(|p| of_find_mipi_dsi_host_by_node(k, p));
                let me = MipiDsiDevice { dev, node };
                match (c.name, host) {
                    (CallName::MipiDsiAttach, Some(h)) => mipi_dsi_attach(k, h, me),
                    (CallName::MipiDsiAttach, None) => Err(Errno::EPROBE_DEFER),
                    (_, Some(h)) => {
                        mipi_dsi_detach(k, h, me);
                        Ok(())
                    }
                    (_, None) => Ok(()),
                }
            }
            CallName::HdmiAudioRegister | CallName::CecRegister => {
                let f = self.field(c).to_string();
                let base = c.id.clone().unwrap_or_else(|| {
                    if c.name == CallName::HdmiAudioRegister {
                        "hdmi-audio-codec".into()
                    } else {
                        "cec".into()
                    }
                });
                let child = k.device_add(
                    k.of_bus(OfBus::Platform),
                    DeviceInfo {
                        name: format!("{base}.{}", dev.0),
                        compatible: Vec::new(),
                        parent: Some(dev),
                        of_node: None,
                    },
                );
                self.set(&f, Val::Dev(child));
                Ok(())
            }
            CallName::HdmiAudioUnregister | CallName::CecUnregister => {
                if let Val::Dev(d) = self.get(self.field(c)) {
                    k.device_del(d);
                }
                Ok(())
            }
            CallName::MutexInit => {
                let f = self.field(c).to_string();
                let m = k.mutex_init(intern(&format!("{}->{f}", self.desc.container)));
                self.set(&f, Val::Mutex(m));
                Ok(())
            }
            CallName::MutexLock | CallName::Guard => {
                let Some(m) = self.mutex_of(self.field(c)) else {
                    k.warn(format!(
                        "{}: lock of an uninitialised mutex ({})",
                        self.desc.name, c.at
                    ));
                    return Ok(());
                };
                k.mutex_lock(m);
                if c.name == CallName::Guard {
                    self.guards.push(m);
                }
                Ok(())
            }
            CallName::MutexDestroy => {
                let f = self.field(c).to_string();
                if let Some(m) = self.mutex_of(&f) {
                    self.set(&f, Val::DestroyedMutex(m));
                }
                Ok(())
            }
            CallName::MutexUnlock => {
                if let Some(m) = self.mutex_of(self.field(c)) {
                    k.mutex_unlock(m);
                }
                Ok(())
            }
            CallName::ScopedGuard => {
                let Some(m) = self.mutex_of(self.field(c)) else {
                    k.warn(format!(
                        "{}: lock of an uninitialised mutex ({})",
                        self.desc.name, c.at
                    ));
                    return Ok(());
                };
                k.mutex_lock(m);
                let r = self.run_calls(&c.body);
                k.mutex_unlock(m);
                r
            }
            CallName::DrmBridgeHpdNotify => {
                let b = self.need_bridge()?;
                let st = match c.status.as_deref() {
                    Some("connected") => ConnectorStatus::Connected,
                    Some(_) => ConnectorStatus::Disconnected,
                    // No `status`: what the driver's detect just returned.
                    None => self.got_status.unwrap_or(ConnectorStatus::Disconnected),
                };
                drm_bridge_hpd_notify(k, b, st);
                Ok(())
            }
            CallName::DrmBridgeHelperResetCrtc => {
                let b = self.need_bridge()?;
                k.model_event(Some(b.obj().id()), "drm_bridge_helper_reset_crtc");
                Ok(())
            }
            CallName::Call => {
                let cb = self.function(c).clone();
                self.run_callback(&cb)
            }
            CallName::ReturnError => {
                self.returned = Some(c.errno);
                Err(c.errno)
            }
            CallName::Return => {
                self.stop = true;
                Ok(())
            }
            CallName::Set => {
                self.set(self.field(c), Val::Flag);
                Ok(())
            }
            CallName::Clear => {
                self.set(self.field(c), Val::Null);
                Ok(())
            }
            CallName::DrmBridgeDetect => {
                if let Val::Bridge(n) = self.get(self.field(c)) {
                    self.got_status = Some(drm_bridge_detect(k, n));
                }
                Ok(())
            }
            CallName::DrmBridgeEdidRead => {
                if let Val::Bridge(n) = self.get(self.field(c)) {
                    self.got_modes = Some(drm_bridge_edid_read(k, n));
                }
                Ok(())
            }
            CallName::BridgeOp => {
                let b = self.need_bridge()?;
                let add = ops_of(&c.op.into_iter().collect::<Vec<_>>());
                k.write(b.obj(), |x| {
                    let o = &mut x.ops;
                    o.detect |= add.detect;
                    o.edid |= add.edid;
                    o.hpd |= add.hpd;
                    o.modes |= add.modes;
                    o.hdmi |= add.hdmi;
                    o.hdmi_audio |= add.hdmi_audio;
                    o.dp_audio |= add.dp_audio;
                    o.hdmi_cec |= add.hdmi_cec;
                });
                Ok(())
            }
            CallName::DrmKmsHelperHotplugEvent => {
                let b = self.need_bridge()?;
                if let Some(drm) = drm_bridge_dev_ptr(k, b) {
                    drm_kms_helper_hotplug_event(k, drm);
                }
                Ok(())
            }
        }
    }

    /// The `data` of the driver's devm actions: the container's id (`ctx`).
    fn action_data(&self) -> u64 {
        match self.ctx {
            Some(Ctx::Bridge(b)) => b.obj().id().0 as u64,
            Some(Ctx::Panel(p)) => p.obj().id().0 as u64,
            Some(Ctx::Plain(o)) => o.id().0 as u64,
            None => self.dev.0 as u64,
        }
    }
}

fn ops_of(ops: &[BridgeOp]) -> DrmBridgeOps {
    let mut o = DrmBridgeOps::default();
    for op in ops {
        match op {
            BridgeOp::Detect => o.detect = true,
            BridgeOp::Edid => o.edid = true,
            BridgeOp::Hpd => o.hpd = true,
            BridgeOp::Modes => o.modes = true,
            BridgeOp::Hdmi => o.hdmi = true,
            BridgeOp::HdmiAudio => o.hdmi_audio = true,
            BridgeOp::DpAudio => o.dp_audio = true,
            BridgeOp::HdmiCec => o.hdmi_cec = true,
        }
    }
    o
}

/// Whether the description's field `kind` is one the interpreter stores as hardware.
pub fn is_hw(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Regulator | FieldKind::Gpio | FieldKind::Regmap
    )
}
