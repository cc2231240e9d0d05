//! The driver description format (docs/driver-format.md): serde types as written, the call
//! vocabulary, and the checks that turn a file (and the files it inherits) into a
//! [`Description`], with located errors.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use drm::cite::Citation;
use drm::of::LookupApi;
use drm::rules::Release;
use kmodel::Errno;
use serde::Deserialize;
use toml::Spanned;

/// A description file as written: every top-level field is optional in a file that
/// `inherits` another; the resolved [`Description`] must have them all.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescriptionFile {
    /// In a scenario's `[[driver]]` only: the description is this file (relative to the
    /// scenario), and the table has no other key.
    pub include: Option<Spanned<String>>,
    /// The release whose description this one starts from (`"v7.0"`), in the same directory,
    /// or for an inline or included description a path to another description file.
    pub inherits: Option<Spanned<String>>,
    /// `struct device_driver.name`.
    pub name: Option<Spanned<String>>,
    /// The `of_match_table` compatible strings.
    pub compatible: Option<Spanned<Vec<Spanned<String>>>>,
    pub bus: Option<Spanned<Bus>>,
    pub role: Option<Spanned<DriverRole>>,
    /// The C type of the container (`"struct sn65dsi83"`), named in reports.
    pub container: Option<Spanned<String>>,
    /// The C source file it models (`drivers/gpu/drm/bridge/ti-sn65dsi83.c`).
    pub source: Option<Spanned<String>>,
    /// For a driver with no source in the corpus: which upstream driver it follows.
    pub follows: Option<Spanned<String>>,
    /// `.atomic_reset` is set: the bridge gets a private object at attach.
    pub atomic: Option<Spanned<bool>>,
    /// `DRM_BRIDGE_OP_*` the bridge sets.
    pub ops: Option<Spanned<Vec<Spanned<BridgeOp>>>>,
    /// The private fields of the container, by their C name.
    #[serde(default)]
    pub fields: BTreeMap<String, Spanned<FieldDecl>>,
    /// The callbacks and the driver's own functions (work, IRQ handlers, devm actions,
    /// helpers), by name.
    #[serde(default)]
    pub callbacks: BTreeMap<String, Spanned<CallbackDecl>>,
}

/// The bus a driver registers on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bus {
    I2c,
    Platform,
    Dsi,
}

impl Bus {
    pub fn name(self) -> &'static str {
        match self {
            Bus::I2c => "i2c",
            Bus::Platform => "platform",
            Bus::Dsi => "dsi",
        }
    }
}

impl fmt::Display for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the driver is in a display pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverRole {
    Bridge,
    Panel,
    DisplayController,
    /// A component that makes its encoder, and the bridge embedded with it, at its master's
    /// `bind` (i.MX parallel-display up to v6.17): its container is plain memory, it adds no
    /// bridge of its own.
    Encoder,
}

impl DriverRole {
    pub fn name(self) -> &'static str {
        match self {
            DriverRole::Bridge => "bridge",
            DriverRole::Panel => "panel",
            DriverRole::DisplayController => "display-controller",
            DriverRole::Encoder => "encoder",
        }
    }
}

impl fmt::Display for DriverRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `DRM_BRIDGE_OP_*`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BridgeOp {
    Detect,
    Edid,
    Hpd,
    Modes,
    Hdmi,
    HdmiAudio,
    DpAudio,
    HdmiCec,
}

/// A private field of the container.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDecl {
    pub kind: Spanned<FieldKind>,
    /// `bridge`, `panel`: whether the pointer holds a reference the driver puts (`true`) or
    /// is borrowed (`false`, the default).
    #[serde(default)]
    pub counted: bool,
    /// `work`, `delayed_work`: the work function; `irq`: the handler (a callback name).
    pub func: Option<Spanned<String>>,
    /// `irq`: where the interrupt comes from in the device tree: `"interrupts"` (the device's
    /// own, `client->irq`, the default) or a GPIO (`"hpd-gpios"`). `hpd = true` makes it the
    /// line the scenario's `hpd` step raises.
    pub source: Option<Spanned<String>>,
    #[serde(default)]
    pub hpd: bool,
}

/// What a private field holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// `struct drm_bridge *`.
    Bridge,
    /// `struct drm_panel *`.
    Panel,
    /// `struct regulator *`.
    Regulator,
    /// `struct gpio_desc *`.
    Gpio,
    /// `struct regmap *` (or any register window).
    Regmap,
    /// `struct work_struct`.
    Work,
    /// `struct delayed_work`.
    DelayedWork,
    /// An interrupt line (`int irq`).
    Irq,
    /// `struct mutex`.
    Mutex,
    /// `struct mipi_dsi_host` the driver registers.
    DsiHost,
    /// A child `struct device` (`platform_device *` of an HDMI codec, a CEC adapter...).
    Device,
    /// A `bool` of the driver's (`ctx->pre_enabled`): `set`, `clear`, tested with `if`.
    Flag,
    // Display controllers and connectors (docs/driver-format.md, "Display controllers").
    /// `struct drm_device *` (a display controller's card).
    DrmDevice,
    /// `struct drm_encoder *`.
    Encoder,
    /// `struct drm_connector *` (a bridge's own, embedded in its container, or a
    /// drm_bridge_connector).
    Connector,
    /// `struct i2c_adapter *` (a DDC bus, `bridge->ddc`).
    I2cAdapter,
}

impl FieldKind {
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Bridge => "bridge",
            FieldKind::Panel => "panel",
            FieldKind::Regulator => "regulator",
            FieldKind::Gpio => "gpio",
            FieldKind::Regmap => "regmap",
            FieldKind::Work => "work",
            FieldKind::DelayedWork => "delayed_work",
            FieldKind::Irq => "irq",
            FieldKind::Mutex => "mutex",
            FieldKind::DsiHost => "dsi_host",
            FieldKind::Device => "device",
            FieldKind::Flag => "flag",
            FieldKind::DrmDevice => "drm_device",
            FieldKind::Encoder => "encoder",
            FieldKind::Connector => "connector",
            FieldKind::I2cAdapter => "i2c_adapter",
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A callback or a function of the driver, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackDecl {
    /// What it models: `release:path:function`, `commit <id>` or `series <name>`.
    pub cite: Option<Spanned<String>>,
    /// Instead of `cite`, in a description with a top-level `follows` (no source in the corpus,
    /// no commit or series to cite): the function of that upstream file it follows.
    pub follows: Option<Spanned<String>>,
    /// The framework calls it makes, in order.
    #[serde(default)]
    pub calls: Vec<Spanned<CallDecl>>,
    /// `mode_valid`: whether the mode passes (default true); `get_modes`: the number of modes
    /// (default 0); `detect`: `"connected"`, `"disconnected"` or `"unknown"` (default).
    pub returns: Option<Spanned<toml::Value>>,
}

/// One call as written. Which of the optional arguments a call takes is in [`CallName::args`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallDecl {
    pub call: Spanned<String>,
    /// The field acted on, or that receives the result (`next_bridge` is `bridge->next_bridge`).
    pub field: Option<Spanned<String>>,
    /// The field a value comes from (`drm_bridge_get`'s argument, the panel of
    /// `devm_drm_panel_bridge_add`, a stored pointer).
    pub from: Option<Spanned<String>>,
    /// OF graph port and endpoint of a lookup (`-1`: any).
    pub port: Option<Spanned<i32>>,
    pub endpoint: Option<Spanned<i32>>,
    /// Supply or GPIO name (`devm_regulator_get(dev, "vcc")`), child device name.
    pub id: Option<Spanned<String>>,
    /// What a register access does, for reports (`"regmap_write(REG_RC_RESET)"`).
    pub what: Option<Spanned<String>>,
    /// A function of the driver: a devm action, a helper called, a work/IRQ function.
    pub function: Option<Spanned<String>>,
    /// `drm_bridge_hpd_notify`: `"connected"` or `"disconnected"`.
    pub status: Option<Spanned<String>>,
    /// `return_error`: the error returned (`"ENODEV"`; default `"EINVAL"`).
    pub errno: Option<Spanned<String>>,
    /// `bridge_op`: the `DRM_BRIDGE_OP_*` added to `bridge.ops`.
    pub op: Option<Spanned<BridgeOp>>,
    /// `drmm_simple_encoder_alloc`: the bridge field that receives the `struct drm_bridge`
    /// member of the allocated struct (no container, a zeroed kref, freed with the struct).
    pub bridge: Option<Spanned<String>>,
    /// `drm_bridge_attach`: the flags passed, `"0"` or `"no-connector"`
    /// (`DRM_BRIDGE_ATTACH_NO_CONNECTOR`); omitted in a bridge's `.attach`: the flags it was
    /// given, passed on.
    pub flags: Option<Spanned<String>>,
    /// Only when this holds: `"FIELD"` (set), `"!FIELD"` (NULL), `"compatible:STR"` (the node
    /// is compatible with STR), `"property:NAME"` (the node has the property).
    #[serde(rename = "if")]
    pub cond: Option<Spanned<String>>,
    /// A lookup that may find nothing (`-ENODEV`): the field stays NULL and the callback goes
    /// on.
    #[serde(default)]
    pub optional: bool,
    /// A call the hardware can fail (`regmap_*`, `regulator_enable`...): with
    /// `inject_faults = true` in the scenario, both outcomes are explored.
    #[serde(default)]
    pub can_fail: bool,
    /// The error branch: run when the call fails, then the callback returns.
    #[serde(default)]
    pub on_error: Vec<Spanned<CallDecl>>,
    /// `scoped_guard`'s body.
    #[serde(default)]
    pub body: Vec<Spanned<CallDecl>>,
    /// The other branch of a call that can fail: run when it fails, after which the callback
    /// goes on (`panel = of_drm_find_panel(np); if (IS_ERR(panel)) bridge = ...`). Not with
    /// `on_error`.
    #[serde(default)]
    pub or_else: Vec<Spanned<CallDecl>>,
}

