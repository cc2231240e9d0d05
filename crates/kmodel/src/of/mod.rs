//! The live device tree, modelled on the kernel's `struct device_node` and
//! the helpers of drivers/of/base.c, drivers/of/property.c (OF graph) and
//! drivers/of/overlay.c + drivers/of/resolver.c (overlays as changesets).
//!
//! Pure data: no runtime, no DRM knowledge. Nodes live in an arena and are
//! addressed by [`NodeId`]; detached nodes stay in the arena so an id never
//! names a different node later (the model's stand-in for a dangling
//! `struct device_node *` being distinguishable from a live one).

mod graph;
mod overlay;
#[cfg(test)]
mod tests;

pub use graph::{EndpointRef, OfGraphError};
pub use overlay::{
    Changeset, ChangesetEntry, OfReconfig, OfReconfigAction, OvcsId, OverlayError, ReconfigChange,
};

use std::fmt;

/// Index of a node in a [`DeviceTree`] arena.
///
/// # Invariants
///
/// A `NodeId` is only meaningful for the tree that created it. Ids are never
/// reused: a node detached by an overlay revert keeps its slot (marked
/// detached), and base nodes keep their ids across apply/revert.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// A node id from its index, for models that use node identities without a tree (unit
    /// tests of higher layers). With a real tree, take ids from the tree.
    pub const fn from_raw(index: u32) -> Self {
        NodeId(index)
    }

    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}

/// A phandle value (`phandle` property). 0 and 0xffffffff are invalid
/// (`phandle_is_valid()` in dtc, `OF_PHANDLE_ILLEGAL` in the kernel).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phandle(pub u32);

impl Phandle {
    /// dtc's `phandle_is_valid()`.
    pub fn is_valid(self) -> bool {
        self.0 != 0 && self.0 != u32::MAX
    }
}

/// A property: a name and raw big-endian bytes, as in `struct property`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub value: Vec<u8>,
}

impl Property {
    pub fn new(name: impl Into<String>, value: Vec<u8>) -> Self {
        Property {
            name: name.into(),
            value,
        }
    }

    /// `of_property_read_u32_index(.., 0)`.
    pub fn as_u32(&self) -> Option<u32> {
        (self.value.len() == 4).then(|| be32(&self.value, 0))
    }

    /// The value as big-endian cells (None if the length is not a multiple of 4).
    pub fn as_u32_array(&self) -> Option<Vec<u32>> {
        if !self.value.len().is_multiple_of(4) {
            return None;
        }
        Some(
            (0..self.value.len() / 4)
                .map(|i| be32(&self.value, i * 4))
                .collect(),
        )
    }

    /// `of_property_read_u64`.
    pub fn as_u64(&self) -> Option<u64> {
        (self.value.len() == 8).then(|| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.value);
            u64::from_be_bytes(b)
        })
    }

    /// `of_property_read_string`: the first NUL-terminated string.
    pub fn as_str(&self) -> Option<&str> {
        let end = self.value.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&self.value[..end]).ok()
    }

    /// `of_property_read_string_array`: every NUL-terminated string.
    pub fn as_str_list(&self) -> Vec<&str> {
        if self.value.last() != Some(&0) {
            return Vec::new();
        }
        self.value[..self.value.len() - 1]
            .split(|&b| b == 0)
            .map(|s| std::str::from_utf8(s).unwrap_or(""))
            .collect()
    }
}

pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

#[derive(Clone, Debug)]
struct NodeData {
    /// Full name with unit address (`port@1`); "" for the root.
    name: String,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    properties: Vec<Property>,
    /// Source labels (dtc's `node->labels`), in definition order.
    labels: Vec<String>,
    attached: bool,
}

/// A memory reservation block entry (`/memreserve/ addr size;`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemReserve {
    pub address: u64,
    pub size: u64,
}

/// The device tree: an arena of nodes plus the overlay changeset stack.
#[derive(Clone, Debug)]
pub struct DeviceTree {
    nodes: Vec<NodeData>,
    /// `/memreserve/` entries.
    pub memreserve: Vec<MemReserve>,
    /// The FDT header's boot_cpuid_phys.
    pub boot_cpuid_phys: u32,
    pub(crate) overlays: Vec<Changeset>,
    pub(crate) next_ovcs_id: u32,
}

impl Default for DeviceTree {
    fn default() -> Self {
        Self::new()
    }
}

impl DeviceTree {
    /// A tree with an empty root node.
    pub fn new() -> Self {
        DeviceTree {
            nodes: vec![NodeData {
                name: String::new(),
                parent: None,
                children: Vec::new(),
                properties: Vec::new(),
                labels: Vec::new(),
                attached: true,
            }],
            memreserve: Vec::new(),
            boot_cpuid_phys: 0,
            overlays: Vec::new(),
            next_ovcs_id: 1,
        }
    }

    /// The root node `/`.
    pub fn root(&self) -> NodeId {
        NodeId(0)
    }

    fn n(&self, id: NodeId) -> &NodeData {
        &self.nodes[id.index()]
    }

