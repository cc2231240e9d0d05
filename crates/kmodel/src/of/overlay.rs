//! Overlays applied as changesets, mirroring drivers/of/overlay.c
//! (`of_overlay_fdt_apply`, `of_overlay_remove`) and drivers/of/resolver.c
//! (`of_resolve_phandles`), with the OF reconfig notifications of
//! drivers/of/dynamic.c.

use super::{be32, DeviceTree, NodeId, Phandle, Property};
use std::fmt;

/// An overlay changeset id (`ovcs_id`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OvcsId(pub u32);

impl fmt::Display for OvcsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ovcs#{}", self.0)
    }
}

/// One `struct of_changeset_entry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangesetEntry {
    /// `OF_RECONFIG_ATTACH_NODE`: `node` was inserted at `index` among its
    /// parent's children.
    AttachNode { node: NodeId, index: usize },
    /// `OF_RECONFIG_ADD_PROPERTY`.
    AddProperty { node: NodeId, property: Property },
    /// `OF_RECONFIG_UPDATE_PROPERTY`, keeping the old value for revert.
    UpdateProperty {
        node: NodeId,
        property: Property,
        old: Property,
    },
}

/// An applied overlay: its id and entries in application order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changeset {
    pub id: OvcsId,
    pub entries: Vec<ChangesetEntry>,
}

/// The reconfig actions of include/linux/of.h (`OF_RECONFIG_*`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OfReconfigAction {
    AttachNode,
    DetachNode,
    AddProperty,
    RemoveProperty,
    UpdateProperty,
}

impl OfReconfigAction {
    /// The action that undoes this one (used for revert notifications).
    pub fn inverse(self) -> Self {
        match self {
            Self::AttachNode => Self::DetachNode,
            Self::DetachNode => Self::AttachNode,
            Self::AddProperty => Self::RemoveProperty,
            Self::RemoveProperty => Self::AddProperty,
            Self::UpdateProperty => Self::UpdateProperty,
        }
    }
}

/// What `of_reconfig_get_state_change()` says a notifier should do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReconfigChange {
    NoChange,
    /// `OF_RECONFIG_CHANGE_ADD`: create the device.
    Add,
    /// `OF_RECONFIG_CHANGE_REMOVE`: destroy the device.
    Remove,
}

/// One OF reconfig notification (`struct of_reconfig_data` + action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfReconfig {
    pub action: OfReconfigAction,
    pub node: NodeId,
    /// The node's full path at notification time.
    pub path: String,
    /// The property added/removed/updated (new value for updates).
    pub property: Option<Property>,
    /// The previous value for updates.
    pub old_property: Option<Property>,
    /// `of_device_is_available(node)` after the whole changeset.
    pub available: bool,
}

fn status_okay(p: &Property) -> bool {
    matches!(p.as_str(), Some("okay") | Some("ok"))
}

impl OfReconfig {
    /// `of_reconfig_get_state_change()` from drivers/of/dynamic.c.
    pub fn state_change(&self, tree: &DeviceTree) -> ReconfigChange {
        let prop = match self.action {
            OfReconfigAction::AttachNode | OfReconfigAction::DetachNode => {
                tree.property(self.node, "status").cloned()
            }
            _ => self.property.clone(),
        };
        let mut status_state: i32 = -1;
        let mut old_status_state: i32 = -1;
        let is_status = prop.as_ref().is_some_and(|p| p.name == "status");
        if is_status {
            status_state = status_okay(prop.as_ref().unwrap()) as i32;
            if let Some(old) = &self.old_property {
                old_status_state = status_okay(old) as i32;
            }
        }
        let (prev, new) = match self.action {
            OfReconfigAction::AttachNode => (0, (status_state != 0) as i32),
            OfReconfigAction::DetachNode => ((status_state != 0) as i32, 0),
            OfReconfigAction::AddProperty if is_status => (1, status_state),
            OfReconfigAction::RemoveProperty if is_status => (status_state, 1),
            OfReconfigAction::UpdateProperty if is_status => {
                ((old_status_state != 0) as i32, (status_state != 0) as i32)
            }
            _ => (-1, -1),
        };
        if prev == new {
            ReconfigChange::NoChange
        } else if new != 0 {
            ReconfigChange::Add
        } else {
            ReconfigChange::Remove
        }
    }
}

