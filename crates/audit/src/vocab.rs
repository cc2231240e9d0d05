//! The call vocabulary: what a called function means for a bridge's lifetime.
//!
//! Every call the parser sees is classified once, by the callee's name as the kernel spells
//! it, into a [`Class`]: a framework call the audit models ([`Api`]), a call with no lifetime
//! effect ([`Class::Neutral`], e.g. logging and delays), a static function of the same file
//! (followed by the extraction), or [`Class::Unknown`], which the report lists with
//! file:line. Nothing is dropped without a class.

use std::fmt;

use drm::Release;
use serde::Serialize;

/// A kind of hardware access (a call that reaches the device).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hw {
    Regmap,
    Gpio,
    Regulator,
    I2c,
    Dsi,
    Clk,
    Mmio,
    Aux,
}

impl fmt::Display for Hw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hw::Regmap => "regmap",
            Hw::Gpio => "gpio",
            Hw::Regulator => "regulator",
            Hw::I2c => "i2c",
            Hw::Dsi => "mipi_dsi",
            Hw::Clk => "clk",
            Hw::Mmio => "mmio",
            Hw::Aux => "dp_aux",
        })
    }
}

/// How a bridge pointer handed back by a lookup is held.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    /// Counted: the caller owns a reference and must put it.
    Counted,
    /// Borrowed: no reference; the pointer is valid only while the bridge's device is bound.
    Borrowed,
}

/// A framework call the audit understands.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "api")]
pub enum Api {
    /// devm_drm_bridge_alloc(), devm_kzalloc(), kzalloc() and friends.
    Alloc,
    /// kfree().
    Free,
    BridgeAdd,
    DevmBridgeAdd,
    BridgeRemove,
    BridgeUnplug,
    BridgeEnter,
    BridgeExit,
    BridgeAttach,
    BridgeDetach,
    /// drm_bridge_get().
    BridgeGet,
    BridgePut,
    BridgeClearAndPut,
    /// A bridge lookup; `counted_since` is the first release where its result is counted.
    Lookup {
        #[serde(serialize_with = "crate::ser::release_opt")]
        counted_since: Option<Release>,
    },
    PanelBridgeAdd {
        managed: bool,
    },
    PanelBridgeRemove,
    PanelFind,
    PanelPrepare,
    PanelEnable,
    PanelDisable,
    PanelUnprepare,
    PanelAdd,
    PanelRemove,
    DsiHostRegister,
    DsiHostUnregister,
    DsiAttach,
    DsiDetach,
    DsiDeviceRegister,
    DsiDeviceUnregister,
    HdmiAudio,
    Cec,
    /// A call that reaches the hardware.
    Hw {
        hw: Hw,
    },
    /// devm_regulator_get(), devm_gpiod_get(), devm_regmap_init_i2c(), ... (device-managed
    /// resources: released after remove, in reverse order).
    DevmResource,
    DevmAction,
    DevmReleaseAction,
    RequestIrq {
        managed: bool,
    },
    FreeIrq,
    DisableIrq,
    EnableIrq,
    InitWork,
    ScheduleWork,
    CancelWorkSync,
    FlushWork,
    MutexLock,
    MutexUnlock,
    /// guard(lock)(...): held until the end of the scope.
    Guard,
    /// scoped_guard(lock, ...) { ... }.
    ScopedGuard,
    /// dev_err_probe(): logs and returns its error.
    DevErrProbe,
    /// container_of() and the driver's to_*() helpers built on it.
    ContainerOf,
    /// Another devm_* helper.
    Devm,
    /// A drmm_* helper (released with the drm_device).
    Drmm,
    /// drm_helper_hpd_irq_event(), drm_bridge_hpd_notify(), drm_kms_helper_hotplug_event().
    HpdNotify,
    /// drm_bridge_helper_reset_crtc(): a modeset of the CRTC the bridge is on
    /// (its caller: v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_reset_pipe).
    ResetCrtc,
}

