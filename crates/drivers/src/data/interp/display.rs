//! The display-controller calls, the legacy connector path and display-connector's calls
//! (docs/driver-format.md, "Display controllers and connectors"): the card (`drm_device`),
//! its mode config, encoders, the first `drm_bridge_attach` with explicit flags, the
//! connectors (a bridge's own, embedded in its container; a drm_bridge_connector), the
//! endpoint loop, the DDC adapter and `detect`'s return.

use std::rc::Rc;
use std::sync::Arc;

use drm::atomic::drm_atomic_helper_shutdown;
use drm::bridge::{drm_bridge_attach, DrmBridge, DRM_BRIDGE_ATTACH_NO_CONNECTOR};
use drm::bridge_connector::drm_bridge_connector_init;
use drm::connector::{
    drm_connector_attach_encoder, drm_connector_cleanup, drm_connector_for_encoder,
    drm_connector_forget, drm_connector_init_embedded, ConnectorStatus, DrmConnector,
    DrmConnectorFuncs,
};
use drm::drv::{
    devm_drm_dev_alloc, drm_dev_alloc, drm_dev_put, drm_dev_register, drm_dev_unregister,
    drm_mode_config_encoders, drmm_mode_config_init,
};
use drm::encoder::{drm_encoder_init, drmm_encoder_alloc};
use kmodel::hw::HwKind;
use kmodel::{Errno, Kernel};

use super::{Ctx, Frame, Val};
use crate::data::format::{AttachFlags, Call, CallName, Description, Returns, Slot};
use crate::display::{display_register, display_unregister, Pipe};

/// The connector a data bridge makes in `.attach` (`drm_connector_init`): embedded in its
/// container, its helper callbacks are the description's `connector_get_modes` and
/// `connector_detect`, run on the bridge's container (a use-after-free once it is freed).
struct DataConnectorFuncs {
    desc: Arc<Description>,
    bridge: DrmBridge,
}

impl DataConnectorFuncs {
    fn frame<'k>(&self, k: &'k Kernel) -> Frame<'k> {
        let dev = super::ctx_dev(k, Ctx::Bridge(self.bridge));
        Frame::new(k, self.desc.clone(), dev, Some(Ctx::Bridge(self.bridge)))
    }
}

impl DrmConnectorFuncs for DataConnectorFuncs {
    /// No `.detect`: the probe helper reports the connector connected.
    fn detect(&self, k: &Kernel, _c: DrmConnector) -> ConnectorStatus {
        let Some(cb) = self.desc.slot(Slot::ConnectorDetect) else {
            return ConnectorStatus::Connected;
        };
        let returns = cb.returns.clone();
        let mut fr = self.frame(k);
        match fr.run_slot(Slot::ConnectorDetect) {
            Ok(()) => fr.got_status.unwrap_or(match returns {
                Returns::Status(s) if s == "connected" => ConnectorStatus::Connected,
                Returns::Status(s) if s == "disconnected" => ConnectorStatus::Disconnected,
                _ => ConnectorStatus::Unknown,
            }),
            Err(_) => ConnectorStatus::Unknown,
        }
    }
    fn get_modes(&self, k: &Kernel, _c: DrmConnector) -> u32 {
        let Some(cb) = self.desc.slot(Slot::ConnectorGetModes) else {
            return 0;
        };
        let returns = cb.returns.clone();
        let mut fr = self.frame(k);
        match fr.run_slot(Slot::ConnectorGetModes) {
            Ok(()) => fr.got_modes.unwrap_or(match returns {
                Returns::Count(n) => n,
                _ => 0,
            }),
            Err(_) => 0,
        }
    }
    /// `.destroy = drm_connector_cleanup`.
    fn destroy(&self, k: &Kernel, c: DrmConnector) {
        drm_connector_cleanup(k, c);
    }
}