/// Why an overlay could not be applied or removed (kernel errno in docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlayError {
    /// A `__fixups__` label is not in the live `__symbols__` (-EINVAL,
    /// "node label '%s' not found in live devicetree symbols table").
    UnresolvedSymbol(String),
    /// The live tree has no `/__symbols__` but the overlay needs it.
    NoSymbolsInLiveTree,
    /// A malformed `__fixups__`/`__local_fixups__` entry (-EINVAL).
    BadFixup(String),
    /// A fragment's target was not found (-EINVAL, "find target").
    TargetNotFound(String),
    /// Changing `#address-cells`/`#size-cells` of a live node (-EINVAL).
    CellsChanged { node: String, property: String },
    /// Overlay node and live node both carry a phandle (-EINVAL).
    PhandleClash(String),
    /// A `__symbols__` entry that already exists in the live tree (-EINVAL).
    DuplicateSymbol(String),
    /// `of_overlay_remove` of an overlay that is not the last applied
    /// ("overlay #%d is not topmost", -EBUSY).
    NotTopmost { id: OvcsId, topmost: OvcsId },
    /// No such overlay changeset (-ENODEV).
    NoSuchOverlay(OvcsId),
}

impl fmt::Display for OverlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnresolvedSymbol(l) => {
                write!(
                    f,
                    "node label '{l}' not found in live devicetree symbols table"
                )
            }
            Self::NoSymbolsInLiveTree => write!(f, "no symbols in live tree for overlay fixups"),
            Self::BadFixup(s) => write!(f, "bad overlay fixup: {s}"),
            Self::TargetNotFound(s) => write!(f, "find target: {s} not found"),
            Self::CellsChanged { node, property } => {
                write!(f, "changing value of {property} is not allowed in {node}")
            }
            Self::PhandleClash(p) => {
                write!(f, "overlay node and live node {p} both have a phandle")
            }
            Self::DuplicateSymbol(s) => write!(f, "symbol {s} already in live __symbols__"),
            Self::NotTopmost { id, topmost } => {
                write!(
                    f,
                    "overlay {id} is not topmost (topmost is {topmost}): -EBUSY"
                )
            }
            Self::NoSuchOverlay(id) => write!(f, "overlay {id} not found: -ENODEV"),
        }
    }
}

impl std::error::Error for OverlayError {}

/// Where an overlay node is copied to while building the changeset
/// (`struct target` in overlay.c).
#[derive(Copy, Clone)]
struct Target {
    node: NodeId,
    in_livetree: bool,
}

struct Fragment {
    overlay: NodeId,
    target: NodeId,
}