impl Api {
    /// The lookups: (name, first release whose result is counted, or None when borrowed in
    /// every release modelled). Sources: the getters return `drm_bridge_get(...)` from the
    /// release named.
    pub const LOOKUPS: [(&'static str, Option<Release>, &'static str); 10] = [
        // v6.18:include/drm/drm_bridge.h:drm_bridge_get_prev_bridge returns drm_bridge_get(prev).
        (
            "drm_bridge_get_prev_bridge",
            Some(Release::V6_18),
            "v6.18:include/drm/drm_bridge.h:drm_bridge_get_prev_bridge",
        ),
        (
            "drm_bridge_chain_get_first_bridge",
            Some(Release::V6_18),
            "v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_first_bridge",
        ),
        (
            "drm_bridge_chain_get_last_bridge",
            Some(Release::V6_18),
            "v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_last_bridge",
        ),
        (
            "drm_bridge_get_next_bridge",
            Some(Release::V6_19),
            "v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge",
        ),
        (
            "of_drm_find_and_get_bridge",
            Some(Release::V7_0),
            "v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_and_get_bridge",
        ),
        (
            "of_drm_get_bridge_by_endpoint",
            Some(Release::V7_2),
            "commit 03d1078112fd",
        ),
        (
            "of_drm_find_bridge",
            None,
            "v7.1:drivers/gpu/drm/drm_bridge.c:of_drm_find_bridge",
        ),
        (
            "devm_drm_of_get_bridge",
            None,
            "v7.1:drivers/gpu/drm/bridge/panel.c:devm_drm_of_get_bridge",
        ),
        (
            "drmm_of_get_bridge",
            None,
            "v7.1:drivers/gpu/drm/bridge/panel.c:drmm_of_get_bridge",
        ),
        (
            "drm_of_find_panel_or_bridge",
            None,
            "v7.1:drivers/gpu/drm/drm_of.c:drm_of_find_panel_or_bridge",
        ),
    ];

    /// How a lookup's result is held under `release`.
    pub fn held(self, release: Release) -> Option<Held> {
        match self {
            Api::Lookup { counted_since } => Some(match counted_since {
                Some(s) if release >= s => Held::Counted,
                _ => Held::Borrowed,
            }),
            Api::BridgeGet => Some(Held::Counted),
            _ => None,
        }
    }

    /// Whether the call reaches the hardware.
    pub fn is_hw(self) -> bool {
        matches!(self, Api::Hw { .. })
            || matches!(
                self,
                Api::PanelPrepare | Api::PanelEnable | Api::PanelDisable | Api::PanelUnprepare
            )
    }
}

/// What a call is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    Api(Api),
    /// No lifetime effect (logging, delays, string and math helpers, DT property reads).
    Neutral,
    /// A function defined in the same file: the extraction follows it.
    Internal,
    /// Not in the vocabulary: listed in the report.
    Unknown,
}

