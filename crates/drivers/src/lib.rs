//! Models of real Linux drivers, one file per driver, matched by compatible string.
//!
//! # Overview
//!
//! - [`supply`]: generic models of the suppliers display drivers depend on (fixed regulators,
//!   GPIO, I2C and PWM controllers, backlights), and the consumer-side lookups
//!   (`devm_regulator_get`, `devm_gpiod_get`) that return `-EPROBE_DEFER` until the supplier
//!   has bound, which is what gives real probe ordering.
//! - [`registry`]: every model, by bus and compatible; [`registry::not_modelled`] lists the
//!   nodes no model claims.

pub mod registry;
pub mod supply;