    fn n_mut(&mut self, id: NodeId) -> &mut NodeData {
        &mut self.nodes[id.index()]
    }

    /// Number of arena slots (attached or not).
    pub fn arena_len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the node is part of the live tree (false after an overlay
    /// revert detached it).
    pub fn is_attached(&self, id: NodeId) -> bool {
        self.n(id).attached
    }

    /// Appends a new child (builder API for front ends).
    pub fn add_child(&mut self, parent: NodeId, name: impl Into<String>) -> NodeId {
        let id = self.new_node(parent, name.into());
        self.n_mut(parent).children.push(id);
        id
    }

    fn new_node(&mut self, parent: NodeId, name: String) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(NodeData {
            name,
            parent: Some(parent),
            children: Vec::new(),
            properties: Vec::new(),
            labels: Vec::new(),
            attached: true,
        });
        id
    }

    /// Appends or replaces a property in place.
    pub fn set_property(&mut self, node: NodeId, name: &str, value: Vec<u8>) {
        let props = &mut self.n_mut(node).properties;
        if let Some(p) = props.iter_mut().find(|p| p.name == name) {
            p.value = value;
        } else {
            props.push(Property::new(name, value));
        }
    }

    /// Appends a property without looking for one of the same name: for
    /// front ends whose names are already unique, where
    /// [`Self::set_property`]'s lookup would make building a node with many
    /// properties quadratic.
    pub fn push_property(&mut self, node: NodeId, name: &str, value: Vec<u8>) {
        self.n_mut(node).properties.push(Property::new(name, value));
    }

    /// Removes a property; returns it with its former index.
    pub fn remove_property(&mut self, node: NodeId, name: &str) -> Option<(usize, Property)> {
        let props = &mut self.n_mut(node).properties;
        let i = props.iter().position(|p| p.name == name)?;
        Some((i, props.remove(i)))
    }

    /// Adds a source label to a node.
    pub fn add_label(&mut self, node: NodeId, label: impl Into<String>) {
        let label = label.into();
        let labels = &mut self.n_mut(node).labels;
        if !labels.contains(&label) {
            labels.push(label);
        }
    }

    /// Source labels of a node (compiled from source; empty for a .dtb).
    pub fn labels(&self, node: NodeId) -> &[String] {
        &self.n(node).labels
    }

    /// The node's name with unit address (`kbasename(full_name)`).
    pub fn name(&self, node: NodeId) -> &str {
        &self.n(node).name
    }

    /// The name without unit address (`of_node_name_eq` compares this).
    pub fn base_name(&self, node: NodeId) -> &str {
        let n = self.name(node);
        n.split('@').next().unwrap_or(n)
    }

    /// The unit address part after '@', if any.
    pub fn unit_address(&self, node: NodeId) -> Option<&str> {
        self.name(node).split_once('@').map(|(_, a)| a)
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.n(node).parent
    }

    pub fn children(&self, node: NodeId) -> &[NodeId] {
        &self.n(node).children
    }

    pub fn properties(&self, node: NodeId) -> &[Property] {
        &self.n(node).properties
    }

    /// `of_find_property`.
    pub fn property(&self, node: NodeId, name: &str) -> Option<&Property> {
        self.n(node).properties.iter().find(|p| p.name == name)
    }

    /// `of_get_child_by_name`: first child whose base name matches.
    pub fn child_by_name(&self, node: NodeId, name: &str) -> Option<NodeId> {
        self.children(node)
            .iter()
            .copied()
            .find(|&c| self.base_name(c) == name)
    }

    /// A child by its full name (with unit address).
    pub fn child_by_full_name(&self, node: NodeId, name: &str) -> Option<NodeId> {
        self.children(node)
            .iter()
            .copied()
            .find(|&c| self.name(c) == name)
    }

    /// `%pOF`: the full path, "/" for the root.
    pub fn full_name(&self, node: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(node);
        while let Some(c) = cur {
            if self.n(c).parent.is_some() {
                parts.push(self.name(c));
            }
            cur = self.n(c).parent;
        }
        if parts.is_empty() {
            return "/".to_string();
        }
        parts.reverse();
        let mut s = String::new();
        for p in parts {
            s.push('/');
            s.push_str(p);
        }
        s
    }