/// Exact names with lifetime meaning.
const EXACT: &[(&str, Api)] = &[
    ("devm_drm_bridge_alloc", Api::Alloc),
    ("devm_kzalloc", Api::Alloc),
    ("devm_kcalloc", Api::Alloc),
    ("devm_kmalloc", Api::Alloc),
    ("kzalloc", Api::Alloc),
    ("kmalloc", Api::Alloc),
    ("kcalloc", Api::Alloc),
    ("kmemdup", Api::Alloc),
    ("kstrdup", Api::Alloc),
    ("drmm_kzalloc", Api::Alloc),
    ("kfree", Api::Free),
    ("drm_bridge_add", Api::BridgeAdd),
    ("devm_drm_bridge_add", Api::DevmBridgeAdd),
    ("drm_bridge_remove", Api::BridgeRemove),
    ("drm_bridge_unplug", Api::BridgeUnplug),
    ("drm_bridge_helper_reset_crtc", Api::ResetCrtc),
    ("drm_bridge_enter", Api::BridgeEnter),
    ("drm_bridge_exit", Api::BridgeExit),
    ("drm_bridge_attach", Api::BridgeAttach),
    ("drm_bridge_detach", Api::BridgeDetach),
    ("drm_bridge_get", Api::BridgeGet),
    ("drm_bridge_put", Api::BridgePut),
    ("drm_bridge_clear_and_put", Api::BridgeClearAndPut),
    (
        "devm_drm_panel_bridge_add",
        Api::PanelBridgeAdd { managed: true },
    ),
    (
        "devm_drm_panel_bridge_add_typed",
        Api::PanelBridgeAdd { managed: true },
    ),
    (
        "drmm_panel_bridge_add",
        Api::PanelBridgeAdd { managed: true },
    ),
    (
        "drm_panel_bridge_add",
        Api::PanelBridgeAdd { managed: false },
    ),
    (
        "drm_panel_bridge_add_typed",
        Api::PanelBridgeAdd { managed: false },
    ),
    ("drm_panel_bridge_remove", Api::PanelBridgeRemove),
    ("of_drm_find_panel", Api::PanelFind),
    ("drm_panel_prepare", Api::PanelPrepare),
    ("drm_panel_enable", Api::PanelEnable),
    ("drm_panel_disable", Api::PanelDisable),
    ("drm_panel_unprepare", Api::PanelUnprepare),
    ("drm_panel_add", Api::PanelAdd),
    ("drm_panel_remove", Api::PanelRemove),
    ("mipi_dsi_host_register", Api::DsiHostRegister),
    ("mipi_dsi_host_unregister", Api::DsiHostUnregister),
    ("mipi_dsi_attach", Api::DsiAttach),
    ("devm_mipi_dsi_attach", Api::DsiAttach),
    ("mipi_dsi_detach", Api::DsiDetach),
    ("mipi_dsi_device_register_full", Api::DsiDeviceRegister),
    ("devm_mipi_dsi_device_register_full", Api::DsiDeviceRegister),
    ("mipi_dsi_device_unregister", Api::DsiDeviceUnregister),
    ("devm_add_action", Api::DevmAction),
    ("devm_add_action_or_reset", Api::DevmAction),
    ("devm_release_action", Api::DevmReleaseAction),
    ("devm_remove_action", Api::DevmReleaseAction),
    ("request_irq", Api::RequestIrq { managed: false }),
    ("request_threaded_irq", Api::RequestIrq { managed: false }),
    ("devm_request_irq", Api::RequestIrq { managed: true }),
    (
        "devm_request_threaded_irq",
        Api::RequestIrq { managed: true },
    ),
    ("free_irq", Api::FreeIrq),
    ("devm_free_irq", Api::FreeIrq),
    ("disable_irq", Api::DisableIrq),
    ("disable_irq_nosync", Api::DisableIrq),
    ("enable_irq", Api::EnableIrq),
    ("INIT_WORK", Api::InitWork),
    ("INIT_DELAYED_WORK", Api::InitWork),
    ("devm_work_autocancel", Api::InitWork),
    ("devm_delayed_work_autocancel", Api::InitWork),
    ("schedule_work", Api::ScheduleWork),
    ("schedule_delayed_work", Api::ScheduleWork),
    ("queue_work", Api::ScheduleWork),
    ("queue_delayed_work", Api::ScheduleWork),
    ("mod_delayed_work", Api::ScheduleWork),
    ("cancel_work_sync", Api::CancelWorkSync),
    ("cancel_delayed_work_sync", Api::CancelWorkSync),
    ("cancel_work", Api::CancelWorkSync),
    ("cancel_delayed_work", Api::CancelWorkSync),
    ("flush_work", Api::FlushWork),
    ("flush_delayed_work", Api::FlushWork),
    ("flush_workqueue", Api::FlushWork),
    ("destroy_workqueue", Api::FlushWork),
    ("mutex_lock", Api::MutexLock),
    ("mutex_lock_interruptible", Api::MutexLock),
    ("mutex_unlock", Api::MutexUnlock),
    ("guard", Api::Guard),
    ("scoped_guard", Api::ScopedGuard),
    ("dev_err_probe", Api::DevErrProbe),
    ("container_of", Api::ContainerOf),
    ("container_of_const", Api::ContainerOf),
    ("drm_helper_hpd_irq_event", Api::HpdNotify),
    ("drm_bridge_hpd_notify", Api::HpdNotify),
    ("drm_kms_helper_hotplug_event", Api::HpdNotify),
    ("drm_connector_helper_hpd_irq_event", Api::HpdNotify),
    ("drm_bridge_hpd_enable", Api::HpdNotify),
    ("drm_bridge_hpd_disable", Api::HpdNotify),
    ("readl", Api::Hw { hw: Hw::Mmio }),
    ("writel", Api::Hw { hw: Hw::Mmio }),
    ("readl_relaxed", Api::Hw { hw: Hw::Mmio }),
    ("writel_relaxed", Api::Hw { hw: Hw::Mmio }),
    ("readl_poll_timeout", Api::Hw { hw: Hw::Mmio }),
    ("i2c_transfer", Api::Hw { hw: Hw::I2c }),
    ("i2c_master_send", Api::Hw { hw: Hw::I2c }),
    ("i2c_master_recv", Api::Hw { hw: Hw::I2c }),
    ("clk_prepare_enable", Api::Hw { hw: Hw::Clk }),
    ("clk_disable_unprepare", Api::Hw { hw: Hw::Clk }),
    ("clk_enable", Api::Hw { hw: Hw::Clk }),
    ("clk_disable", Api::Hw { hw: Hw::Clk }),
    ("clk_set_rate", Api::Hw { hw: Hw::Clk }),
    ("regulator_enable", Api::Hw { hw: Hw::Regulator }),
    ("regulator_disable", Api::Hw { hw: Hw::Regulator }),
    ("regulator_bulk_enable", Api::Hw { hw: Hw::Regulator }),
    ("regulator_bulk_disable", Api::Hw { hw: Hw::Regulator }),
    ("regulator_set_voltage", Api::Hw { hw: Hw::Regulator }),
    ("regulator_set_load", Api::Hw { hw: Hw::Regulator }),
    ("drm_dp_dpcd_read", Api::Hw { hw: Hw::Aux }),
    ("drm_dp_dpcd_write", Api::Hw { hw: Hw::Aux }),
    ("drm_dp_dpcd_readb", Api::Hw { hw: Hw::Aux }),
    ("drm_dp_dpcd_writeb", Api::Hw { hw: Hw::Aux }),
    ("drm_do_get_edid", Api::Hw { hw: Hw::I2c }),
    ("drm_edid_read_custom", Api::Hw { hw: Hw::I2c }),
    ("drm_edid_read_ddc", Api::Hw { hw: Hw::I2c }),
    ("drm_get_edid", Api::Hw { hw: Hw::I2c }),
    ("drm_edid_read", Api::Hw { hw: Hw::I2c }),
    ("cec_register_adapter", Api::Cec),
    ("cec_unregister_adapter", Api::Cec),
    ("cec_notifier_conn_register", Api::Cec),
    ("cec_notifier_conn_unregister", Api::Cec),
    ("cec_notifier_cec_adap_register", Api::Cec),
    ("cec_notifier_cec_adap_unregister", Api::Cec),
    ("cec_allocate_adapter", Api::Cec),
    ("cec_delete_adapter", Api::Cec),
    ("platform_device_register_data", Api::HdmiAudio),
    ("platform_device_register_full", Api::HdmiAudio),
    ("platform_device_unregister", Api::HdmiAudio),
    ("drm_connector_hdmi_audio_init", Api::HdmiAudio),
];

