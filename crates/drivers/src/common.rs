//! What the bridge driver models share: allocation by era, the enter/exit guard, and the
//! remove path.

use std::rc::Rc;

use drm::bridge::{
    devm_drm_bridge_alloc, devm_drm_bridge_alloc_legacy, drm_bridge_enter, drm_bridge_exit,
    drm_bridge_remove, drm_bridge_unplug, DrmBridge, DrmBridgeFuncs, DrmBridgeObj,
};
use drm::rules::rules;
use kmodel::device::DeviceId;
use kmodel::{Errno, Kernel};

use crate::variant::Variant;

/// Allocate the driver's container the way its era did: `devm_kzalloc` before v6.16,
/// `devm_drm_bridge_alloc` after, and record the device's OF node in the bridge.
pub fn alloc_bridge<P: 'static>(
    k: &Kernel,
    dev: DeviceId,
    variant: Variant,
    ty: &'static str,
    funcs: Rc<dyn DrmBridgeFuncs>,
    private: P,
) -> Result<DrmBridge, Errno> {
    let name = k.dev_name(dev);
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:__devm_drm_bridge_alloc
    let b = if variant == Variant::PreRefcount || !rules(k).bridge_refcount {
        devm_drm_bridge_alloc_legacy(k, dev, ty, &name, funcs, private)?
    } else {
        devm_drm_bridge_alloc(k, dev, ty, &name, Some(funcs), private)?
    };
    let np = k.dev_of_node(dev);
    k.write(b.obj(), |x| x.of_node = np);
    Ok(b)
}

/// The bridge a driver stored as its drvdata.
pub fn drvdata_bridge(k: &Kernel, dev: DeviceId) -> Option<DrmBridge> {
    k.dev_get_drvdata::<DrmBridgeObj>(dev)
        .map(DrmBridge::from_obj)
}

/// Run `f` when the hardware may be touched: inside `drm_bridge_enter`/`exit` when the driver
/// guards (its v7.0 conversion), unconditionally otherwise. Returns whether `f` ran.
pub fn with_hw(k: &Kernel, b: DrmBridge, guard: bool, f: impl FnOnce()) -> bool {
    if !guard {
        f();
        return true;
    }
    let Some(idx) = drm_bridge_enter(k, b) else {
        return false;
    };
    f();
    drm_bridge_exit(k, idx);
    true
}

/// Whether a driver of this variant uses `drm_bridge_unplug` and enter/exit (only the drivers
/// converted upstream do; `converted` says whether this one was).
pub fn guards(k: &Kernel, variant: Variant, converted: bool) -> bool {
    // cite: commit d36137085a4a; v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_reset_work
    converted && variant == Variant::NextBridge && rules(k).bridge_unplug
}

/// `.remove`: `drm_bridge_unplug` for a guarding driver, `drm_bridge_remove` otherwise.
pub fn remove_bridge(k: &Kernel, dev: DeviceId, guard: bool) {
    if let Some(b) = drvdata_bridge(k, dev) {
        if guard {
            drm_bridge_unplug(k, b);
        } else {
            drm_bridge_remove(k, b);
        }
    }
}

/// The next bridge a driver stored: `bridge->next_bridge` (counted, the v7.0+ conversions) or
/// the driver's own raw pointer (`raw`, borrowed) before.
pub fn stored_next(
    k: &Kernel,
    b: DrmBridge,
    counted: bool,
    raw: Option<DrmBridge>,
) -> Option<DrmBridge> {
    if counted {
        k.read_field(b.obj(), drm::bridge::F_NEXT_BRIDGE, |x| x.next_bridge)
    } else {
        raw
    }
}
