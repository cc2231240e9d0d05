//! dtc's live tree (livetree.c): nodes and properties that keep their
//! deleted entries (so a reinstated property keeps its position), labels,
//! value markers for labels and references, and `merge_nodes()`.
//!
//! dtc finds a node by label or a child by name with a linear walk; here two
//! indexes keep those lookups constant-time so a tree with hundreds of
//! thousands of siblings parses in linear time, with dtc's answers: the label
//! index lists every node that ever got a label and falls back to dtc's
//! pre-order walk when more than one live node carries it; the child index
//! (kept for nodes with many children) lists same-named children in order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::source::Pos;

/// rustc's FxHash: the indexes hash hundreds of thousands of short names,
/// where SipHash dominated the profile (twenty lines, so no crate).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap()));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_u32(&mut self, v: u32) {
        self.add(v as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A `HashSet` with [`FxHasher`].
pub type FxSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

/// The index key of a name.
fn name_key(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// Nodes under one name key, in order (one without allocating).
#[derive(Clone, Debug)]
enum Ids {
    One(NId),
    Many(Vec<NId>),
}

impl Ids {
    fn push(&mut self, id: NId) {
        match self {
            Ids::One(a) => *self = Ids::Many(vec![*a, id]),
            Ids::Many(v) => v.push(id),
        }
    }
    fn as_slice(&self) -> &[NId] {
        match self {
            Ids::One(a) => std::slice::from_ref(a),
            Ids::Many(v) => v,
        }
    }
}

/// Name key -> nodes (the caller compares the names: keys can collide).
type NameIndex = FxMap<u64, Ids>;

fn index_push(idx: &mut NameIndex, name: &str, id: NId) {
    match idx.entry(name_key(name)) {
        std::collections::hash_map::Entry::Occupied(mut e) => {
            if !e.get().as_slice().contains(&id) {
                e.get_mut().push(id);
            }
        }
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(Ids::One(id));
        }
    }
}

/// Nodes with at least this many children get a name index.
const CHILD_INDEX_MIN: usize = 16;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct NId(pub u32);

#[derive(Clone, Debug)]
pub struct Label {
    pub name: String,
    pub pos: Pos,
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Label(String),
    /// `<&ref>`: a phandle cell to fill in.
    RefPhandle(String),
    /// `&ref` as a value: the path string to insert.
    RefPath(String),
}

#[derive(Clone, Debug)]
pub struct Marker {
    pub offset: usize,
    pub kind: MarkerKind,
    pub pos: Pos,
}

/// dtc's `struct data`.
#[derive(Clone, Debug, Default)]
pub struct Data {
    pub bytes: Vec<u8>,
    pub markers: Vec<Marker>,
}

impl Data {
    /// `data_insert_at_marker()`: insert bytes at a marker's offset and
    /// shift every later marker.
    pub fn insert_at_marker(&mut self, mi: usize, bytes: &[u8]) {
        let off = self.markers[mi].offset;
        self.bytes.splice(off..off, bytes.iter().copied());
        for m in self.markers.iter_mut().skip(mi + 1) {
            m.offset += bytes.len();
        }
    }
}

#[derive(Clone, Debug)]
pub struct Prop {
    pub name: String,
    pub labels: Vec<Label>,
    pub val: Data,
    pub deleted: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub labels: Vec<Label>,
    pub props: Vec<Prop>,
    pub children: Vec<NId>,
    pub parent: Option<NId>,
    pub deleted: bool,
    pub omit_if_no_ref: bool,
    pub is_referenced: bool,
    pub phandle: u32,
    pub pos: Pos,
}

/// `add_label()`: un-delete an existing label or prepend a new one.
pub fn add_label(labels: &mut Vec<Label>, name: &str, pos: Pos) {
    if let Some(l) = labels.iter_mut().find(|l| l.name == name) {
        l.deleted = false;
        return;
    }
    labels.insert(
        0,
        Label {
            name: name.to_string(),
            pos,
            deleted: false,
        },
    );
}

#[derive(Default)]
pub struct DtTree {
    nodes: Vec<Node>,
    /// Label -> every node [`DtTree::add_node_label`] gave it, in order.
    label_nodes: NameIndex,
    /// Node -> child name -> its children of that name (deleted or not), in
    /// order; only for nodes with [`CHILD_INDEX_MIN`] children or more.
    child_idx: FxMap<NId, NameIndex>,
}

impl DtTree {
    /// An empty tree with room for `nodes` nodes.
    pub fn with_capacity(nodes: usize) -> Self {
        DtTree {
            nodes: Vec::with_capacity(nodes),
            ..Default::default()
        }
    }

    pub fn new_node(&mut self, name: String, pos: Pos) -> NId {
        self.nodes.push(Node {
            name,
            labels: Vec::new(),
            props: Vec::new(),
            children: Vec::new(),
            parent: None,
            deleted: false,
            omit_if_no_ref: false,
            is_referenced: false,
            phandle: 0,
            pos,
        });
        NId(self.nodes.len() as u32 - 1)
    }

    pub fn n(&self, id: NId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    pub fn n_mut(&mut self, id: NId) -> &mut Node {
        &mut self.nodes[id.0 as usize]
    }

    /// `add_child()`: append.
    pub fn add_child(&mut self, parent: NId, child: NId) {
        self.n_mut(child).parent = Some(parent);
        self.n_mut(parent).children.push(child);
        let name = &self.nodes[child.0 as usize].name;
        if let Some(idx) = self.child_idx.get_mut(&parent) {
            index_push(idx, name, child);
        } else if self.n(parent).children.len() >= CHILD_INDEX_MIN {
            let mut idx = NameIndex::default();
            for &c in &self.n(parent).children {
                index_push(&mut idx, &self.n(c).name, c);
            }
            self.child_idx.insert(parent, idx);
        }
    }

    /// Takes a node's children away (for merging it into another node).
    fn take_children(&mut self, id: NId) -> Vec<NId> {
        self.child_idx.remove(&id);
        std::mem::take(&mut self.n_mut(id).children)
    }

    /// The first child named `name`, skipping deleted ones unless
    /// `with_deleted`.
    pub fn child_named(&self, id: NId, name: &str, with_deleted: bool) -> Option<NId> {
        let ok = |c: &NId| with_deleted || !self.n(*c).deleted;
        match self.child_idx.get(&id) {
            Some(idx) => idx
                .get(&name_key(name))?
                .as_slice()
                .iter()
                .copied()
                .filter(ok)
                .find(|&c| self.n(c).name == name),
            None => self
                .n(id)
                .children
                .iter()
                .copied()
                .filter(ok)
                .find(|&c| self.n(c).name == name),
        }
    }

    /// `add_label()` on a node's labels, recorded in the label index.
    pub fn add_node_label(&mut self, id: NId, name: &str, pos: Pos) {
        add_label(&mut self.n_mut(id).labels, name, pos);
        index_push(&mut self.label_nodes, name, id);
    }

    /// Whether `walk(root)` reaches `id`: its parent chain leads to `root`
    /// through nodes that are not deleted.
    pub fn reaches(&self, root: NId, id: NId) -> bool {
        let mut c = id;
        loop {
            if c == root {
                return true;
            }
            let n = self.n(c);
            if n.deleted {
                return false;
            }
            match n.parent {
                Some(p) => c = p,
                None => return false,
            }
        }
    }

    /// Non-deleted children (`for_each_child`).
    pub fn children(&self, id: NId) -> Vec<NId> {
        self.n(id)
            .children
            .iter()
            .copied()
            .filter(|&c| !self.n(c).deleted)
            .collect()
    }

    /// Pre-order list of non-deleted nodes under `id`.
    pub fn walk(&self, id: NId) -> Vec<NId> {
        let mut out = Vec::new();
        let mut st = vec![id];
        while let Some(n) = st.pop() {
            out.push(n);
            for &c in self.n(n).children.iter().rev() {
                if !self.n(c).deleted {
                    st.push(c);
                }
            }
        }
        out
    }

    /// `delete_node()`.
    pub fn delete_node(&mut self, id: NId) {
        self.n_mut(id).deleted = true;
        for c in self.children(id) {
            self.delete_node(c);
        }
        let n = self.n_mut(id);
        for p in n.props.iter_mut().filter(|p| !p.deleted) {
            p.deleted = true;
            p.labels.iter_mut().for_each(|l| l.deleted = true);
        }
        n.labels.iter_mut().for_each(|l| l.deleted = true);
    }

    /// `delete_property_by_name()`.
    pub fn delete_property_by_name(&mut self, id: NId, name: &str) {
        for p in self.n_mut(id).props.iter_mut() {
            if p.name == name && !p.deleted {
                p.deleted = true;
                p.labels.iter_mut().for_each(|l| l.deleted = true);
            }
        }
    }

    /// `delete_node_by_name()`.
    pub fn delete_node_by_name(&mut self, id: NId, name: &str) {
        if let Some(c) = self.child_named(id, name, false) {
            self.delete_node(c);
        }
    }

    /// `merge_nodes()` from livetree.c: move `new`'s labels, properties and
    /// children into `old`, replacing colliding properties in place and
    /// merging colliding children.
    pub fn merge_nodes(&mut self, old: NId, new: NId) {
        self.n_mut(old).deleted = false;
        let new_labels = std::mem::take(&mut self.n_mut(new).labels);
        for l in &new_labels {
            self.add_node_label(old, &l.name, l.pos);
        }
        if self.n(new).omit_if_no_ref {
            self.n_mut(old).omit_if_no_ref = true;
        }
        let props = std::mem::take(&mut self.n_mut(new).props);
        for np in props {
            if np.deleted {
                self.delete_property_by_name(old, &np.name);
                continue;
            }
            let o = self.n_mut(old);
            if let Some(op) = o.props.iter_mut().find(|p| p.name == np.name) {
                for l in &np.labels {
                    add_label(&mut op.labels, &l.name, l.pos);
                }
                op.val = np.val;
                op.deleted = false;
            } else {
                o.props.push(np);
            }
        }
        let children = self.take_children(new);
        for nc in children {
            if self.n(nc).deleted {
                let name = self.n(nc).name.clone();
                self.delete_node_by_name(old, &name);
                continue;
            }
            match self.child_named(old, &self.n(nc).name, true) {
                Some(oc) => self.merge_nodes(oc, nc),
                None => self.add_child(old, nc),
            }
        }
    }

    /// `get_node_by_label()`: the first node in pre-order under `root`
    /// with the label not deleted.
    pub fn get_node_by_label(&self, root: NId, label: &str) -> Option<NId> {
        let has = |n: NId| {
            self.n(n)
                .labels
                .iter()
                .any(|l| !l.deleted && l.name == label)
        };
        let mut live = self
            .label_nodes
            .get(&name_key(label))?
            .as_slice()
            .iter()
            .copied()
            .filter(|&n| has(n) && self.reaches(root, n));
        let first = live.next()?;
        if live.next().is_none() {
            return Some(first);
        }
        // Several live nodes carry it (an error dtc reports later, or a
        // lookup before the duplicate was deleted): dtc's walk decides.
        self.walk(root).into_iter().find(|&n| has(n))
    }

    /// `get_node_by_path()`: exact component names.
    pub fn get_node_by_path(&self, from: NId, path: &str) -> Option<NId> {
        let mut cur = from;
        if self.n(cur).deleted {
            return None;
        }
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            cur = self.child_named(cur, comp, false)?;
        }
        Some(cur)
    }

    /// `get_node_by_ref()`: "/path", "label" or "label/sub/path".
    pub fn get_node_by_ref(&self, root: NId, r: &str) -> Option<NId> {
        if r == "/" {
            return Some(root);
        }
        if r.starts_with('/') {
            return self.get_node_by_path(root, r);
        }
        let (label, path) = match r.split_once('/') {
            Some((l, p)) => (l, Some(p)),
            None => (r, None),
        };
        let t = self.get_node_by_label(root, label)?;
        match path {
            Some(p) => self.get_node_by_path(t, p),
            None => Some(t),
        }
    }

    pub fn get_node_by_phandle(&self, root: NId, ph: u32) -> Option<NId> {
        if ph == 0 || ph == u32::MAX {
            return None;
        }
        self.walk(root)
            .into_iter()
            .find(|&n| self.n(n).phandle == ph)
    }

    pub fn fullpath(&self, id: NId) -> String {
        let mut parts = Vec::new();
        let mut c = Some(id);
        while let Some(n) = c {
            if self.n(n).parent.is_some() {
                parts.push(self.n(n).name.as_str());
            }
            c = self.n(n).parent;
        }
        if parts.is_empty() {
            return "/".into();
        }
        parts.reverse();
        let mut s = String::new();
        for p in parts {
            s.push('/');
            s.push_str(p);
        }
        s
    }

    /// Non-deleted property by name.
    pub fn prop_index(&self, id: NId, name: &str) -> Option<usize> {
        self.n(id)
            .props
            .iter()
            .position(|p| !p.deleted && p.name == name)
    }
}