impl DeviceTree {
    /// `of_resolve_phandles()` on an overlay (unflattened) against `self`:
    /// renumber the overlay's phandles above the live maximum, fix local
    /// references through `__local_fixups__`, and resolve `__fixups__`
    /// through the live `__symbols__`.
    fn resolve_overlay(&self, ov: &mut DeviceTree) -> Result<(), OverlayError> {
        // resolver.c: phandle_delta = live_tree_max_phandle() + 1
        let delta = self.max_phandle().wrapping_add(1);
        for n in ov.all_nodes() {
            for name in ["phandle", "linux,phandle"] {
                if let Some(v) = ov.property(n, name).and_then(Property::as_u32) {
                    if Phandle(v).is_valid() {
                        ov.set_property(n, name, v.wrapping_add(delta).to_be_bytes().to_vec());
                    }
                }
            }
        }
        let root = ov.root();
        if let Some(lf) = ov.child_by_full_name(root, "__local_fixups__") {
            let mut todo = vec![(lf, root)];
            while let Some((l, o)) = todo.pop() {
                for p in ov.properties(l).to_vec() {
                    if p.name == "name" {
                        continue;
                    }
                    let offs = p
                        .as_u32_array()
                        .ok_or_else(|| OverlayError::BadFixup(format!("local fixup {}", p.name)))?;
                    let mut val = ov
                        .property(o, &p.name)
                        .ok_or_else(|| {
                            OverlayError::BadFixup(format!(
                                "{}: no property {}",
                                ov.full_name(o),
                                p.name
                            ))
                        })?
                        .value
                        .clone();
                    for off in offs {
                        let off = off as usize;
                        if off.checked_add(4).is_none_or(|e| e > val.len()) {
                            return Err(OverlayError::BadFixup(format!(
                                "offset {off} in {}",
                                p.name
                            )));
                        }
                        let v = be32(&val, off).wrapping_add(delta);
                        val[off..off + 4].copy_from_slice(&v.to_be_bytes());
                    }
                    ov.set_property(o, &p.name, val);
                }
                for &lc in ov.children(l) {
                    let name = ov.name(lc).to_string();
                    let oc = ov.child_by_full_name(o, &name).ok_or_else(|| {
                        OverlayError::BadFixup(format!("local fixup node {name}"))
                    })?;
                    todo.push((lc, oc));
                }
            }
        }
        if let Some(fx) = ov.child_by_full_name(root, "__fixups__") {
            let symbols = self.child_by_full_name(self.root(), "__symbols__");
            for p in ov.properties(fx).to_vec() {
                if p.name == "name" {
                    continue;
                }
                let sym = symbols.ok_or(OverlayError::NoSymbolsInLiveTree)?;
                let path = self
                    .read_string(sym, &p.name)
                    .ok_or_else(|| OverlayError::UnresolvedSymbol(p.name.clone()))?;
                let ph = self
                    .of_find_node_by_path(path)
                    .and_then(|n| self.phandle(n))
                    .ok_or_else(|| OverlayError::UnresolvedSymbol(p.name.clone()))?;
                for entry in p.as_str_list() {
                    let bad = || OverlayError::BadFixup(format!("{}: '{entry}'", p.name));
                    let (path, rest) = entry.split_once(':').ok_or_else(bad)?;
                    let (prop, off) = rest.split_once(':').ok_or_else(bad)?;
                    let off: usize = off.parse().map_err(|_| bad())?;
                    if path.is_empty() || prop.is_empty() {
                        return Err(bad());
                    }
                    let n = ov.of_find_node_by_path(path).ok_or_else(bad)?;
                    let mut val = ov.property(n, prop).ok_or_else(bad)?.value.clone();
                    if off.checked_add(4).is_none_or(|e| e > val.len()) {
                        return Err(bad());
                    }
                    val[off..off + 4].copy_from_slice(&ph.0.to_be_bytes());
                    ov.set_property(n, prop, val);
                }
            }
        }
        Ok(())
    }

    /// `find_target()`: `target` (a phandle) or `target-path`, the latter
    /// relative to `base` when given.
    fn find_target(
        &self,
        ov: &DeviceTree,
        info: NodeId,
        base: Option<NodeId>,
    ) -> Result<NodeId, OverlayError> {
        if let Some(ph) = ov.read_u32(info, "target") {
            return self
                .of_find_node_by_phandle(Phandle(ph))
                .ok_or_else(|| OverlayError::TargetNotFound(format!("phandle {ph:#x}")));
        }
        if let Some(path) = ov.read_string(info, "target-path") {
            let full = match base {
                Some(b) if path == "/" || path.is_empty() => self.full_name(b),
                Some(b) => {
                    let bp = self.full_name(b);
                    format!("{}{path}", if bp == "/" { "" } else { &bp })
                }
                None => path.to_string(),
            };
            return self
                .of_find_node_by_path(&full)
                .ok_or(OverlayError::TargetNotFound(full));
        }
        Err(OverlayError::TargetNotFound(format!(
            "{}: no target property",
            ov.full_name(info)
        )))
    }