    /// Pre-order walk of attached nodes under `from` (inclusive).
    pub fn descendants(&self, from: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            out.push(n);
            for &c in self.children(n).iter().rev() {
                stack.push(c);
            }
        }
        out
    }

    /// All attached nodes in pre-order.
    pub fn all_nodes(&self) -> Vec<NodeId> {
        self.descendants(self.root())
    }

    /// `of_find_node_by_path`: "/a/b@1" (a component without unit address
    /// also matches a node with one, as `__of_find_node_by_path` does), or an
    /// alias name ("serial0/sub") resolved through `/aliases`.
    pub fn of_find_node_by_path(&self, path: &str) -> Option<NodeId> {
        let (mut cur, rest) = if let Some(rest) = path.strip_prefix('/') {
            (self.root(), rest)
        } else {
            let (alias, rest) = path.split_once('/').unwrap_or((path, ""));
            let aliases = self.child_by_full_name(self.root(), "aliases")?;
            let target = self.property(aliases, alias)?.as_str()?.to_string();
            (self.of_find_node_by_path(&target)?, rest)
        };
        for comp in rest.split('/').filter(|c| !c.is_empty()) {
            cur = self.child_by_full_name(cur, comp).or_else(|| {
                if comp.contains('@') {
                    None
                } else {
                    self.child_by_name(cur, comp)
                }
            })?;
        }
        Some(cur)
    }

    /// The node's phandle (`phandle`, else the obsolete `linux,phandle`).
    pub fn phandle(&self, node: NodeId) -> Option<Phandle> {
        self.property(node, "phandle")
            .or_else(|| self.property(node, "linux,phandle"))
            .and_then(Property::as_u32)
            .map(Phandle)
            .filter(|p| p.is_valid())
    }

    /// `of_find_node_by_phandle`.
    pub fn of_find_node_by_phandle(&self, ph: Phandle) -> Option<NodeId> {
        if !ph.is_valid() {
            return None;
        }
        self.all_nodes()
            .into_iter()
            .find(|&n| self.phandle(n) == Some(ph))
    }

    /// The largest phandle in the tree (`live_tree_max_phandle()` in
    /// drivers/of/resolver.c), 0 if none.
    pub fn max_phandle(&self) -> u32 {
        self.all_nodes()
            .into_iter()
            .filter_map(|n| self.phandle(n))
            .map(|p| p.0)
            .max()
            .unwrap_or(0)
    }

    /// `of_parse_phandle(np, name, index)` for a plain phandle list.
    pub fn of_parse_phandle(&self, node: NodeId, name: &str, index: usize) -> Option<NodeId> {
        let cells = self.property(node, name)?.as_u32_array()?;
        self.of_find_node_by_phandle(Phandle(*cells.get(index)?))
    }

    /// Resolves a label through `/__symbols__` (what the kernel resolver
    /// uses), falling back to source labels.
    pub fn of_find_node_by_label(&self, label: &str) -> Option<NodeId> {
        if let Some(sym) = self.child_by_full_name(self.root(), "__symbols__") {
            if let Some(p) = self.property(sym, label).and_then(Property::as_str) {
                return self.of_find_node_by_path(p);
            }
        }
        self.all_nodes()
            .into_iter()
            .find(|&n| self.labels(n).iter().any(|l| l == label))
    }

    /// `of_device_is_available`: `status` absent, "okay" or "ok".
    pub fn of_device_is_available(&self, node: NodeId) -> bool {
        match self.property(node, "status") {
            None => true,
            Some(p) => matches!(p.as_str(), Some("okay") | Some("ok")),
        }
    }

    /// Available and every ancestor available too (what decides whether a
    /// device is ever created for the node).
    pub fn is_effectively_available(&self, node: NodeId) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if !self.of_device_is_available(c) {
                return false;
            }
            cur = self.parent(c);
        }
        true
    }

    /// The `compatible` list, most specific first.
    pub fn compatible(&self, node: NodeId) -> Vec<&str> {
        self.property(node, "compatible")
            .map(Property::as_str_list)
            .unwrap_or_default()
    }

    /// `of_device_is_compatible`: 0 if no match, else a score that is higher
    /// for earlier entries (as `__of_device_is_compatible` does).
    pub fn of_device_is_compatible(&self, node: NodeId, compat: &str) -> u32 {
        let list = self.compatible(node);
        match list.iter().position(|c| c.eq_ignore_ascii_case(compat)) {
            Some(i) => (u32::MAX / 2).saturating_sub(i as u32 * 4),
            None => 0,
        }
    }

    /// `of_property_read_u32`.
    pub fn read_u32(&self, node: NodeId, name: &str) -> Option<u32> {
        self.property(node, name)?.as_u32_array()?.first().copied()
    }

    /// `of_property_read_string`.
    pub fn read_string(&self, node: NodeId, name: &str) -> Option<&str> {
        self.property(node, name)?.as_str()
    }

    /// Structural equality: same names, properties (in order) and children
    /// (in order) from the roots down; node ids are not compared.
    pub fn structurally_eq(&self, other: &DeviceTree) -> bool {
        fn eq(a: &DeviceTree, an: NodeId, b: &DeviceTree, bn: NodeId) -> bool {
            a.name(an) == b.name(bn)
                && a.properties(an) == b.properties(bn)
                && a.children(an).len() == b.children(bn).len()
                && a.children(an)
                    .iter()
                    .zip(b.children(bn))
                    .all(|(&x, &y)| eq(a, x, b, y))
        }
        self.memreserve == other.memreserve && eq(self, self.root(), other, other.root())
    }

    /// The ids of the applied overlay changesets, oldest first.
    pub fn applied_overlays(&self) -> Vec<OvcsId> {
        self.overlays.iter().map(|c| c.id).collect()
    }
}
