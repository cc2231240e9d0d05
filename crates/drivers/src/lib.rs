//! Models of real Linux drivers, matched by compatible string: the display drivers as data, the suppliers in Rust.
//!
//! # Overview
//!
//! - [`data`]: the drivers described as data: display controllers, bridges and panels
//!   (docs/driver-format.md); a scenario may still name a description by its old era variant
//!   ([`variant`]).
//! - [`supply`]: generic models of the suppliers display drivers depend on (fixed regulators,
//!   GPIO, I2C and PWM controllers, backlights), and the consumer-side lookups
//!   (`devm_regulator_get`, `devm_gpiod_get`) that return `-EPROBE_DEFER` until the supplier
//!   has bound, which is what gives real probe ordering.
//! - [`mipi_dsi`]: DSI hosts and peripherals; [`display`]: the pipelines display controllers
//!   created; [`graph`]: OF graph lookups; [`common`]: what bridge drivers share.
//! - [`registry`]: every model, by bus and compatible; [`registry::not_modelled`] lists the
//!   nodes no model claims.

pub mod common;
pub mod component;
pub mod data;
pub mod display;
pub mod graph;
pub mod mipi_dsi;
pub mod registry;
pub mod supply;
pub mod variant;