/// Prefixes with lifetime meaning, longest match first in the table's order.
const PREFIX: &[(&str, Api)] = &[
    ("regmap_", Api::Hw { hw: Hw::Regmap }),
    ("regcache_sync", Api::Hw { hw: Hw::Regmap }),
    ("gpiod_set_value", Api::Hw { hw: Hw::Gpio }),
    ("gpiod_get_value", Api::Hw { hw: Hw::Gpio }),
    ("gpiod_set_array_value", Api::Hw { hw: Hw::Gpio }),
    ("gpiod_direction_", Api::Hw { hw: Hw::Gpio }),
    ("i2c_smbus_", Api::Hw { hw: Hw::I2c }),
    ("mipi_dsi_dcs_", Api::Hw { hw: Hw::Dsi }),
    ("mipi_dsi_generic_", Api::Hw { hw: Hw::Dsi }),
    ("mipi_dsi_turn_on_peripheral", Api::Hw { hw: Hw::Dsi }),
    ("mipi_dsi_compression_mode", Api::Hw { hw: Hw::Dsi }),
    (
        "mipi_dsi_set_maximum_return_packet_size",
        Api::Hw { hw: Hw::Dsi },
    ),
    ("drm_dp_dpcd_", Api::Hw { hw: Hw::Aux }),
    ("devm_regulator_", Api::DevmResource),
    ("devm_gpiod_get", Api::DevmResource),
    ("devm_regmap_init", Api::DevmResource),
    ("devm_clk_get", Api::DevmResource),
    ("devm_ioremap", Api::DevmResource),
    ("devm_platform_ioremap", Api::DevmResource),
    ("devm_i2c_new_dummy_device", Api::DevmResource),
    ("devm_reset_control_get", Api::DevmResource),
    ("devm_phy_get", Api::DevmResource),
    ("devm_pwm_get", Api::DevmResource),
    ("devm_", Api::Devm),
    ("drmm_", Api::Drmm),
];