macro_rules! vocabulary {
    ($($(#[doc = $doc:literal])+ $V:ident => $name:literal [$($arg:ident),*] fails $fails:literal;)*) => {
        /// Every framework call a description can make, spelled as the kernel spells it.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CallName {
            $($(#[doc = $doc])+ $V,)*
        }

        impl CallName {
            pub const ALL: &'static [CallName] = &[$(CallName::$V),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(CallName::$V => $name,)*
                }
            }

            /// The optional arguments it takes (besides `if`, `on_error`, `can_fail`).
            pub fn args(self) -> &'static [Arg] {
                match self {
                    $(CallName::$V => &[$(Arg::$arg),*],)*
                }
            }

            /// Whether it can fail by itself (a lookup that defers, an enter on an unplugged
            /// bridge...), so that an `on_error` branch may follow it without `can_fail`.
            pub fn fails(self) -> bool {
                match self {
                    $(CallName::$V => $fails,)*
                }
            }
        }
    };
}

vocabulary! {
    /// Allocate the container and its bridge, refcount 1 owned by devres (v6.16+).
    DevmDrmBridgeAlloc => "devm_drm_bridge_alloc" [] fails true;
    /// Allocate the container with devres (before v6.16 for bridges: freed at unbind).
    DevmKzalloc => "devm_kzalloc" [] fails true;
    /// Allocate the container, freed by the driver (`kfree` in `.destroy`/remove).
    Kzalloc => "kzalloc" [] fails true;
    /// Free the container allocated with `kzalloc`.
    Kfree => "kfree" [] fails false;
    /// Allocate the panel (panels).
    DevmDrmPanelAlloc => "devm_drm_panel_alloc" [] fails true;
    /// Publish the bridge.
    DrmBridgeAdd => "drm_bridge_add" [] fails false;
    /// Publish the bridge, removed by devres.
    DevmDrmBridgeAdd => "devm_drm_bridge_add" [] fails true;
    /// Unpublish the bridge.
    DrmBridgeRemove => "drm_bridge_remove" [] fails false;
    /// Mark the bridge unplugged, wait for enter/exit sections, remove it (v7.0+).
    DrmBridgeUnplug => "drm_bridge_unplug" [] fails false;
    /// `drm_bridge_attach(encoder, field, bridge, flags)`: attach the bridge in `field` after
    /// this one (in `.attach`).
    DrmBridgeAttach => "drm_bridge_attach" [Field, From, Flags] fails true;
    /// Enter the device-access section; fails once the bridge is unplugged.
    DrmBridgeEnter => "drm_bridge_enter" [] fails true;
    /// Leave the innermost entered section.
    DrmBridgeExit => "drm_bridge_exit" [] fails false;
    /// `field = drm_bridge_get(from)` (or take a reference on `field` itself).
    DrmBridgeGet => "drm_bridge_get" [Field, From] fails false;
    /// `drm_bridge_put(field)`.
    DrmBridgePut => "drm_bridge_put" [Field] fails false;
    /// `drm_bridge_clear_and_put(&field)` (v7.1).
    DrmBridgeClearAndPut => "drm_bridge_clear_and_put" [Field] fails false;
    /// `field = from` (a plain pointer store, no reference taken), or `field = NULL` without
    /// `from`.
    Store => "store" [Field, From] fails false;
    /// `of_drm_find_bridge(remote node of port/endpoint)`: borrowed.
    OfDrmFindBridge => "of_drm_find_bridge" [Field, Port, Endpoint] fails true;
    /// `of_drm_find_and_get_bridge(...)` (v7.0+): counted.
    OfDrmFindAndGetBridge => "of_drm_find_and_get_bridge" [Field, Port, Endpoint] fails true;
    /// `drm_of_find_panel_or_bridge(np, port, endpoint, &panel, &bridge)`: both borrowed;
    /// `field` receives the bridge, `from` names the panel field (omit for a bridge-only call).
    DrmOfFindPanelOrBridge => "drm_of_find_panel_or_bridge" [Field, From, Port, Endpoint] fails true;
    /// `of_drm_get_bridge_by_endpoint(np, port, endpoint)` (v7.2): counted.
    OfDrmGetBridgeByEndpoint => "of_drm_get_bridge_by_endpoint" [Field, Port, Endpoint] fails true;
    /// `devm_drm_of_get_bridge(dev, np, port, endpoint)`: a panel is wrapped in a devm
    /// panel_bridge; a bridge is borrowed.
    DevmDrmOfGetBridge => "devm_drm_of_get_bridge" [Field, Port, Endpoint] fails true;
    /// `of_drm_find_panel(remote node)`: borrowed.
    OfDrmFindPanel => "of_drm_find_panel" [Field, Port, Endpoint] fails true;
    /// `field = devm_drm_panel_bridge_add(dev, from)`.
    DevmDrmPanelBridgeAdd => "devm_drm_panel_bridge_add" [Field, From] fails true;
    /// `field = drm_panel_bridge_add(from)`.
    DrmPanelBridgeAdd => "drm_panel_bridge_add" [Field, From] fails true;
    /// `drm_panel_bridge_remove(field)`.
    DrmPanelBridgeRemove => "drm_panel_bridge_remove" [Field] fails false;
    /// `devm_regulator_get(dev, id)` into `field`.
    DevmRegulatorGet => "devm_regulator_get" [Field, Id] fails true;
    /// `devm_regulator_get_optional(dev, id)`: NULL without a supply.
    DevmRegulatorGetOptional => "devm_regulator_get_optional" [Field, Id] fails true;
    /// `regulator_enable(field)`.
    RegulatorEnable => "regulator_enable" [Field] fails false;
    /// `regulator_disable(field)`.
    RegulatorDisable => "regulator_disable" [Field] fails false;
    /// `devm_gpiod_get(dev, id)`.
    DevmGpiodGet => "devm_gpiod_get" [Field, Id] fails true;
    /// `devm_gpiod_get_optional(dev, id)`: NULL without the property.
    DevmGpiodGetOptional => "devm_gpiod_get_optional" [Field, Id] fails true;
    /// `gpiod_set_value_cansleep(field, ...)`; NULL-safe.
    GpiodSetValue => "gpiod_set_value_cansleep" [Field, What] fails false;
    /// `gpiod_get_value_cansleep(field)`: a read of the GPIO (a hardware access); NULL-safe.
    GpiodGetValue => "gpiod_get_value_cansleep" [Field, What] fails false;
    /// `devm_regmap_init_i2c` (or `devm_platform_ioremap_resource`): a register window.
    DevmRegmapInit => "devm_regmap_init_i2c" [Field] fails true;
    /// `devm_platform_ioremap_resource`: a register window.
    DevmIoremap => "devm_platform_ioremap_resource" [Field] fails true;
    /// `regmap_read(field, ...)`.
    RegmapRead => "regmap_read" [Field, What] fails false;
    /// `regmap_write(field, ...)`.
    RegmapWrite => "regmap_write" [Field, What] fails false;
    /// `devm_add_action(dev, function, ctx)`.
    DevmAddAction => "devm_add_action" [Function] fails true;
    /// `devm_add_action_or_reset(dev, function, ctx)`: runs it at once on failure.
    DevmAddActionOrReset => "devm_add_action_or_reset" [Function] fails true;
    /// `devm_release_action(dev, function, ctx)`: run and drop it now.
    DevmReleaseAction => "devm_release_action" [Function] fails false;
    /// `request_irq`: the IRQ field's handler; freed by `free_irq`.
    RequestIrq => "request_irq" [Field] fails true;
    /// `devm_request_threaded_irq`: freed by devres at unbind. Requested only when the node
    /// has the interrupt (`client->irq`); the field stays 0 otherwise.
    DevmRequestThreadedIrq => "devm_request_threaded_irq" [Field] fails true;
    /// `free_irq(field)`.
    FreeIrq => "free_irq" [Field] fails false;
    /// `disable_irq(field)`: waits for running handlers.
    DisableIrq => "disable_irq" [Field] fails false;
    /// `disable_irq_nosync(field)`.
    DisableIrqNosync => "disable_irq_nosync" [Field] fails false;
    /// `enable_irq(field)`.
    EnableIrq => "enable_irq" [Field] fails false;
    /// `INIT_WORK(&field, func)`.
    InitWork => "INIT_WORK" [Field] fails false;
    /// `INIT_DELAYED_WORK(&field, func)`.
    InitDelayedWork => "INIT_DELAYED_WORK" [Field] fails false;
    /// `schedule_work(&field)`.
    ScheduleWork => "schedule_work" [Field] fails false;
    /// `schedule_delayed_work(&field, delay)`.
    ScheduleDelayedWork => "schedule_delayed_work" [Field] fails false;
    /// `cancel_work_sync(&field)`.
    CancelWorkSync => "cancel_work_sync" [Field] fails false;
    /// `cancel_delayed_work_sync(&field)`.
    CancelDelayedWorkSync => "cancel_delayed_work_sync" [Field] fails false;
    /// `drm_panel_prepare(field)`.
    DrmPanelPrepare => "drm_panel_prepare" [Field] fails false;
    /// `drm_panel_enable(field)`.
    DrmPanelEnable => "drm_panel_enable" [Field] fails false;
    /// `drm_panel_disable(field)`.
    DrmPanelDisable => "drm_panel_disable" [Field] fails false;
    /// `drm_panel_unprepare(field)`.
    DrmPanelUnprepare => "drm_panel_unprepare" [Field] fails false;
    /// `drm_panel_add(&ctx->panel)` (panels).
    DrmPanelAdd => "drm_panel_add" [] fails false;
    /// `drm_panel_remove(&ctx->panel)`.
    DrmPanelRemove => "drm_panel_remove" [] fails false;
    /// `mipi_dsi_host_register`: this driver is a DSI host; its `dsi_host_attach` and
    /// `dsi_host_detach` callbacks run when a peripheral attaches.
    MipiDsiHostRegister => "mipi_dsi_host_register" [Field] fails true;
    /// `mipi_dsi_host_unregister(field)`: detaches every peripheral first.
    MipiDsiHostUnregister => "mipi_dsi_host_unregister" [Field] fails false;
    /// `devm_mipi_dsi_device_register_full` + `devm_mipi_dsi_attach` on the host behind
    /// `port`/`endpoint` (`-EPROBE_DEFER` while it is absent).
    DevmMipiDsiAttach => "devm_mipi_dsi_attach" [Port, Endpoint] fails true;
    /// `mipi_dsi_attach(dsi)` of a DSI peripheral (a device on the DSI bus) to its parent host.
    MipiDsiAttach => "mipi_dsi_attach" [] fails true;
    /// `mipi_dsi_detach(dsi)`.
    MipiDsiDetach => "mipi_dsi_detach" [] fails false;
    /// Register the HDMI audio codec child device (`hdmi-audio-codec`) into `field`.
    HdmiAudioRegister => "hdmi_audio_register" [Field, Id] fails true;
    /// Unregister it (`platform_device_unregister(field)`).
    HdmiAudioUnregister => "hdmi_audio_unregister" [Field] fails false;
    /// Register a CEC adapter child device into `field`.
    CecRegister => "cec_register_adapter" [Field, Id] fails true;
    /// `cec_unregister_adapter(field)`.
    CecUnregister => "cec_unregister_adapter" [Field] fails false;
    /// `mutex_init(&field)`.
    MutexInit => "mutex_init" [Field] fails false;
    /// `mutex_destroy(&field)`: a later lock of it is CONFIG_DEBUG_MUTEXES'
    /// `DEBUG_LOCKS_WARN_ON(lock->magic != lock)` (a `warn`).
    MutexDestroy => "mutex_destroy" [Field] fails false;
    /// `mutex_lock(&field)`.
    MutexLock => "mutex_lock" [Field] fails false;
    /// `mutex_unlock(&field)`.
    MutexUnlock => "mutex_unlock" [Field] fails false;
    /// `guard(mutex)(&field)`: held until the callback returns (error branches included).
    Guard => "guard" [Field] fails false;
    /// `scoped_guard(mutex, &field) { body }`.
    ScopedGuard => "scoped_guard" [Field, Body] fails false;
    /// `drm_bridge_hpd_notify(bridge, status)`.
    DrmBridgeHpdNotify => "drm_bridge_hpd_notify" [Status] fails false;
    /// `drm_bridge_helper_reset_crtc`: reset the CRTC the bridge is on (a full modeset in the
    /// kernel; the model records it and does not commit). Mark it `can_fail` to explore its
    /// failure.
    DrmBridgeHelperResetCrtc => "drm_bridge_helper_reset_crtc" [] fails false;
    /// Call a function of the driver (a helper, or a work function run inline).
    Call => "call" [Function] fails true;
    /// Return from the callback with an error (`return -EINVAL` on a path the description
    /// takes under its `if`; `errno` names another).
    ReturnError => "return_error" [Errno] fails false;
    /// Return from the callback with success (`if (!ctx->pre_enabled) return;`).
    Return => "return" [] fails false;
    /// Set a flag field (`ctx->pre_enabled = true`).
    Set => "set" [Field] fails false;
    /// Clear a flag field (`ctx->pre_enabled = false`).
    Clear => "clear" [Field] fails false;
    /// `drm_bridge_detect(field, connector)`: detect through the bridge `field` points to (a
    /// dereference of it); the callback returns what it returns.
    DrmBridgeDetect => "drm_bridge_detect" [Field] fails false;
    /// `drm_bridge_edid_read(field, connector)`: read the EDID through the bridge `field` points
    /// to (a dereference of it); the callback returns the modes it gives.
    DrmBridgeEdidRead => "drm_bridge_edid_read" [Field] fails false;
    /// `drm_kms_helper_hotplug_event(bridge->dev)`: tell userspace the outputs changed (an HPD
    /// handler; only with the bridge attached, so guard it with `if = "bridge.dev"`).
    DrmKmsHelperHotplugEvent => "drm_kms_helper_hotplug_event" [] fails false;
    /// `bridge.ops |= DRM_BRIDGE_OP_<op>` in probe, for an op the driver sets only under a
    /// condition (adv7511: `hpd` when the node has an interrupt).
    BridgeOp => "bridge_op" [Op] fails false;

    // Display controllers, the legacy connector path and display-connector (helper `legacy`):
    // docs/driver-format.md, "Display controllers and connectors". Run by interp::display.
    /// `drm_dev_alloc(&driver, dev)` into a `drm_device` field: the probe owns the first
    /// reference and puts it with `drm_dev_put`.
    DrmDevAlloc => "drm_dev_alloc" [Field] fails true;
    /// `devm_drm_dev_alloc(dev, ...)`: the first reference is put by devres at unbind.
    DevmDrmDevAlloc => "devm_drm_dev_alloc" [Field] fails true;
    /// `drmm_mode_config_init(drm)`: `drm_mode_config_cleanup` at the card's release.
    DrmmModeConfigInit => "drmm_mode_config_init" [Field] fails true;
    /// `encoder = devm_kzalloc(dev, ...); drm_encoder_init(drm, encoder, ...)`: `field` is the
    /// encoder, `from` the `drm_device` field; devres memory of this device.
    DrmEncoderInit => "drm_encoder_init" [Field, From] fails true;
    /// `drmm_encoder_alloc(drm, ...)`: `field` is the encoder, `from` the `drm_device` field.
    DrmmEncoderAlloc => "drmm_encoder_alloc" [Field, From] fails true;
    /// `drm_bridge_connector_init(drm, encoder)`: `field` is the connector, `from` the encoder
    /// field (in a bridge's `.attach`, omitted: `bridge->dev` and the encoder it is attached to).
    DrmBridgeConnectorInit => "drm_bridge_connector_init" [Field, From] fails true;
    /// `drm_connector_init(bridge->dev, &ctx->connector, ...)` in a bridge's `.attach`: the
    /// bridge's own connector, embedded in its container, whose callbacks are the description's
    /// `connector_get_modes` and `connector_detect`, `.destroy = drm_connector_cleanup`.
    DrmConnectorInit => "drm_connector_init" [Field] fails true;
    /// `drm_connector_attach_encoder(field, from)`; in a bridge's `.attach` without `from`: the
    /// encoder it is attached to.
    DrmConnectorAttachEncoder => "drm_connector_attach_encoder" [Field, From] fails false;
    /// `drm_connector_cleanup(field)` (and the model forgets the embedded connector).
    DrmConnectorCleanup => "drm_connector_cleanup" [Field] fails false;
    /// `drm_dev_register(drm, 0)`: userspace can open the card (the model records its
    /// pipelines, one per encoder, for the scenario's steps).
    DrmDevRegister => "drm_dev_register" [Field] fails true;
    /// `drm_dev_unregister(drm)`.
    DrmDevUnregister => "drm_dev_unregister" [Field] fails false;
    /// `drm_atomic_helper_shutdown(drm)`: disable every enabled pipeline.
    DrmAtomicHelperShutdown => "drm_atomic_helper_shutdown" [Field] fails false;
    /// `drm_dev_put(drm)`: drop the reference of `drm_dev_alloc`.
    DrmDevPut => "drm_dev_put" [Field] fails false;
    /// `for_each_endpoint_of_node(dev->of_node, ep) { body }`: a lookup in the body with no
    /// `endpoint` looks up the current endpoint's id (`of_graph_parse_endpoint`).
    ForEachEndpointOfNode => "for_each_endpoint_of_node" [Body] fails false;
    /// `continue` the innermost `for_each_endpoint_of_node`.
    Continue => "continue" [] fails false;
    /// `np = of_parse_phandle(node, id, 0); if (np) field = of_get_i2c_adapter_by_node(np)`:
    /// NULL without the property, `-EPROBE_DEFER` while the adapter is not bound (a device
    /// link to it otherwise).
    OfGetI2cAdapterByNode => "of_get_i2c_adapter_by_node" [Field, Id] fails true;
    /// `drm_edid_read_ddc(connector, field)`: an EDID transfer on the DDC bus (a hardware
    /// access); NULL-safe.
    DrmEdidReadDdc => "drm_edid_read_ddc" [Field, What] fails false;
    /// `return STATUS` from a `detect` (`"connected"`, `"disconnected"`, `"unknown"`).
    ReturnStatus => "return_status" [Status] fails false;
    // Panels (`role = "panel"`): the panel's own calls and runtime PM (data::interp::panel).
    /// `drm_panel_init(&ctx->panel, ...)` on a `devm_kzalloc` container: a panel with no
    /// refcount, freed with the container at unbind (a driver not converted to
    /// `devm_drm_panel_alloc`).
    DrmPanelInit => "drm_panel_init" [] fails false;
    /// `drm_panel_of_backlight(&ctx->panel)`: the `backlight` phandle's device, `-EPROBE_DEFER`
    /// until it binds; nothing without the property.
    DrmPanelOfBacklight => "drm_panel_of_backlight" [] fails true;
    /// `pm_runtime_enable(dev)`: runtime PM on; the device starts suspended.
    PmRuntimeEnable => "pm_runtime_enable" [] fails false;
    /// `pm_runtime_disable(dev)`: cancels a pending autosuspend (waits for a running one).
    PmRuntimeDisable => "pm_runtime_disable" [] fails false;
    /// `pm_runtime_use_autosuspend(dev)`.
    PmRuntimeUseAutosuspend => "pm_runtime_use_autosuspend" [] fails false;
    /// `pm_runtime_dont_use_autosuspend(dev)`: an idle device suspends now (the
    /// `runtime_suspend` callback runs in the caller).
    PmRuntimeDontUseAutosuspend => "pm_runtime_dont_use_autosuspend" [] fails false;
    /// `pm_runtime_get_sync(dev)`: the first user resumes the device (`runtime_resume`).
    PmRuntimeGetSync => "pm_runtime_get_sync" [] fails true;
    /// `pm_runtime_put_autosuspend(dev)`: the last user arms the autosuspend timer (a queued
    /// work that runs `runtime_suspend` at a `run_work` step).
    PmRuntimePutAutosuspend => "pm_runtime_put_autosuspend" [] fails false;
    /// `mipi_dsi_dcs_write(dsi, ...)` (and the other DCS/generic writes): a transfer through the
    /// DSI host to the panel, a hardware access of the panel's link.
    MipiDsiDcsWrite => "mipi_dsi_dcs_write" [What] fails false;
    // The component framework and aggregate DRM drivers (crate::component, interp::component).
    /// `component_add(dev, &ops)` in a component's probe: its `bind` and `unbind` callbacks
    /// are its `component_ops`; the aggregate it completes binds now.
    ComponentAdd => "component_add" [] fails true;
    /// `component_del(dev, &ops)`: the aggregate it belongs to is taken down first (the
    /// master's `unbind`).
    ComponentDel => "component_del" [] fails false;
    /// `drm_of_component_probe(dev, compare_of, &ops)` in a master's probe: the match from the
    /// node's `ports` (see docs/driver-format.md), then `component_master_add_with_match`;
    /// the description's `bind` and `unbind` are its `component_master_ops`.
    DrmOfComponentProbe => "drm_of_component_probe" [] fails true;
    /// `component_master_del(dev, &ops)`: take the aggregate down (the master's `unbind`).
    ComponentMasterDel => "component_master_del" [] fails false;
    /// `component_bind_all(dev, drm)` in a master's `bind`: each component's `bind` with the
    /// `drm_device` in `field`, in match order.
    ComponentBindAll => "component_bind_all" [Field] fails true;
    /// `component_unbind_all(dev, drm)`: each bound component's `unbind`, newest first.
    ComponentUnbindAll => "component_unbind_all" [Field] fails false;
    /// `drmm_simple_encoder_alloc(from, type, member, ...)`: `field` is the encoder, `from` the
    /// `drm_device`, `id` the allocated struct's type (for reports); `bridge` names the field that gets a `struct drm_bridge` member of the
    /// same struct (no container, a zeroed kref, never added: freed with the struct at the
    /// card's release, after the encoder's cleanup).
    DrmmSimpleEncoderAlloc => "drmm_simple_encoder_alloc" [Field, From, Bridge, Id] fails true;
    /// `field->funcs = &<driver>_bridge_funcs` by hand: the bridge in `field` (an embedded
    /// one) runs this description's bridge callbacks on this container.
    BridgeFuncs => "bridge_funcs" [Field] fails false;
}