impl Frame<'_> {
    pub(super) fn drm_of(&self, field: &str) -> Result<drm::drv::DrmDevice, Errno> {
        match self.get(field) {
            Val::Drm(d) => Ok(d),
            _ => {
                self.k.warn(format!(
                    "{}: `{field}` is used before its drm_dev_alloc",
                    self.desc.name
                ));
                Err(Errno::EINVAL)
            }
        }
    }

    fn encoder_of(&self, field: &str) -> Option<drm::encoder::DrmEncoder> {
        match self.get(field) {
            Val::Encoder(e) => Some(e),
            _ => None,
        }
    }

    /// The flags a `drm_bridge_attach` passes.
    pub(super) fn attach_flags(&self, c: &Call) -> u32 {
        match c.flags {
            AttachFlags::PassOn => self.encoder.map_or(0, |(_, f)| f),
            AttachFlags::Zero => 0,
            AttachFlags::NoConnector => DRM_BRIDGE_ATTACH_NO_CONNECTOR,
        }
    }

    /// `drm_bridge_attach(encoder, bridge, NULL, flags)` of a display controller: `field` is
    /// the bridge (none: the container's own), `from` the encoder.
    pub(super) fn attach_first(&mut self, c: &Call, from: &str) -> Result<(), Errno> {
        // No `field`: the container's own bridge.
        let bridge = match c.field.as_deref() {
            Some(f) => self.bridge_of(f),
            None => self.bridge(),
        };
        let enc = self.encoder_of(from);
        drm_bridge_attach(self.k, enc, bridge, None, self.attach_flags(c))
    }

    /// The current endpoint's remote port parent is available.
    pub(super) fn remote_available(&self) -> bool {
        let Some(ep) = self.endpoint else {
            return false;
        };
        self.k.of_tree(|t| {
            t.of_graph_get_remote_port_parent(ep.node)
                .is_ok_and(|n| t.of_device_is_available(n))
        })
    }

    /// The calls of this block.
    pub(super) fn exec_display(&mut self, c: &Call) -> Result<(), Errno> {
        let k = self.k;
        let dev = self.dev;
        match c.name {
            CallName::DrmDevAlloc | CallName::DevmDrmDevAlloc => {
                let f = self.field(c).to_string();
                let name = k.dev_name(dev);
                let drm = if c.name == CallName::DrmDevAlloc {
                    drm_dev_alloc(k, dev, &name, self.owner(&f))
                } else {
                    devm_drm_dev_alloc(k, dev, &name)?
                };
                self.set(&f, Val::Drm(drm));
                Ok(())
            }
            CallName::DrmmModeConfigInit => drmm_mode_config_init(k, self.drm_of(self.field(c))?),
            CallName::DrmEncoderInit | CallName::DrmmEncoderAlloc => {
                let from = c.from.as_deref().expect("checked at load");
                let drm = self.drm_of(from)?;
                let name = format!("encoder-{}", self.endpoint.map_or(0, |e| e.id));
                let enc = if c.name == CallName::DrmEncoderInit {
                    drm_encoder_init(k, drm, dev, &name)?
                } else {
                    drmm_encoder_alloc(k, drm, &name)?
                };
                let f = self.field(c).to_string();
                self.set(&f, Val::Encoder(enc));
                Ok(())
            }
            CallName::DrmBridgeConnectorInit => {
                // A display controller names its encoder; a bridge's `.attach` (the legacy
                // path of it6263, adv7511) uses the encoder it is attached to.
                let enc = match c.from.as_deref() {
                    Some(from) => self.encoder_of(from),
                    None => self.encoder.map(|(e, _)| e),
                }
                .ok_or(Errno::EINVAL)?;
                let drm = k.read(enc.obj(), |e| e.dev);
                let conn = drm_bridge_connector_init(k, drm, enc)?;
                let f = self.field(c).to_string();
                self.set(&f, Val::Connector(conn));
                Ok(())
            }
            CallName::DrmConnectorInit => {
                let b = self.need_bridge()?;
                let Some(drm) = drm::bridge::drm_bridge_dev_ptr(k, b) else {
                    return Err(Errno::EINVAL);
                };
                let name = format!("{}-connector", k.dev_name(dev));
                let funcs: Rc<dyn DrmConnectorFuncs> = Rc::new(DataConnectorFuncs {
                    desc: self.desc.clone(),
                    bridge: b,
                });
                let conn = drm_connector_init_embedded(k, drm, &name, funcs, b);
                let f = self.field(c).to_string();
                self.set(&f, Val::Connector(conn));
                Ok(())
            }
            CallName::DrmConnectorAttachEncoder => {
                let Val::Connector(conn) = self.get(self.field(c)) else {
                    return Ok(());
                };
                let enc = match c.from.as_deref() {
                    Some(from) => self.encoder_of(from),
                    None => self.encoder.map(|(e, _)| e),
                };
                if let Some(enc) = enc {
                    drm_connector_attach_encoder(k, conn, enc);
                }
                Ok(())
            }
            CallName::DrmConnectorCleanup => {
                let f = self.field(c).to_string();
                if let Val::Connector(conn) = self.get(&f) {
                    self.set(&f, Val::Null);
                    drm_connector_cleanup(k, conn);
                    drm_connector_forget(k, conn);
                }
                Ok(())
            }
            CallName::DrmDevRegister => {
                let drm = self.drm_of(self.field(c))?;
                drm_dev_register(k, drm)?;
                // Userspace finds the card's pipelines from here on: one per encoder, with the
                // connector attached to it, if the chain made one.
                if let Some(node) = k.dev_of_node(dev) {
                    for enc in drm_mode_config_encoders(k, drm) {
                        let connector = drm_connector_for_encoder(k, drm, enc);
                        display_register(
                            k,
                            Pipe {
                                node,
                                drm,
                                encoder: enc,
                                connector,
                            },
                        );
                    }
                }
                Ok(())
            }
            CallName::DrmDevUnregister => {
                if let Some(node) = k.dev_of_node(dev) {
                    display_unregister(k, node);
                }
                drm_dev_unregister(k, self.drm_of(self.field(c))?);
                Ok(())
            }
            CallName::DrmAtomicHelperShutdown => {
                drm_atomic_helper_shutdown(k, self.drm_of(self.field(c))?);
                Ok(())
            }
            CallName::DrmDevPut => {
                let f = self.field(c).to_string();
                let drm = self.drm_of(&f)?;
                drm_dev_put(k, drm, self.owner(&f));
                Ok(())
            }
            CallName::ForEachEndpointOfNode => {
                let eps = match k.dev_of_node(dev) {
                    Some(n) => k.of_tree(|t| t.of_graph_endpoints(n)),
                    None => Vec::new(),
                };
                let saved = self.endpoint;
                let mut r = Ok(());
                for ep in eps {
                    self.endpoint = Some(ep);
                    r = self.run_calls(&c.body);
                    self.cont = false;
                    if r.is_err() || self.stop {
                        break;
                    }
                }
                self.endpoint = saved;
                r
            }
            CallName::Continue => {
                self.cont = true;
                Ok(())
            }
            CallName::OfGetI2cAdapterByNode => {
                let f = self.field(c).to_string();
                let prop = c.id.as_deref().expect("checked at load");
                let phandle = k
                    .dev_of_node(dev)
                    .and_then(|n| k.of_tree(|t| t.of_parse_phandle(n, prop, 0)));
                let Some(adapter) = phandle else {
                    self.set(&f, Val::Null);
                    return Ok(());
                };
                // of_get_i2c_adapter_by_node: NULL (the caller defers) until the adapter binds.
                let bound = k
                    .of_find_device_by_node(adapter)
                    .filter(|&d| k.device_is_bound(d));
                let Some(a) = bound else {
                    return Err(Errno::EPROBE_DEFER);
                };
                k.device_link_add(dev, a);
                let h = k.devm_hw_get(dev, HwKind::I2c, &f);
                self.set(&f, Val::Hw(h));
                Ok(())
            }
            CallName::DrmEdidReadDdc => {
                if let Some(h) = self.hw_of(self.field(c)) {
                    k.hw_access(h, c.what.as_deref().unwrap_or("drm_edid_read_ddc"));
                }
                Ok(())
            }
            CallName::ReturnStatus => {
                self.got_status = Some(match c.status.as_deref() {
                    Some("connected") => ConnectorStatus::Connected,
                    Some("disconnected") => ConnectorStatus::Disconnected,
                    _ => ConnectorStatus::Unknown,
                });
                self.stop = true;
                Ok(())
            }
            _ => unreachable!("{} is not a display call", c.name),
        }
    }
}