/// Calls with no lifetime effect.
const NEUTRAL_EXACT: &[&str] = &[
    "dev_err",
    "dev_warn",
    "dev_info",
    "dev_dbg",
    "dev_notice",
    "dev_err_ratelimited",
    "dev_warn_ratelimited",
    "dev_info_once",
    "dev_warn_once",
    "dev_err_once",
    "dev_dbg_ratelimited",
    "pr_err",
    "pr_warn",
    "pr_info",
    "pr_debug",
    "printk",
    "WARN_ON",
    "WARN",
    "WARN_ON_ONCE",
    "DRM_ERROR",
    "DRM_DEBUG",
    "DRM_DEBUG_KMS",
    "DRM_DEBUG_DRIVER",
    "DRM_INFO",
    "DRM_WARN",
    "DRM_DEV_ERROR",
    "DRM_DEV_DEBUG",
    "DRM_DEV_DEBUG_KMS",
    "DRM_DEV_INFO",
    "drm_err",
    "drm_dbg",
    "drm_warn",
    "drm_info",
    "drm_dbg_kms",
    "drm_dbg_driver",
    "drm_dbg_atomic",
    "drm_WARN_ON",
    "usleep_range",
    "msleep",
    "udelay",
    "mdelay",
    "ndelay",
    "fsleep",
    "msleep_interruptible",
    "msecs_to_jiffies",
    "memset",
    "memcpy",
    "memcmp",
    "strcmp",
    "strncmp",
    "strlen",
    "strscpy",
    "snprintf",
    "sprintf",
    "scnprintf",
    "sizeof",
    "min",
    "max",
    "min_t",
    "max_t",
    "clamp",
    "clamp_t",
    "abs",
    "DIV_ROUND_UP",
    "DIV_ROUND_CLOSEST",
    "DIV_ROUND_UP_ULL",
    "div_u64",
    "do_div",
    "BIT",
    "GENMASK",
    "FIELD_PREP",
    "FIELD_GET",
    "ARRAY_SIZE",
    "IS_ERR",
    "PTR_ERR",
    "ERR_PTR",
    "IS_ERR_OR_NULL",
    "ERR_CAST",
    "PTR_ERR_OR_ZERO",
    "dev_name",
    "dev_get_drvdata",
    "dev_set_drvdata",
    "i2c_get_clientdata",
    "i2c_set_clientdata",
    "platform_get_drvdata",
    "platform_set_drvdata",
    "mipi_dsi_get_drvdata",
    "mipi_dsi_set_drvdata",
    "to_platform_device",
    "to_i2c_client",
    "to_mipi_dsi_device",
    "to_delayed_work",
    "of_device_get_match_data",
    "device_get_match_data",
    "of_match_device",
    "i2c_get_match_data",
    "of_node_put",
    "of_node_get",
    "of_get_child_by_name",
    "of_graph_get_port_by_id",
    "of_graph_get_endpoint_by_regs",
    "of_graph_get_remote_port_parent",
    "of_graph_get_remote_node",
    "of_graph_get_remote_endpoint",
    "of_graph_get_remote_port",
    "of_get_compatible_child",
    "of_device_is_compatible",
    "of_property_read_bool",
    "of_property_present",
    "of_graph_get_endpoint_count",
    "of_graph_get_next_endpoint",
    "of_find_device_by_node",
    "put_device",
    "get_device",
    "of_find_mipi_dsi_host_by_node",
    "of_get_drm_display_mode",
    "of_get_display_timings",
    "fwnode_handle_put",
    "dev_fwnode",
    "of_fwnode_handle",
    "drm_of_encoder_active_endpoint",
    "drm_atomic_get_new_bridge_state",
    "drm_atomic_get_old_bridge_state",
    "drm_atomic_get_new_connector_for_encoder",
    "drm_atomic_get_old_connector_for_encoder",
    "drm_atomic_get_new_connector_state",
    "drm_atomic_get_new_crtc_state",
    "drm_atomic_get_old_crtc_state",
    "drm_atomic_helper_bridge_duplicate_state",
    "drm_atomic_helper_bridge_destroy_state",
    "drm_atomic_helper_bridge_reset",
    "drm_atomic_helper_bridge_propagate_bus_fmt",
    "drm_mode_copy",
    "drm_mode_duplicate",
    "drm_mode_probed_add",
    "drm_mode_set_name",
    "drm_mode_vrefresh",
    "drm_display_mode_to_videomode",
    "drm_connector_update_edid_property",
    "drm_edid_connector_update",
    "drm_edid_connector_add_modes",
    "drm_add_edid_modes",
    "drm_edid_free",
    "drm_edid_dup",
    "kfree_const",
    "drm_mode_create",
    "drm_of_lvds_get_dual_link_pixel_order",
    "drm_of_get_data_lanes_count_ep",
    "drm_of_get_data_lanes_count",
    "mipi_dsi_pixel_format_to_bpp",
    "complete",
    "init_completion",
    "reinit_completion",
    "wait_for_completion_timeout",
    "mutex_init",
    "spin_lock_init",
    "spin_lock_irqsave",
    "spin_unlock_irqrestore",
    "spin_lock",
    "spin_unlock",
    "spin_lock_irq",
    "spin_unlock_irq",
    "atomic_set",
    "atomic_read",
    "READ_ONCE",
    "WRITE_ONCE",
    "likely",
    "unlikely",
    "ktime_get",
    "jiffies_to_msecs",
    "time_after",
    "get_unaligned_le16",
    "get_unaligned_be16",
    "put_unaligned_le16",
    "cpu_to_le16",
    "le16_to_cpu",
    "hweight32",
    "fls",
    "ffs",
    "kstrtoint",
    "kstrtouint",
    "kstrtobool",
    "seq_printf",
    "seq_puts",
    "module_i2c_driver",
    "module_platform_driver",
    "module_mipi_dsi_driver",
    "MODULE_DEVICE_TABLE",
    "MODULE_AUTHOR",
    "MODULE_DESCRIPTION",
    "MODULE_LICENSE",
    "EXPORT_SYMBOL_GPL",
    "EXPORT_SYMBOL",
    "pm_runtime_get_sync",
    "pm_runtime_put_sync",
    "pm_runtime_put",
    "pm_runtime_resume_and_get",
    "pm_runtime_enable",
    "pm_runtime_disable",
    "pm_runtime_put_autosuspend",
    "pm_runtime_mark_last_busy",
    "pm_runtime_use_autosuspend",
    "pm_runtime_set_autosuspend_delay",
    "pm_runtime_get_if_in_use",
    "drm_bridge_is_panel",
    "drm_bridge_get_modes",
    "drm_bridge_edid_read",
    "media_bus_fmt_to_str",
    "wait_event_timeout",
    "wake_up",
    "wake_up_all",
    "init_waitqueue_head",
];