    /// `of_overlay_fdt_apply()` for an overlay already in tree form (what a
    /// compiled .dtbo or a compiled .dtso contains: `fragment@N` nodes,
    /// `__fixups__`, `__local_fixups__`, `__symbols__`). With `base`,
    /// `target-path` is relative to that node.
    ///
    /// Returns the new changeset id and the notifications, in changeset
    /// order. On error the live tree is unchanged.
    pub fn of_overlay_apply(
        &mut self,
        overlay: &DeviceTree,
        base: Option<NodeId>,
    ) -> Result<(OvcsId, Vec<OfReconfig>), OverlayError> {
        let mut ov = overlay.clone();
        self.resolve_overlay(&mut ov)?;
        // init_overlay_changeset(): fragments are the root's children that
        // have an __overlay__ child; __symbols__ comes last. Targets are
        // looked up when each fragment is applied (as libfdt does), so a
        // fragment may target a node an earlier fragment created
        // (draak-ebisu-panel-aa104xd12.dtso targets its own &{/panel}).
        let frag_nodes: Vec<(NodeId, NodeId)> = ov
            .children(ov.root())
            .iter()
            .filter_map(|&f| ov.child_by_full_name(f, "__overlay__").map(|o| (f, o)))
            .collect();
        let ov_symbols = ov.child_by_full_name(ov.root(), "__symbols__");
        let live_symbols = self.child_by_full_name(self.root(), "__symbols__");
        if ov_symbols.is_some() && live_symbols.is_none() {
            return Err(OverlayError::NoSymbolsInLiveTree);
        }
        // libfdt runs this for every fragment whose target already exists,
        // before applying any.
        for &(f, o) in &frag_nodes {
            if let Ok(target) = self.find_target(&ov, f, base) {
                let fr = Fragment { overlay: o, target };
                self.prevent_phandle_overwrite(&mut ov, std::slice::from_ref(&fr));
            }
        }
        let mut entries = Vec::new();
        let mut fragments = Vec::new();
        let res = (|| {
            for &(f, o) in &frag_nodes {
                let target = self.find_target(&ov, f, base)?;
                let fr = Fragment { overlay: o, target };
                let t = Target {
                    node: target,
                    in_livetree: true,
                };
                self.build_changeset_next_level(&ov, t, o, &mut entries)?;
                fragments.push(fr);
            }
            if let (Some(os), Some(ls)) = (ov_symbols, live_symbols) {
                for p in ov.properties(os).to_vec() {
                    if p.name == "name" {
                        continue;
                    }
                    let Some(value) = self.fixup_symbol_path(&ov, &fragments, &p) else {
                        continue;
                    };
                    let prop = Property::new(p.name.clone(), value);
                    match self.property(ls, &p.name).cloned() {
                        // The overlay re-declares a base label on the same
                        // node (see prevent_phandle_overwrite): nothing to do.
                        Some(old) if old.value == prop.value => {}
                        // fdtoverlay overwrites; overlay.c would refuse.
                        Some(old) => {
                            self.set_property(ls, &p.name, prop.value.clone());
                            entries.push(ChangesetEntry::UpdateProperty {
                                node: ls,
                                property: prop,
                                old,
                            });
                        }
                        None => {
                            self.n_mut(ls).properties.push(prop.clone());
                            entries.push(ChangesetEntry::AddProperty {
                                node: ls,
                                property: prop,
                            });
                        }
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            for e in entries.iter().rev() {
                self.revert_entry(e);
            }
            return Err(e);
        }
        let id = OvcsId(self.next_ovcs_id);
        self.next_ovcs_id += 1;
        let notes = entries
            .iter()
            .map(|e| self.notification(e, false))
            .collect();
        self.overlays.push(Changeset { id, entries });
        Ok((id, notes))
    }

    /// An overlay node that lands on a live node where both carry a phandle
    /// (typically an overlay re-declaring a base label, as
    /// imx8mp-evk-lvds0-imx-lvds-hdmi.dtso does for `ldb_lvds_ch0`):
    /// overlay.c's `add_changeset_node()` returns -EINVAL here, libfdt
    /// (fdt_overlay.c `overlay_prevent_phandle_overwrite()`, dtc >= 1.7)
    /// keeps the live phandle and redirects the overlay's own references to
    /// it. We follow libfdt so the kernel tree's own overlays apply, and so
    /// the result equals `fdtoverlay`'s.
    fn prevent_phandle_overwrite(&self, ov: &mut DeviceTree, fragments: &[Fragment]) {
        let mut map: Vec<(u32, u32)> = Vec::new();
        let mut todo: Vec<(NodeId, NodeId)> =
            fragments.iter().map(|f| (f.overlay, f.target)).collect();
        while let Some((o, l)) = todo.pop() {
            if let (Some(op), Some(lp)) = (ov.phandle(o), self.phandle(l)) {
                map.push((op.0, lp.0));
                ov.remove_property(o, "phandle");
                ov.remove_property(o, "linux,phandle");
            }
            for &oc in ov.children(o) {
                if let Some(lc) = self.child_by_full_name(l, ov.name(oc)) {
                    todo.push((oc, lc));
                }
            }
        }
        if map.is_empty() {
            return;
        }
        let root = ov.root();
        let Some(lf) = ov.child_by_full_name(root, "__local_fixups__") else {
            return;
        };
        let mut todo = vec![(lf, root)];
        while let Some((l, o)) = todo.pop() {
            for p in ov.properties(l).to_vec() {
                let (Some(offs), Some(mut val)) = (
                    p.as_u32_array(),
                    ov.property(o, &p.name).map(|x| x.value.clone()),
                ) else {
                    continue;
                };
                for off in offs {
                    let off = off as usize;
                    if off + 4 > val.len() {
                        continue;
                    }
                    let v = be32(&val, off);
                    if let Some(&(_, to)) = map.iter().find(|(from, _)| *from == v) {
                        val[off..off + 4].copy_from_slice(&to.to_be_bytes());
                    }
                }
                ov.set_property(o, &p.name, val);
            }
            for &lc in ov.children(l) {
                if let Some(oc) = ov.child_by_full_name(o, ov.name(lc)) {
                    todo.push((lc, oc));
                }
            }
        }
    }

    /// `dup_and_fixup_symbol_prop()`: "/fragment@N/__overlay__/x" becomes
    /// the fragment target's path + "/x".
    fn fixup_symbol_path(
        &self,
        ov: &DeviceTree,
        fragments: &[Fragment],
        p: &Property,
    ) -> Option<Vec<u8>> {
        let path = p.as_str()?;
        for fr in fragments {
            let ovp = ov.full_name(fr.overlay);
            if let Some(tail) = path.strip_prefix(&ovp) {
                if !(tail.is_empty() || tail.starts_with('/')) {
                    continue;
                }
                let tp = self.full_name(fr.target);
                let mut s = if tp == "/" && !tail.is_empty() {
                    tail.to_string()
                } else {
                    format!("{tp}{tail}")
                };
                s.push('\0');
                return Some(s.into_bytes());
            }
        }
        None
    }

    fn build_changeset_next_level(
        &mut self,
        ov: &DeviceTree,
        target: Target,
        ov_node: NodeId,
        entries: &mut Vec<ChangesetEntry>,
    ) -> Result<(), OverlayError> {
        for p in ov.properties(ov_node) {
            self.add_changeset_property(target, p, entries)?;
        }
        for &c in ov.children(ov_node) {
            self.add_changeset_node(ov, target, c, entries)?;
        }
        Ok(())
    }

    fn add_changeset_property(
        &mut self,
        target: Target,
        p: &Property,
        entries: &mut Vec<ChangesetEntry>,
    ) -> Result<(), OverlayError> {
        if target.in_livetree && matches!(p.name.as_str(), "name" | "phandle" | "linux,phandle") {
            return Ok(());
        }
        let old = if target.in_livetree {
            self.property(target.node, &p.name).cloned()
        } else {
            None
        };
        match old {
            Some(old) => {
                if (old.name == "#address-cells" || old.name == "#size-cells")
                    && old.value != p.value
                {
                    return Err(OverlayError::CellsChanged {
                        node: self.full_name(target.node),
                        property: old.name,
                    });
                }
                if old.name == "#address-cells" || old.name == "#size-cells" {
                    return Ok(());
                }
                self.set_property(target.node, &p.name, p.value.clone());
                entries.push(ChangesetEntry::UpdateProperty {
                    node: target.node,
                    property: p.clone(),
                    old,
                });
            }
            None => {
                self.n_mut(target.node).properties.push(p.clone());
                entries.push(ChangesetEntry::AddProperty {
                    node: target.node,
                    property: p.clone(),
                });
            }
        }
        Ok(())
    }

    fn add_changeset_node(
        &mut self,
        ov: &DeviceTree,
        target: Target,
        ov_node: NodeId,
        entries: &mut Vec<ChangesetEntry>,
    ) -> Result<(), OverlayError> {
        let name = ov.name(ov_node);
        match self.child_by_full_name(target.node, name) {
            None => {
                // __of_attach_node() links the new node at the head of the
                // parent's child list.
                let id = self.new_node(target.node, name.to_string());
                self.n_mut(target.node).children.insert(0, id);
                for l in ov.labels(ov_node) {
                    self.add_label(id, l.clone());
                }
                entries.push(ChangesetEntry::AttachNode { node: id, index: 0 });
                let t = Target {
                    node: id,
                    in_livetree: false,
                };
                self.build_changeset_next_level(ov, t, ov_node, entries)
            }
            Some(tchild) => {
                if ov.phandle(ov_node).is_some() && self.phandle(tchild).is_some() {
                    return Err(OverlayError::PhandleClash(self.full_name(tchild)));
                }
                let t = Target {
                    node: tchild,
                    in_livetree: target.in_livetree,
                };
                self.build_changeset_next_level(ov, t, ov_node, entries)
            }
        }
    }

    fn revert_entry(&mut self, e: &ChangesetEntry) {
        match e {
            ChangesetEntry::AttachNode { node, index } => {
                if let Some(p) = self.parent(*node) {
                    let ch = &mut self.n_mut(p).children;
                    if ch.get(*index) == Some(node) {
                        ch.remove(*index);
                    } else {
                        ch.retain(|c| c != node);
                    }
                }
                self.n_mut(*node).attached = false;
            }
            ChangesetEntry::AddProperty { node, property } => {
                self.remove_property(*node, &property.name);
            }
            ChangesetEntry::UpdateProperty { node, old, .. } => {
                self.set_property(*node, &old.name, old.value.clone());
            }
        }
    }

    fn notification(&self, e: &ChangesetEntry, reverted: bool) -> OfReconfig {
        let (action, node, property, old_property) = match e {
            ChangesetEntry::AttachNode { node, .. } => {
                (OfReconfigAction::AttachNode, *node, None, None)
            }
            ChangesetEntry::AddProperty { node, property } => (
                OfReconfigAction::AddProperty,
                *node,
                Some(property.clone()),
                None,
            ),
            ChangesetEntry::UpdateProperty {
                node,
                property,
                old,
            } => {
                if reverted {
                    (
                        OfReconfigAction::UpdateProperty,
                        *node,
                        Some(old.clone()),
                        Some(property.clone()),
                    )
                } else {
                    (
                        OfReconfigAction::UpdateProperty,
                        *node,
                        Some(property.clone()),
                        Some(old.clone()),
                    )
                }
            }
        };
        let action = if reverted { action.inverse() } else { action };
        OfReconfig {
            action,
            node,
            path: self.full_name(node),
            property,
            old_property,
            available: self.of_device_is_available(node),
        }
    }

    /// `of_overlay_remove()`: revert the changeset `id`, which must be the
    /// last applied one. Returns the notifications in reverse entry order
    /// with inverted actions (detach for attach, remove for add, update
    /// back to the old value).
    pub fn of_overlay_remove(&mut self, id: OvcsId) -> Result<Vec<OfReconfig>, OverlayError> {
        let top = self.overlays.last().map(|c| c.id);
        match top {
            None => return Err(OverlayError::NoSuchOverlay(id)),
            Some(t) if t != id => {
                if self.overlays.iter().any(|c| c.id == id) {
                    return Err(OverlayError::NotTopmost { id, topmost: t });
                }
                return Err(OverlayError::NoSuchOverlay(id));
            }
            _ => {}
        }
        let cs = self.overlays.pop().expect("checked above");
        // Paths are taken before detaching so a detached node still reports
        // where it was.
        let paths: Vec<String> = cs
            .entries
            .iter()
            .map(|e| match e {
                ChangesetEntry::AttachNode { node, .. }
                | ChangesetEntry::AddProperty { node, .. }
                | ChangesetEntry::UpdateProperty { node, .. } => self.full_name(*node),
            })
            .collect();
        for e in cs.entries.iter().rev() {
            self.revert_entry(e);
        }
        Ok(cs
            .entries
            .iter()
            .zip(paths)
            .rev()
            .map(|(e, path)| {
                let mut n = self.notification(e, true);
                n.path = path;
                n
            })
            .collect())
    }

    /// The changeset of an applied overlay.
    pub fn overlay_changeset(&self, id: OvcsId) -> Option<&Changeset> {
        self.overlays.iter().find(|c| c.id == id)
    }
}
