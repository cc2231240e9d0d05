//! `drivers/gpu/drm/panel/panel-simple.c`, `panel-lvds.c` and the DSI panels
//! (real-pipelines.md §4.2 #11).
//!
//! Probe: the `power` supply and optional `enable` GPIO (`-EPROBE_DEFER` until their suppliers
//! bind), `devm_drm_panel_alloc`, `drm_panel_add`; a DSI panel then attaches to its host (its
//! parent node). Remove: a DSI panel detaches, then `drm_panel_remove`, `drm_panel_disable` and
//! `drm_panel_unprepare` (panel-simple's remove turns the panel off). Consumers never hold a
//! reference: `of_drm_find_panel` returns a raw pointer.

use std::rc::Rc;

use drm::panel::{
    devm_drm_panel_alloc, drm_panel_add, drm_panel_disable, drm_panel_priv, drm_panel_remove,
    drm_panel_unprepare, DrmPanel, DrmPanelFuncs, DrmPanelObj,
};
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::Hw;
use kmodel::{Errno, Kernel};

use crate::mipi_dsi::{
    mipi_dsi_attach, mipi_dsi_detach, of_find_mipi_dsi_host_by_node, MipiDsiDevice,
};
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};

/// panel-lvds and the panel-simple panels of the boards bridgesim reads.
pub const COMPATIBLE: &[&str] = &[
    "panel-lvds",
    "panel-simple",
    "logictechno,lt170410-2whc",
    "powertip,ph800480t013-idf02",
    "neweast,wjfh116008a",
    "mitsubishi,aa104xd12",
    "jenson,bl-jt60050-01a",
];

/// DSI panels (panel-leadtek-ltk050h3146w, panel-orisetech-otm8009a): on the mipi-dsi bus.
pub const DSI_COMPATIBLE: &[&str] = &["leadtek,ltk050h3148w", "orisetech,otm8009a"];

struct Priv {
    power: Hw,
    enable: Option<Hw>,
}

struct Funcs;

impl DrmPanelFuncs for Funcs {
    fn prepare(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        let _f = k.func("panel_simple_prepare");
        let power = drm_panel_priv::<Priv, _>(k, p, |x| x.power);
        k.hw_enable(power);
        Ok(())
    }
    fn enable(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        let _f = k.func("panel_simple_enable");
        if let Some(g) = drm_panel_priv::<Priv, _>(k, p, |x| x.enable) {
            k.hw_access(g, "gpiod_set_value_cansleep(enable, 1)");
        }
        Ok(())
    }
    fn disable(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        let _f = k.func("panel_simple_disable");
        if let Some(g) = drm_panel_priv::<Priv, _>(k, p, |x| x.enable) {
            k.hw_access(g, "gpiod_set_value_cansleep(enable, 0)");
        }
        Ok(())
    }
    fn unprepare(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        let _f = k.func("panel_simple_unprepare");
        let power = drm_panel_priv::<Priv, _>(k, p, |x| x.power);
        k.hw_disable(power);
        Ok(())
    }
}

/// The driver model; `dsi` for the DSI panels.
pub struct Panel {
    pub dsi: bool,
}

fn dsi_device(k: &Kernel, dev: DeviceId) -> Option<(crate::mipi_dsi::MipiDsiHost, MipiDsiDevice)> {
    let node = k.dev_of_node(dev)?;
    let parent = k.of_tree(|t| t.parent(node))?;
    let host = of_find_mipi_dsi_host_by_node(k, parent)?;
    Some((
        host,
        MipiDsiDevice {
            dev,
            node: Some(node),
        },
    ))
}

impl Driver for Panel {
    fn name(&self) -> &'static str {
        if self.dsi {
            "panel-dsi"
        } else {
            "panel-simple"
        }
    }
    fn of_match_table(&self) -> &[&'static str] {
        if self.dsi {
            DSI_COMPATIBLE
        } else {
            COMPATIBLE
        }
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("panel_simple_probe");
        let power = devm_regulator_get(k, dev, "power")?;
        let enable = devm_gpiod_get_optional(k, dev, "enable")?;
        let name = k.dev_name(dev);
        let p = devm_drm_panel_alloc(
            k,
            dev,
            "struct panel_simple",
            &name,
            Rc::new(Funcs),
            Priv { power, enable },
        )?;
        drm_panel_add(k, p);
        k.dev_set_drvdata(dev, Some(p.obj()));
        if self.dsi {
            let attached = match dsi_device(k, dev) {
                Some((host, d)) => mipi_dsi_attach(k, host, d),
                None => Err(Errno::EPROBE_DEFER),
            };
            if let Err(e) = attached {
                drm_panel_remove(k, p);
                return Err(e);
            }
        }
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("panel_simple_remove");
        if self.dsi {
            if let Some((host, d)) = dsi_device(k, dev) {
                mipi_dsi_detach(k, host, d);
            }
        }
        let Some(o) = k.dev_get_drvdata::<DrmPanelObj>(dev) else {
            return;
        };
        let p = DrmPanel::from_obj(o);
        drm_panel_remove(k, p);
        let _ = drm_panel_disable(k, p);
        let _ = drm_panel_unprepare(k, p);
    }
}
