//! The simulated kernel runtime of bridgesim. It knows nothing about DRM.

pub mod of;
