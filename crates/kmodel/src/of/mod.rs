//! `linux/of.h`: the live device tree, the OF graph and overlays.

/// A node of the live tree (placeholder until the OF model lands).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);