/// An optional argument of a call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Field,
    From,
    Port,
    Endpoint,
    Id,
    What,
    Function,
    Status,
    Body,
    Errno,
    Op,
    Flags,
    Bridge,
}

impl Arg {
    pub fn name(self) -> &'static str {
        match self {
            Arg::Field => "field",
            Arg::From => "from",
            Arg::Port => "port",
            Arg::Endpoint => "endpoint",
            Arg::Id => "id",
            Arg::What => "what",
            Arg::Function => "function",
            Arg::Status => "status",
            Arg::Body => "body",
            Arg::Errno => "errno",
            Arg::Op => "op",
            Arg::Flags => "flags",
            Arg::Bridge => "bridge",
        }
    }
}

impl fmt::Display for CallName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CallName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CallName::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let hint = match s {
                    "devm_drm_of_get_bridge_by_endpoint" => {
                        " (did you mean of_drm_get_bridge_by_endpoint?)"
                    }
                    _ => "",
                };
                format!(
                    "unknown call `{s}`{hint}: expected one of {}",
                    CallName::ALL
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// The lookup a call is, if it is one of the OF lookup APIs a consumer scenario can name.
impl CallName {
    pub fn lookup_api(self) -> Option<LookupApi> {
        match self {
            CallName::OfDrmFindBridge => Some(LookupApi::OfDrmFindBridge),
            CallName::OfDrmFindAndGetBridge => Some(LookupApi::OfDrmFindAndGetBridge),
            CallName::DrmOfFindPanelOrBridge => Some(LookupApi::DrmOfFindPanelOrBridge),
            CallName::OfDrmGetBridgeByEndpoint => Some(LookupApi::OfDrmGetBridgeByEndpoint),
            _ => None,
        }
    }

    /// The kind of field its `field` argument must name (`None`: no field, or any).
    fn field_kind(self) -> Option<&'static [FieldKind]> {
        use CallName::*;
        use FieldKind as K;
        Some(match self {
            DrmBridgeAttach
            | DrmBridgeGet
            | DrmBridgePut
            | DrmBridgeClearAndPut
            | OfDrmFindBridge
            | OfDrmFindAndGetBridge
            | DrmOfFindPanelOrBridge
            | OfDrmGetBridgeByEndpoint
            | DevmDrmOfGetBridge
            | DevmDrmPanelBridgeAdd
            | DrmPanelBridgeAdd
            | DrmPanelBridgeRemove
            | DrmBridgeDetect
            | DrmBridgeEdidRead => &[K::Bridge],
            Set | Clear => &[K::Flag],
            OfDrmFindPanel | DrmPanelPrepare | DrmPanelEnable | DrmPanelDisable
            | DrmPanelUnprepare => &[K::Panel],
            DevmRegulatorGet | DevmRegulatorGetOptional | RegulatorEnable | RegulatorDisable => {
                &[K::Regulator]
            }
            DevmGpiodGet | DevmGpiodGetOptional | GpiodSetValue | GpiodGetValue => &[K::Gpio],
            DevmRegmapInit | DevmIoremap | RegmapRead | RegmapWrite => &[K::Regmap],
            RequestIrq
            | DevmRequestThreadedIrq
            | FreeIrq
            | DisableIrq
            | DisableIrqNosync
            | EnableIrq => &[K::Irq],
            InitWork | ScheduleWork | CancelWorkSync => &[K::Work],
            InitDelayedWork | ScheduleDelayedWork | CancelDelayedWorkSync => &[K::DelayedWork],
            MutexInit | MutexDestroy | MutexLock | MutexUnlock | Guard | ScopedGuard => &[K::Mutex],
            MipiDsiHostRegister | MipiDsiHostUnregister => &[K::DsiHost],
            HdmiAudioRegister | HdmiAudioUnregister | CecRegister | CecUnregister => &[K::Device],
            Store => &[K::Bridge, K::Panel],
            DrmDevAlloc
            | DevmDrmDevAlloc
            | DrmmModeConfigInit
            | DrmDevRegister
            | DrmDevUnregister
            | DrmAtomicHelperShutdown
            | DrmDevPut => &[K::DrmDevice],
            DrmEncoderInit | DrmmEncoderAlloc | DrmmSimpleEncoderAlloc => &[K::Encoder],
            ComponentBindAll | ComponentUnbindAll => &[K::DrmDevice],
            BridgeFuncs => &[K::Bridge],
            DrmBridgeConnectorInit
            | DrmConnectorInit
            | DrmConnectorAttachEncoder
            | DrmConnectorCleanup => &[K::Connector],
            OfGetI2cAdapterByNode | DrmEdidReadDdc => &[K::I2cAdapter],
            _ => return None,
        })
    }

    /// Whether `field` is required.
    fn needs_field(self) -> bool {
        use CallName::*;
        self.field_kind().is_some() && !matches!(self, DrmOfFindPanelOrBridge) && !self.own_panel()
    }

    /// A `drm_panel_*` call that acts on the driver's own panel when it has no `field`
    /// (`drm_panel_disable(&panel->base)` in panel-simple's remove).
    pub fn own_panel(self) -> bool {
        use CallName::*;
        matches!(
            self,
            DrmPanelPrepare | DrmPanelEnable | DrmPanelDisable | DrmPanelUnprepare
        )
    }

    /// The calls a panel makes on itself or its device: only in a `role = "panel"`
    /// description.
    pub fn panel_only(self) -> bool {
        use CallName::*;
        matches!(
            self,
            DevmDrmPanelAlloc
                | DrmPanelInit
                | DrmPanelAdd
                | DrmPanelRemove
                | DrmPanelOfBacklight
                | PmRuntimeEnable
                | PmRuntimeDisable
                | PmRuntimeUseAutosuspend
                | PmRuntimeDontUseAutosuspend
                | PmRuntimeGetSync
                | PmRuntimePutAutosuspend
        )
    }

    /// Whether `from` is required.
    fn needs_from(self) -> bool {
        matches!(
            self,
            CallName::DevmDrmPanelBridgeAdd
                | CallName::DrmPanelBridgeAdd
                | CallName::DrmEncoderInit
                | CallName::DrmmEncoderAlloc
                | CallName::DrmmSimpleEncoderAlloc
        )
    }
}