/// Prefixes of calls with no lifetime effect.
const NEUTRAL_PREFIX: &[&str] = &[
    "of_property_read_",
    "fwnode_property_",
    "device_property_",
    "drm_mode_",
    "drm_display_",
    "drm_atomic_helper_",
    "drm_connector_attach_",
    "drm_connector_set_",
    "drm_hdmi_",
    "hdmi_",
    "drm_dp_link_",
    "drm_edid_get_",
    "debugfs_create_",
    "DRM_MODE_",
    "kasprintf",
    "list_",
    "bitmap_",
    "atomic_",
    "print_hex_dump",
    "drm_helper_probe_",
    "video_",
    "seq_",
    "drm_modeset_",
    "regcache_",
    "of_graph_",
    "of_get_",
    "of_find_",
    "of_node_",
    "str",
    "kref_",
    "drm_object_",
    "drm_property_",
    "drm_encoder_",
    "drm_crtc_",
];

/// Classify a call by the callee's name; `internal` says whether the file defines it.
pub fn classify(name: &str, internal: bool) -> Class {
    if internal {
        return Class::Internal;
    }
    if let Some((_, api)) = EXACT.iter().find(|(n, _)| *n == name) {
        return Class::Api(*api);
    }
    if let Some((_, c, _)) = Api::LOOKUPS.iter().find(|(n, _, _)| *n == name) {
        return Class::Api(Api::Lookup { counted_since: *c });
    }
    if NEUTRAL_EXACT.contains(&name) || NEUTRAL_PREFIX.iter().any(|p| name.starts_with(p)) {
        return Class::Neutral;
    }
    if let Some((_, api)) = PREFIX.iter().find(|(p, _)| name.starts_with(p)) {
        return Class::Api(*api);
    }
    // An upper-case macro not named above computes a value (register fields, bit masks).
    if name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return Class::Neutral;
    }
    // The driver's to_*() helpers are container_of wrappers; when a file does not define
    // them itself (a header does), they are still accessors.
    if name.starts_with("to_") || name.ends_with("_to_ctx") {
        return Class::Api(Api::ContainerOf);
    }
    Class::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_counted_from_their_release() {
        let next = match classify("drm_bridge_get_next_bridge", false) {
            Class::Api(a) => a,
            c => panic!("{c:?}"),
        };
        assert_eq!(next.held(Release::V6_18), Some(Held::Borrowed));
        assert_eq!(next.held(Release::V6_19), Some(Held::Counted));
        let of = match classify("of_drm_find_bridge", false) {
            Class::Api(a) => a,
            c => panic!("{c:?}"),
        };
        assert_eq!(of.held(Release::V7_1), Some(Held::Borrowed));
    }

    #[test]
    fn classes() {
        assert_eq!(
            classify("regmap_write", false),
            Class::Api(Api::Hw { hw: Hw::Regmap })
        );
        assert_eq!(
            classify("devm_regulator_get", false),
            Class::Api(Api::DevmResource)
        );
        assert_eq!(classify("devm_foo", false), Class::Api(Api::Devm));
        assert_eq!(classify("dev_err", false), Class::Neutral);
        assert_eq!(classify("sn65dsi83_reset_pipe", true), Class::Internal);
        assert_eq!(classify("frobnicate", false), Class::Unknown);
    }
}