/// The framework callbacks a description may define (besides its own named functions).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    Probe,
    Remove,
    Attach,
    Detach,
    Destroy,
    AtomicPreEnable,
    AtomicEnable,
    AtomicDisable,
    AtomicPostDisable,
    ModeValid,
    ModeSet,
    GetModes,
    EdidRead,
    Detect,
    HpdNotify,
    HpdEnable,
    HpdDisable,
    DsiHostAttach,
    DsiHostDetach,
    PanelPrepare,
    PanelEnable,
    PanelDisable,
    PanelUnprepare,
    PanelGetModes,
    ConnectorGetModes,
    ConnectorDetect,
    RuntimeSuspend,
    RuntimeResume,
    Bind,
    Unbind,
}

impl Slot {
    pub const ALL: [Slot; 30] = [
        Slot::Probe,
        Slot::Remove,
        Slot::Attach,
        Slot::Detach,
        Slot::Destroy,
        Slot::AtomicPreEnable,
        Slot::AtomicEnable,
        Slot::AtomicDisable,
        Slot::AtomicPostDisable,
        Slot::ModeValid,
        Slot::ModeSet,
        Slot::GetModes,
        Slot::EdidRead,
        Slot::Detect,
        Slot::HpdNotify,
        Slot::HpdEnable,
        Slot::HpdDisable,
        Slot::DsiHostAttach,
        Slot::DsiHostDetach,
        Slot::PanelPrepare,
        Slot::PanelEnable,
        Slot::PanelDisable,
        Slot::PanelUnprepare,
        Slot::PanelGetModes,
        Slot::ConnectorGetModes,
        Slot::ConnectorDetect,
        Slot::RuntimeSuspend,
        Slot::RuntimeResume,
        Slot::Bind,
        Slot::Unbind,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Probe => "probe",
            Slot::Remove => "remove",
            Slot::Attach => "attach",
            Slot::Detach => "detach",
            Slot::Destroy => "destroy",
            Slot::AtomicPreEnable => "atomic_pre_enable",
            Slot::AtomicEnable => "atomic_enable",
            Slot::AtomicDisable => "atomic_disable",
            Slot::AtomicPostDisable => "atomic_post_disable",
            Slot::ModeValid => "mode_valid",
            Slot::ModeSet => "mode_set",
            Slot::GetModes => "get_modes",
            Slot::EdidRead => "edid_read",
            Slot::Detect => "detect",
            Slot::HpdNotify => "hpd_notify",
            Slot::HpdEnable => "hpd_enable",
            Slot::HpdDisable => "hpd_disable",
            Slot::DsiHostAttach => "dsi_host_attach",
            Slot::DsiHostDetach => "dsi_host_detach",
            Slot::PanelPrepare => "panel_prepare",
            Slot::PanelEnable => "panel_enable",
            Slot::PanelDisable => "panel_disable",
            Slot::PanelUnprepare => "panel_unprepare",
            Slot::PanelGetModes => "panel_get_modes",
            Slot::ConnectorGetModes => "connector_get_modes",
            Slot::ConnectorDetect => "connector_detect",
            Slot::RuntimeSuspend => "runtime_suspend",
            Slot::RuntimeResume => "runtime_resume",
            Slot::Bind => "bind",
            Slot::Unbind => "unbind",
        }
    }

    pub fn from_name(s: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|x| x.name() == s)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A condition on a call (`if = ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// The field is set (non-NULL, non-zero).
    Set(String),
    /// The field is NULL or zero.
    Unset(String),
    /// The device's node is compatible with this string.
    Compatible(String),
    /// The device's node has this property.
    Property(String),
    /// `!` before a condition that is not a field (`!property:data-mapping`).
    Not(Box<Cond>),
    /// `bridge.encoder`: the bridge's `encoder` is set (attached once; not cleared by detach).
    BridgeEncoder,
    /// `bridge.dev`: the bridge's `dev` is set (attached, not yet detached).
    BridgeDev,
    /// `remote:PORT`: the node's port PORT has a remote endpoint (`of_graph_get_remote_node`).
    Remote(i32),
    /// `remote-compatible:PORT:STR`: and that remote node is compatible with STR.
    RemoteCompatible(i32, String),
    /// `dsi-property:NAME`: in a DSI host callback, the attaching peripheral's node has the
    /// property (`te-gpios`: a command-mode panel).
    DsiProperty(String),
    /// `ops:FIELD:OP`: the bridge FIELD points to has `DRM_BRIDGE_OP_OP` (reads that bridge: a
    /// use-after-free if it was freed; false when FIELD is NULL).
    Ops(String, BridgeOp),
    /// `flags:no-connector`: in `.attach`, the flags have `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
    FlagsNoConnector,
    /// `remote-available`: in `for_each_endpoint_of_node`, the current endpoint's remote port
    /// parent is available (`of_device_is_available`).
    RemoteAvailable,
    /// `panel.prepared` / `panel.enabled`: the driver's own panel is prepared / enabled (a read
    /// of the panel: `if (panel->base.enabled)`).
    PanelPrepared,
    PanelEnabled,
    /// `child:NAME`: the node has a child node NAME (`panel-timing`).
    Child(String),
    /// `A && B`: both hold.
    All(Vec<Cond>),
}

/// The flags a `drm_bridge_attach` passes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AttachFlags {
    /// The flags `.attach` was given (a bridge passing them on).
    PassOn,
    /// `0`: the last bridge makes the connector.
    Zero,
    /// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
    NoConnector,
}

/// A checked call.
#[derive(Clone, Debug)]
pub struct Call {
    pub name: CallName,
    pub field: Option<String>,
    pub from: Option<String>,
    pub port: i32,
    pub endpoint: i32,
    pub id: Option<String>,
    pub what: Option<String>,
    pub function: Option<String>,
    pub status: Option<String>,
    /// `return_error`'s error.
    pub errno: Errno,
    /// `bridge_op`'s op.
    pub op: Option<BridgeOp>,
    /// `drm_bridge_attach`'s flags.
    pub flags: AttachFlags,
    /// `drmm_simple_encoder_alloc`'s embedded bridge field.
    pub bridge: Option<String>,
    /// No `port`/`endpoint` given: inside `for_each_endpoint_of_node`, the current endpoint.
    pub current_endpoint: bool,
    pub cond: Option<Cond>,
    pub optional: bool,
    pub can_fail: bool,
    pub on_error: Vec<Call>,
    pub body: Vec<Call>,
    pub or_else: Vec<Call>,
    /// Where it is written, for messages (`file:line:column`).
    pub at: String,
    /// A stable id of the call site within its description (fault-injection coins).
    pub site: u32,
}

/// What a callback returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Returns {
    Nothing,
    Bool(bool),
    Count(u32),
    Status(String),
}

/// A checked callback.
#[derive(Clone, Debug)]
pub struct Callback {
    pub name: String,
    /// What it models; `None` for a callback that `follows` an upstream function instead.
    pub cite: Option<Citation>,
    /// The upstream function it follows (a description with a top-level `follows`).
    pub follows: Option<String>,
    pub calls: Vec<Call>,
    pub returns: Returns,
    /// The file it was written in (an inherited callback keeps its file).
    pub file: String,
}

/// A private field, checked.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub counted: bool,
    pub func: Option<String>,
    pub source: Option<String>,
    pub hpd: bool,
}

/// A resolved, checked description of one driver for one release.
#[derive(Clone, Debug)]
pub struct Description {
    pub name: String,
    pub release: Option<Release>,
    /// The file it was read from, and those it inherits, newest first.
    pub files: Vec<String>,
    pub compatible: Vec<String>,
    pub bus: Bus,
    pub role: DriverRole,
    pub container: String,
    pub source: Option<String>,
    pub follows: Option<String>,
    pub atomic: bool,
    pub ops: Vec<BridgeOp>,
    pub fields: BTreeMap<String, Field>,
    pub callbacks: BTreeMap<String, Callback>,
}

impl Description {
    pub fn slot(&self, s: Slot) -> Option<&Callback> {
        self.callbacks.get(s.name())
    }

    /// The IRQ field the scenario's `hpd` step raises, if any.
    pub fn hpd_field(&self) -> Option<&Field> {
        self.fields
            .values()
            .find(|f| f.kind == FieldKind::Irq && f.hpd)
    }
}

/// The reserved field name for `bridge->next_bridge` (counted, put by the core at free).
pub const NEXT_BRIDGE: &str = "next_bridge";

/// The reserved name of a component `bind`'s `void *data`: the master's `drm_device`, usable
/// as the `from` of a call that takes one, in the `bind` callback only.
pub const BIND_DATA: &str = "data";

/// A description that could not be loaded, located in its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The byte range in `src`.
    pub span: Range<usize>,
    pub src: String,
}

impl fmt::Display for DescError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for DescError {}

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// One source file: its name for messages and its text.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl DescriptionFile {
    /// Whether it has any key besides `include`.
    pub fn has_description_keys(&self) -> bool {
        self.inherits.is_some()
            || self.name.is_some()
            || self.compatible.is_some()
            || self.bus.is_some()
            || self.role.is_some()
            || self.container.is_some()
            || self.source.is_some()
            || self.follows.is_some()
            || self.atomic.is_some()
            || self.ops.is_some()
            || !self.fields.is_empty()
            || !self.callbacks.is_empty()
    }
}

impl Source<'_> {
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> DescError {
        let (line, column) = line_col(self.text, span.start);
        DescError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
            span,
            src: self.text.to_string(),
        }
    }

    /// Parse the file's TOML into its written form.
    pub fn parse(&self) -> Result<DescriptionFile, DescError> {
        toml::from_str(self.text)
            .map_err(|e| self.error(e.span().unwrap_or(0..0), e.message().trim().to_string()))
    }
}

/// A description being resolved: the written layers, oldest first.
pub struct Layer<'a> {
    pub src: Source<'a>,
    pub file: DescriptionFile,
}

/// Merge `layers` (the base first, each later one inheriting the one before) and check the
/// result. `release` is the release the last layer describes.
pub fn resolve(layers: &[Layer<'_>], release: Option<Release>) -> Result<Description, DescError> {
    let last = layers.last().expect("at least one layer");
    let whole = |l: &Layer<'_>| 0..l.src.text.len().min(1);
    let mut name = None;
    let mut compatible: Option<(Vec<String>, usize)> = None;
    let mut bus = None;
    let mut role = None;
    let mut container = None;
    let mut source = None;
    let mut follows = None;
    let mut atomic = false;
    let mut ops = Vec::new();
    let mut fields: BTreeMap<String, (Field, usize, Range<usize>)> = BTreeMap::new();
    let mut callbacks: BTreeMap<String, (CallbackDecl, usize, Range<usize>)> = BTreeMap::new();
    for (i, l) in layers.iter().enumerate() {
        let f = &l.file;
        if let Some(n) = &f.name {
            name = Some(n.get_ref().clone());
        }
        if let Some(c) = &f.compatible {
            if c.get_ref().is_empty() {
                return Err(l.src.error(
                    c.span(),
                    "`compatible` is empty: expected at least one string",
                ));
            }
            compatible = Some((c.get_ref().iter().map(|s| s.get_ref().clone()).collect(), i));
        }
        if let Some(b) = &f.bus {
            bus = Some(*b.get_ref());
        }
        if let Some(r) = &f.role {
            role = Some(*r.get_ref());
        }
        if let Some(c) = &f.container {
            container = Some(c.get_ref().clone());
        }
        if let Some(s) = &f.source {
            source = Some(s.get_ref().clone());
        }
        if let Some(s) = &f.follows {
            follows = Some(s.get_ref().clone());
        }
        if let Some(a) = &f.atomic {
            atomic = *a.get_ref();
        }
        if let Some(o) = &f.ops {
            ops = o.get_ref().iter().map(|x| *x.get_ref()).collect();
        }
        for (fname, decl) in &f.fields {
            let d = decl.get_ref();
            if fname == NEXT_BRIDGE {
                return Err(l.src.error(
                    decl.span(),
                    "`next_bridge` is the core's `bridge->next_bridge`, not a private field: use it in calls without declaring it",
                ));
            }
            if fname == BIND_DATA {
                return Err(l.src.error(
                    decl.span(),
                    "`data` is the `void *data` a component's `bind` receives, not a private field: use it as `from` in `bind` without declaring it",
                ));
            }
            if !is_c_identifier(fname) {
                return Err(l.src.error(
                    decl.span(),
                    format!("field name `{fname}` is not a C identifier"),
                ));
            }
            let kind = *d.kind.get_ref();
            let needs_func = matches!(
                kind,
                FieldKind::Work | FieldKind::DelayedWork | FieldKind::Irq
            );
            if needs_func && d.func.is_none() {
                return Err(l.src.error(
                    decl.span(),
                    format!("a `{kind}` field needs `func`: the function it runs"),
                ));
            }
            if !needs_func && d.func.is_some() {
                return Err(l.src.error(
                    d.func.as_ref().map(|x| x.span()).unwrap_or(decl.span()),
                    format!("`func` is only for work and irq fields, not `{kind}`"),
                ));
            }
            if d.counted && !matches!(kind, FieldKind::Bridge | FieldKind::Panel) {
                return Err(l.src.error(
                    decl.span(),
                    format!("`counted` is only for bridge and panel fields, not `{kind}`"),
                ));
            }
            if (d.source.is_some() || d.hpd) && kind != FieldKind::Irq {
                return Err(l.src.error(
                    decl.span(),
                    format!("`source` and `hpd` are only for irq fields, not `{kind}`"),
                ));
            }
            if let Some(s) = &d.source {
                let v = s.get_ref();
                let gpios_index = v
                    .strip_prefix("gpios:")
                    .is_some_and(|i| i.parse::<u32>().is_ok());
                if v != "interrupts" && v != "gpios" && !gpios_index && !v.ends_with("-gpios") {
                    return Err(l.src.error(
                        s.span(),
                        format!("irq source `{v}`: expected \"interrupts\" or a GPIO property (\"hpd-gpios\", \"gpios\", \"gpios:INDEX\")"),
                    ));
                }
            }
            fields.insert(
                fname.clone(),
                (
                    Field {
                        name: fname.clone(),
                        kind,
                        counted: d.counted,
                        func: d.func.as_ref().map(|x| x.get_ref().clone()),
                        source: d.source.as_ref().map(|x| x.get_ref().clone()),
                        hpd: d.hpd,
                    },
                    i,
                    decl.span(),
                ),
            );
        }
        for (cname, decl) in &f.callbacks {
            callbacks.insert(cname.clone(), (decl.get_ref().clone(), i, decl.span()));
        }
    }
    let top = |what: &str| {
        last.src.error(
            whole(last),
            format!("missing `{what}`: a description must give it (or inherit a file that does)"),
        )
    };
    let name = name.ok_or_else(|| top("name"))?;
    let (compatible, _) = compatible.ok_or_else(|| top("compatible"))?;
    let bus = bus.ok_or_else(|| top("bus"))?;
    let role = role.ok_or_else(|| top("role"))?;
    let container = container.unwrap_or_else(|| format!("struct {name}"));
    let field_map: BTreeMap<String, Field> = fields
        .iter()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();

    // Every function a field or a call refers to must be a callback of the description.
    let mut referenced: BTreeSet<String> = BTreeSet::new();
    for (f, i, span) in fields.values() {
        if let Some(func) = &f.func {
            if !callbacks.contains_key(func) {
                return Err(layers[*i].src.error(
                    span.clone(),
                    format!(
                        "field `{}` runs `{func}`, which is not a callback of the description",
                        f.name
                    ),
                ));
            }
            referenced.insert(func.clone());
        }
    }
    let mut checked = BTreeMap::new();
    let mut site = 0u32;
    for (cname, (decl, i, span)) in &callbacks {
        let src = &layers[*i].src;
        let slot = Slot::from_name(cname);
        let cite: Option<Citation> = match (&decl.cite, &decl.follows) {
            (Some(c), None) => Some(
                c.get_ref()
                    .parse()
                    .map_err(|e: drm::cite::BadCitation| src.error(c.span(), e.to_string()))?,
            ),
            (None, Some(f)) if follows.is_none() => {
                return Err(src.error(
                    f.span(),
                    format!("callback `{cname}` `follows` an upstream function, but the description has no top-level `follows` (the upstream file); cite it instead"),
                ))
            }
            (None, Some(f)) if !is_c_identifier(f.get_ref()) => {
                return Err(src.error(
                    f.span(),
                    format!("`follows = \"{}\"`: expected the C function of the upstream file", f.get_ref()),
                ))
            }
            (None, Some(_)) => None,
            (Some(c), Some(_)) => {
                return Err(src.error(
                    c.span(),
                    format!("callback `{cname}` has `cite` and `follows`: give one (`follows` only where there is nothing to cite)"),
                ))
            }
            (None, None) => {
                return Err(src.error(
                    span.clone(),
                    format!("callback `{cname}` needs `cite` (release:path:function, commit or series), or `follows` in a description that follows an upstream file"),
                ))
            }
        };
        let calls = check_calls(
            src,
            role,
            cname,
            &decl.calls,
            &field_map,
            &callbacks,
            &mut referenced,
            &mut site,
        )?;
        let returns = match (&decl.returns, slot) {
            (None, Some(Slot::ModeValid)) => Returns::Bool(true),
            (None, Some(Slot::GetModes | Slot::PanelGetModes | Slot::EdidRead | Slot::ConnectorGetModes)) => Returns::Count(0),
            (None, Some(Slot::Detect | Slot::ConnectorDetect)) => Returns::Status("unknown".into()),
            (None, _) => Returns::Nothing,
            (Some(v), Some(Slot::ModeValid)) => match v.get_ref() {
                toml::Value::Boolean(b) => Returns::Bool(*b),
                _ => return Err(src.error(v.span(), "`mode_valid` returns a bool")),
            },
            (Some(v), Some(Slot::GetModes | Slot::PanelGetModes | Slot::EdidRead | Slot::ConnectorGetModes)) => {
                match v.get_ref() {
                    toml::Value::Integer(n) if (0..=1000).contains(n) => Returns::Count(*n as u32),
                    _ => {
                        return Err(src.error(v.span(), "`get_modes` returns a mode count (0..=1000)"))
                    }
                }
            }
            (Some(v), Some(Slot::Detect | Slot::ConnectorDetect)) => match v.get_ref() {
                toml::Value::String(s) if ["connected", "disconnected", "unknown"].contains(&s.as_str()) => {
                    Returns::Status(s.clone())
                }
                _ => {
                    return Err(src.error(
                        v.span(),
                        "`detect` returns \"connected\", \"disconnected\" or \"unknown\"",
                    ))
                }
            },
            (Some(v), _) => {
                return Err(src.error(
                    v.span(),
                    format!("`returns` is only for mode_valid, get_modes, edid_read and detect, not `{cname}`"),
                ))
            }
        };
        let _ = span;
        checked.insert(
            cname.clone(),
            Callback {
                name: cname.clone(),
                cite,
                follows: decl.follows.as_ref().map(|f| f.get_ref().clone()),
                calls,
                returns,
                file: src.file.to_string(),
            },
        );
    }
    for (cname, (decl, i, span)) in &callbacks {
        if Slot::from_name(cname).is_none() && !referenced.contains(cname) {
            let _ = decl;
            return Err(layers[*i].src.error(
                span.clone(),
                format!(
                    "callback `{cname}` is neither a framework callback ({}) nor a function a field or a call refers to",
                    Slot::ALL.map(|s| s.name()).join(", ")
                ),
            ));
        }
    }
    check_no_recursion(&callbacks, layers)?;
    if matches!(
        role,
        DriverRole::Bridge | DriverRole::Panel | DriverRole::Encoder
    ) && !checked.contains_key("probe")
    {
        return Err(top("callbacks.probe"));
    }
    let files = layers
        .iter()
        .rev()
        .map(|l| l.src.file.to_string())
        .collect();
    Ok(Description {
        name,
        release,
        files,
        compatible,
        bus,
        role,
        container,
        source,
        follows,
        atomic,
        ops,
        fields: field_map,
        callbacks: checked,
    })
}

/// A description cannot recurse: `call` runs the callee's calls in place, so a cycle of `call`s
/// would never end. Reject it at the `function` that closes the cycle (C drivers do recurse,
/// bounded by their data; a description writes such a body once).
fn check_no_recursion(
    callbacks: &BTreeMap<String, (CallbackDecl, usize, Range<usize>)>,
    layers: &[Layer<'_>],
) -> Result<(), DescError> {
    fn callees<'a>(calls: &'a [Spanned<CallDecl>], out: &mut Vec<&'a Spanned<String>>) {
        for c in calls {
            let d = c.get_ref();
            if d.call.get_ref() == "call" {
                out.extend(d.function.as_ref());
            }
            callees(&d.on_error, out);
            callees(&d.body, out);
            callees(&d.or_else, out);
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        OnPath,
        Done,
    }
    fn visit(
        name: &str,
        callbacks: &BTreeMap<String, (CallbackDecl, usize, Range<usize>)>,
        layers: &[Layer<'_>],
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Result<(), DescError> {
        let Some((decl, layer, _)) = callbacks.get(name) else {
            return Ok(());
        };
        marks.insert(name.to_string(), Mark::OnPath);
        path.push(name.to_string());
        let mut out = Vec::new();
        callees(&decl.calls, &mut out);
        for callee in out {
            let callee_name = callee.get_ref();
            match marks.get(callee_name.as_str()) {
                Some(Mark::OnPath) => {
                    let start = path.iter().position(|p| p == callee_name).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(callee_name.clone());
                    return Err(layers[*layer].src.error(
                        callee.span(),
                        format!(
                            "`call` of `{callee_name}` makes a cycle ({}): a description cannot recurse; write the recursive part once",
                            cycle.join(" -> ")
                        ),
                    ));
                }
                Some(Mark::Done) => {}
                None => visit(callee_name, callbacks, layers, marks, path)?,
            }
        }
        path.pop();
        marks.insert(name.to_string(), Mark::Done);
        Ok(())
    }
    let mut marks = BTreeMap::new();
    for name in callbacks.keys() {
        if !marks.contains_key(name.as_str()) {
            visit(name, callbacks, layers, &mut marks, &mut Vec::new())?;
        }
    }
    Ok(())
}

fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[allow(clippy::too_many_arguments)]
fn check_calls(
    src: &Source<'_>,
    role: DriverRole,
    callback: &str,
    calls: &[Spanned<CallDecl>],
    fields: &BTreeMap<String, Field>,
    callbacks: &BTreeMap<String, (CallbackDecl, usize, Range<usize>)>,
    referenced: &mut BTreeSet<String>,
    site: &mut u32,
) -> Result<Vec<Call>, DescError> {
    let mut out = Vec::new();
    for c in calls {
        let d = c.get_ref();
        let name: CallName = d
            .call
            .get_ref()
            .parse()
            .map_err(|e: String| src.error(d.call.span(), e))?;
        let own_panel = name.own_panel() && d.field.is_none();
        if (name.panel_only() || own_panel) && role != DriverRole::Panel {
            return Err(src.error(
                d.call.span(),
                format!(
                    "`{name}` acts on the driver's own panel or device: only in a `role = \"panel\"` description (this one is a {role}){}",
                    if name.own_panel() { "; give `field` for a panel the driver looked up" } else { "" }
                ),
            ));
        }
        let allowed = name.args();
        let present: [(Arg, Option<Range<usize>>); 13] = [
            (Arg::Field, d.field.as_ref().map(|x| x.span())),
            (Arg::From, d.from.as_ref().map(|x| x.span())),
            (Arg::Port, d.port.as_ref().map(|x| x.span())),
            (Arg::Endpoint, d.endpoint.as_ref().map(|x| x.span())),
            (Arg::Id, d.id.as_ref().map(|x| x.span())),
            (Arg::What, d.what.as_ref().map(|x| x.span())),
            (Arg::Function, d.function.as_ref().map(|x| x.span())),
            (Arg::Status, d.status.as_ref().map(|x| x.span())),
            (Arg::Body, (!d.body.is_empty()).then(|| c.span())),
            (Arg::Errno, d.errno.as_ref().map(|x| x.span())),
            (Arg::Op, d.op.as_ref().map(|x| x.span())),
            (Arg::Flags, d.flags.as_ref().map(|x| x.span())),
            (Arg::Bridge, d.bridge.as_ref().map(|x| x.span())),
        ];
        if name == CallName::BridgeOp && d.op.is_none() {
            return Err(src.error(
                c.span(),
                "`bridge_op` needs `op`: the DRM_BRIDGE_OP it adds (detect, edid, hpd, modes, hdmi, hdmi-audio, dp-audio, hdmi-cec)",
            ));
        }
        for (arg, span) in &present {
            if let Some(span) = span {
                if !allowed.contains(arg) {
                    let takes = if allowed.is_empty() {
                        "no arguments".to_string()
                    } else {
                        allowed
                            .iter()
                            .map(|a| a.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(src.error(
                        span.clone(),
                        format!(
                            "`{}` is not an argument of `{name}` (it takes {takes})",
                            arg.name()
                        ),
                    ));
                }
            }
        }
        let field_kind = |fname: &Spanned<String>, kinds: &[FieldKind]| -> Result<(), DescError> {
            let n = fname.get_ref();
            if n == NEXT_BRIDGE {
                return if kinds.contains(&FieldKind::Bridge) {
                    Ok(())
                } else {
                    Err(src.error(
                        fname.span(),
                        format!(
                            "`next_bridge` is a bridge pointer; `{name}` takes a {} field",
                            kinds_text(kinds)
                        ),
                    ))
                };
            }
            match fields.get(n) {
                None => Err(src.error(
                    fname.span(),
                    if fields.is_empty() {
                        format!("unknown field `{n}`: no [fields] are declared (next_bridge is the only field without one)")
                    } else {
                        format!(
                            "unknown field `{n}`: expected one of the [fields] ({}) or next_bridge",
                            fields.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    },
                )),
                Some(f) if !kinds.contains(&f.kind) => Err(src.error(
                    fname.span(),
                    format!("field `{n}` is a {} field; `{name}` takes a {} field", f.kind, kinds_text(kinds)),
                )),
                Some(_) => Ok(()),
            }
        };
        if let Some(kinds) = name.field_kind() {
            match &d.field {
                Some(f) => field_kind(f, kinds)?,
                // A display controller's attach of its own container's bridge
                // (`drm_bridge_attach(encoder, &ctx->bridge, NULL, flags)`).
                None if name == CallName::DrmBridgeAttach && d.from.is_some() => {}
                None if name.needs_field() => {
                    return Err(src.error(
                        c.span(),
                        format!("`{name}` needs `field`: a {} field", kinds_text(kinds)),
                    ))
                }
                None => {}
            }
        }
        if let Some(from) = &d.from {
            let kinds: &[FieldKind] = match name {
                CallName::DevmDrmPanelBridgeAdd
                | CallName::DrmPanelBridgeAdd
                | CallName::DrmOfFindPanelOrBridge => &[FieldKind::Panel],
                CallName::Store => &[FieldKind::Bridge, FieldKind::Panel],
                CallName::DrmEncoderInit
                | CallName::DrmmEncoderAlloc
                | CallName::DrmmSimpleEncoderAlloc => &[FieldKind::DrmDevice],
                CallName::DrmBridgeConnectorInit
                | CallName::DrmConnectorAttachEncoder
                | CallName::DrmBridgeAttach => &[FieldKind::Encoder],
                _ => &[FieldKind::Bridge],
            };
            if from.get_ref() == BIND_DATA && kinds.contains(&FieldKind::DrmDevice) {
                if callback != Slot::Bind.name() {
                    return Err(src.error(
                        from.span(),
                        format!("`data` is the `void *data` a component's `bind` receives (its master's drm_device): only in the `bind` callback, not `{callback}`"),
                    ));
                }
            } else {
                field_kind(from, kinds)?;
            }
        } else if name.needs_from() {
            let what = match name {
                CallName::DrmEncoderInit
                | CallName::DrmmEncoderAlloc
                | CallName::DrmmSimpleEncoderAlloc => "the drm_device field it is initialised on",
                _ => "the panel field it wraps",
            };
            return Err(src.error(c.span(), format!("`{name}` needs `from`: {what}")));
        }
        let flags = match &d.flags {
            None => AttachFlags::PassOn,
            Some(f) => match f.get_ref().as_str() {
                "0" => AttachFlags::Zero,
                "no-connector" => AttachFlags::NoConnector,
                other => {
                    return Err(src.error(
                        f.span(),
                        format!("flags `{other}`: expected \"0\" or \"no-connector\" (DRM_BRIDGE_ATTACH_NO_CONNECTOR)"),
                    ))
                }
            },
        };
        if name == CallName::DrmBridgeAttach && d.from.is_some() && d.flags.is_none() {
            return Err(src.error(
                c.span(),
                "a display controller's `drm_bridge_attach` (with `from`, the encoder) needs `flags`: \"0\" or \"no-connector\"",
            ));
        }
        if let Some(b) = &d.bridge {
            field_kind(b, &[FieldKind::Bridge])?;
        }
        let needs_bind = match name {
            CallName::ComponentAdd => Some("component_ops"),
            CallName::DrmOfComponentProbe => Some("component_master_ops"),
            _ => None,
        };
        if let Some(ops) = needs_bind {
            if !callbacks.contains_key(Slot::Bind.name()) {
                return Err(src.error(
                    d.call.span(),
                    format!("`{name}` registers the description's `bind` and `unbind` as its {ops}: it needs a `bind` callback"),
                ));
            }
        }
        if name == CallName::DrmOfComponentProbe && role != DriverRole::DisplayController {
            return Err(src.error(
                d.call.span(),
                format!("`drm_of_component_probe` is an aggregate DRM driver's (the master's): only in a `role = \"display-controller\"` description (this one is a {role})"),
            ));
        }
        if let Some(func) = &d.function {
            if !callbacks.contains_key(func.get_ref()) {
                return Err(src.error(
                    func.span(),
                    format!("`{}` is not a callback of the description", func.get_ref()),
                ));
            }
            referenced.insert(func.get_ref().clone());
        } else if matches!(
            name,
            CallName::Call
                | CallName::DevmAddAction
                | CallName::DevmAddActionOrReset
                | CallName::DevmReleaseAction
        ) {
            return Err(src.error(
                c.span(),
                format!("`{name}` needs `function`: a callback of the description"),
            ));
        }
        if matches!(
            name,
            CallName::DevmRegulatorGet
                | CallName::DevmRegulatorGetOptional
                | CallName::DevmGpiodGet
                | CallName::DevmGpiodGetOptional
        ) && d.id.is_none()
        {
            return Err(src.error(
                c.span(),
                format!("`{name}` needs `id`: the supply or GPIO name (\"vcc\", \"enable\")"),
            ));
        }
        if name == CallName::ForEachEndpointOfNode && d.body.is_empty() {
            return Err(src.error(
                c.span(),
                "`for_each_endpoint_of_node` needs a `body`: the calls made for each endpoint",
            ));
        }
        if name == CallName::OfGetI2cAdapterByNode && d.id.is_none() {
            return Err(src.error(
                c.span(),
                "`of_get_i2c_adapter_by_node` needs `id`: the phandle property (\"ddc-i2c-bus\")",
            ));
        }
        if name == CallName::ScopedGuard && d.body.is_empty() {
            return Err(src.error(
                c.span(),
                "`scoped_guard` needs a `body`: the calls made under the lock",
            ));
        }
        if let Some(s) = &d.status {
            let allowed: &[&str] = if name == CallName::ReturnStatus {
                &["connected", "disconnected", "unknown"]
            } else {
                &["connected", "disconnected"]
            };
            if !allowed.contains(&s.get_ref().as_str()) {
                if name == CallName::ReturnStatus {
                    return Err(src.error(
                        s.span(),
                        "status: expected \"connected\", \"disconnected\" or \"unknown\"",
                    ));
                }
                return Err(src.error(
                    s.span(),
                    "status: expected \"connected\" or \"disconnected\"",
                ));
            }
        }
        if name == CallName::ReturnStatus && d.status.is_none() {
            return Err(src.error(c.span(), "`return_status` needs `status`"));
        }
        let has_branch = !d.on_error.is_empty() || d.optional || !d.or_else.is_empty();
        let may_fail = name.fails() || d.can_fail;
        if has_branch && !may_fail {
            return Err(src.error(
                c.span(),
                format!("`{name}` cannot fail here: `on_error`, `or_else` and `optional` need a call that can fail (or `can_fail = true`)"),
            ));
        }
        if !d.on_error.is_empty() && !d.or_else.is_empty() {
            return Err(src.error(
                c.span(),
                "a call has `on_error` (fail and return) or `or_else` (fail and go on), not both",
            ));
        }
        if d.optional
            && name.lookup_api().is_none()
            && !matches!(
                name,
                CallName::DevmDrmOfGetBridge | CallName::OfDrmFindPanel
            )
        {
            return Err(src.error(
                c.span(),
                "`optional` is only for lookups (a missing remote is not an error)",
            ));
        }
        let cond = match &d.cond {
            None => None,
            Some(s) => Some(parse_cond(src, s, fields)?),
        };
        let errno = match &d.errno {
            None => Errno::EINVAL,
            Some(e) => parse_errno(e.get_ref()).ok_or_else(|| {
                src.error(
                    e.span(),
                    format!(
                        "unknown errno `{}`: expected one of {}",
                        e.get_ref(),
                        ERRNOS.map(|e| e.name()).join(", ")
                    ),
                )
            })?,
        };
        *site += 1;
        let my_site = *site;
        let on_error = check_calls(
            src,
            role,
            callback,
            &d.on_error,
            fields,
            callbacks,
            referenced,
            site,
        )?;
        let body = check_calls(
            src, role, callback, &d.body, fields, callbacks, referenced, site,
        )?;
        let or_else = check_calls(
            src, role, callback, &d.or_else, fields, callbacks, referenced, site,
        )?;
        let (line, column) = line_col(src.text, c.span().start);
        out.push(Call {
            name,
            field: d.field.as_ref().map(|x| x.get_ref().clone()),
            from: d.from.as_ref().map(|x| x.get_ref().clone()),
            port: d.port.as_ref().map(|x| *x.get_ref()).unwrap_or(0),
            endpoint: d.endpoint.as_ref().map(|x| *x.get_ref()).unwrap_or(-1),
            id: d.id.as_ref().map(|x| x.get_ref().clone()),
            what: d.what.as_ref().map(|x| x.get_ref().clone()),
            function: d.function.as_ref().map(|x| x.get_ref().clone()),
            status: d.status.as_ref().map(|x| x.get_ref().clone()),
            errno,
            op: d.op.as_ref().map(|x| *x.get_ref()),
            flags,
            bridge: d.bridge.as_ref().map(|x| x.get_ref().clone()),
            current_endpoint: d.port.is_none() && d.endpoint.is_none(),
            cond,
            optional: d.optional,
            can_fail: d.can_fail,
            on_error,
            body,
            or_else,
            at: format!("{}:{line}:{column}", src.file),
            site: my_site,
        });
    }
    Ok(out)
}

fn kinds_text(kinds: &[FieldKind]) -> String {
    kinds
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(" or ")
}

fn parse_cond(
    src: &Source<'_>,
    s: &Spanned<String>,
    fields: &BTreeMap<String, Field>,
) -> Result<Cond, DescError> {
    let t = s.get_ref().trim();
    if t.contains("&&") {
        let parts = t
            .split("&&")
            .map(|p| parse_cond_at(src, s, p.trim(), fields))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Cond::All(parts));
    }
    parse_cond_at(src, s, t, fields)
}

/// `t` is the part of the written condition `s` still to parse (after a `!`); messages show
/// the condition as written.
fn parse_cond_at(
    src: &Source<'_>,
    s: &Spanned<String>,
    t: &str,
    fields: &BTreeMap<String, Field>,
) -> Result<Cond, DescError> {
    let written = s.get_ref().trim();
    let expected = "expected \"FIELD\", \"!FIELD\", \"compatible:STRING\", \"property:NAME\", \"bridge.encoder\", \"bridge.dev\", \"remote:PORT\", \"remote-compatible:PORT:STRING\", \"ops:FIELD:OP\", \"dsi-property:NAME\", \"flags:no-connector\", \"remote-available\", \"panel.prepared\", \"panel.enabled\" or \"child:NAME\" (any of them after `!`, joined with `&&`)";
    let bad = |why: String| {
        src.error(
            s.span(),
            format!("condition `{written}`: {expected}; {why}"),
        )
    };
    if let Some(inner) = t.strip_prefix('!') {
        if inner != NEXT_BRIDGE && !fields.contains_key(inner) && !inner.is_empty() {
            let c = parse_cond_at(src, s, inner, fields)?;
            return Ok(match c {
                Cond::Set(f) => Cond::Unset(f),
                Cond::Not(c) => *c,
                c => Cond::Not(Box::new(c)),
            });
        }
    }
    match t {
        "bridge.encoder" => return Ok(Cond::BridgeEncoder),
        "bridge.dev" => return Ok(Cond::BridgeDev),
        "flags:no-connector" => return Ok(Cond::FlagsNoConnector),
        "remote-available" => return Ok(Cond::RemoteAvailable),
        "panel.prepared" => return Ok(Cond::PanelPrepared),
        "panel.enabled" => return Ok(Cond::PanelEnabled),
        _ => {}
    }
    if let Some(c) = t.strip_prefix("child:") {
        if c.is_empty() {
            return Err(bad("no node name after `child:`".into()));
        }
        return Ok(Cond::Child(c.to_string()));
    }
    if let Some(p) = t.strip_prefix("remote:") {
        let port = p
            .parse::<i32>()
            .map_err(|_| bad(format!("`{p}` is not a port number")))?;
        return Ok(Cond::Remote(port));
    }
    if let Some(rest) = t.strip_prefix("remote-compatible:") {
        let (p, c) = rest
            .split_once(':')
            .ok_or_else(|| bad("no `:STRING` after the port".into()))?;
        let port = p
            .parse::<i32>()
            .map_err(|_| bad(format!("`{p}` is not a port number")))?;
        return Ok(Cond::RemoteCompatible(port, c.to_string()));
    }
    if let Some(rest) = t.strip_prefix("ops:") {
        let (f, op) = rest
            .split_once(':')
            .ok_or_else(|| bad("no `:OP` after the field".into()))?;
        let is_bridge =
            f == NEXT_BRIDGE || fields.get(f).is_some_and(|x| x.kind == FieldKind::Bridge);
        if !is_bridge {
            return Err(bad(format!("`{f}` is not a bridge field")));
        }
        let op: BridgeOp = toml::Value::String(op.to_string())
            .try_into()
            .map_err(|_| bad(format!("`{op}` is not a DRM_BRIDGE_OP (detect, edid, hpd, modes, hdmi, hdmi-audio, dp-audio, hdmi-cec)")))?;
        return Ok(Cond::Ops(f.to_string(), op));
    }
    if let Some(c) = t.strip_prefix("compatible:") {
        return Ok(Cond::Compatible(c.to_string()));
    }
    if let Some(p) = t.strip_prefix("dsi-property:") {
        return Ok(Cond::DsiProperty(p.to_string()));
    }
    if let Some(p) = t.strip_prefix("property:") {
        return Ok(Cond::Property(p.to_string()));
    }
    let (neg, f) = match t.strip_prefix('!') {
        Some(f) => (true, f),
        None => (false, t),
    };
    if f != NEXT_BRIDGE && !fields.contains_key(f) {
        return Err(src.error(
            s.span(),
            format!("condition `{written}`: {expected}, and `{f}` is not a field"),
        ));
    }
    Ok(if neg {
        Cond::Unset(f.to_string())
    } else {
        Cond::Set(f.to_string())
    })
}

/// The errors a description may name in `return_error`.
const ERRNOS: [Errno; 7] = [
    Errno::EINVAL,
    Errno::ENODEV,
    Errno::ENOENT,
    Errno::EIO,
    Errno::ENOMEM,
    Errno::EBUSY,
    Errno::EPROBE_DEFER,
];

fn parse_errno(s: &str) -> Option<Errno> {
    ERRNOS.into_iter().find(|e| e.name() == s)
}
