//! What dtc does after parsing: the ERROR-level checks of checks.c that
//! decide accept/reject, phandle allocation (`get_node_phandle()`),
//! reference fixups, `/omit-if-no-ref/`, and the `-@` trees (`__symbols__`,
//! `__fixups__`, `__local_fixups__`) of livetree.c, in dtc's order.

use std::collections::HashMap;

use kmodel::of::DeviceTree;

use crate::parser::DtInfo;
use crate::source::{DtsError, ErrorKind, Pos, SourceMap};
use crate::tree::{Data, DtTree, FxMap, FxSet, Marker, MarkerKind, NId, Prop};

type Res<T> = Result<T, DtsError>;

struct Ctx<'a> {
    sm: &'a SourceMap,
    t: DtTree,
    root: NId,
    plugin: bool,
    /// dtc's static counter in `get_node_phandle()`.
    next_phandle: u32,
    /// `-@`.
    symbols: bool,
    /// Phandle -> the node that holds it (dtc's `get_node_by_phandle()`
    /// walks the tree; a holder deleted since no longer counts).
    phandles: FxMap<u32, NId>,
    /// Node -> property name -> index, for the nodes generation appends to
    /// (`__fixups__`, `__local_fixups__`), built on first use.
    prop_idx: HashMap<NId, HashMap<String, usize>>,
}

/// For each name, the index of the next entry with the same name: dtc's
/// duplicate checks compare every entry with each later one and report the
/// later one.
fn next_same<'a>(names: impl DoubleEndedIterator<Item = &'a str>) -> Vec<Option<usize>> {
    let names: Vec<&str> = names.collect();
    let mut seen: FxMap<&str, usize> = FxMap::default();
    let mut next = vec![None; names.len()];
    for (i, n) in names.iter().enumerate().rev() {
        next[i] = seen.insert(n, i);
    }
    next
}

fn is_prop_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b",._+*#?-".contains(&c)
}

/// Runs checks and generation; returns the final tree.
pub fn resolve(sm: &SourceMap, info: DtInfo, symbols: bool) -> Res<DeviceTree> {
    let mut c = Ctx {
        sm,
        t: info.tree,
        root: info.root,
        plugin: info.plugin,
        next_phandle: 1,
        symbols,
        phandles: FxMap::default(),
        prop_idx: HashMap::new(),
    };
    c.structure_checks()?;
    c.name_properties()?;
    c.duplicate_labels()?;
    c.explicit_phandles()?;
    c.phandle_references()?;
    c.path_references()?;
    c.omit_unused_nodes();
    if c.symbols {
        c.generate_symbols();
    }
    if c.plugin {
        c.generate_fixups()?;
        c.generate_local_fixups();
    }
    Ok(c.into_device_tree(&info.memreserve))
}

impl Ctx<'_> {
    fn fail(&self, pos: Pos, check: &'static str, msg: String) -> DtsError {
        self.sm.error(
            pos,
            1,
            ErrorKind::Check(check),
            format!("ERROR ({check}): {msg}"),
        )
    }

    /// duplicate_node_names, duplicate_property_names, node_name_format,
    /// property_name_chars (all ERROR in checks.c).
    fn structure_checks(&self) -> Res<()> {
        for n in self.t.walk(self.root) {
            let path = || self.t.fullpath(n);
            let kids = self.t.children(n);
            let next = next_same(kids.iter().map(|&k| self.t.n(k).name.as_str()));
            if let Some(&b) = next.iter().flatten().next().map(|&j| &kids[j]) {
                return Err(self.fail(
                    self.t.n(b).pos,
                    "duplicate_node_names",
                    format!("{}: Duplicate node name {}", path(), self.t.n(b).name),
                ));
            }
            let props: Vec<&Prop> = self.t.n(n).props.iter().filter(|p| !p.deleted).collect();
            let next = next_same(props.iter().map(|p| p.name.as_str()));
            for (a, later) in props.iter().zip(next) {
                if let Some(j) = later {
                    let b = props[j];
                    return Err(self.fail(
                        b.pos,
                        "duplicate_property_names",
                        format!("{}: Duplicate property name {}", path(), b.name),
                    ));
                }
                if !a.name.bytes().all(is_prop_char) {
                    return Err(self.fail(
                        a.pos,
                        "property_name_chars",
                        format!("{}: Bad character in property name \"{}\"", path(), a.name),
                    ));
                }
            }
            if self.t.n(n).name.matches('@').count() > 1 {
                return Err(self.fail(
                    self.t.n(n).pos,
                    "node_name_format",
                    format!("{}: multiple '@' characters in node name", path()),
                ));
            }
        }
        Ok(())
    }

    /// name_is_string + name_properties: a correct `name` property is
    /// redundant and removed; a wrong one is an error.
    fn name_properties(&mut self) -> Res<()> {
        for n in self.t.walk(self.root) {
            let Some(i) = self.t.prop_index(n, "name") else {
                continue;
            };
            let node = self.t.n(n);
            let base = node.name.split('@').next().unwrap_or("");
            let v = &node.props[i].val.bytes;
            let mut want = base.as_bytes().to_vec();
            want.push(0);
            if *v == want {
                self.t.n_mut(n).props.remove(i);
            } else {
                return Err(self.fail(
                    node.props[i].pos,
                    "name_properties",
                    format!(
                        "{}: \"name\" property is incorrect (\"{}\" instead of base node name)",
                        self.t.fullpath(n),
                        String::from_utf8_lossy(v.split(|&b| b == 0).next().unwrap_or(b""))
                    ),
                ));
            }
        }
        Ok(())
    }

    /// duplicate_label: a label must name one node, property or value spot.
    fn duplicate_labels(&self) -> Res<()> {
        #[derive(PartialEq, Clone, Copy)]
        enum Owner {
            Node(NId),
            Prop(NId, usize),
            Mark(NId, usize, usize),
        }
        let walk = self.t.walk(self.root);
        // First owner in dtc's lookup order: nodes, then properties, then
        // value labels.
        let mut first: FxMap<&str, Owner> = FxMap::default();
        let mut all: Vec<(&str, Owner, Pos)> = Vec::new();
        for &n in &walk {
            for l in self.t.n(n).labels.iter().filter(|l| !l.deleted) {
                first.entry(&l.name).or_insert(Owner::Node(n));
                all.push((&l.name, Owner::Node(n), l.pos));
            }
        }
        for &n in &walk {
            for (pi, p) in self
                .t
                .n(n)
                .props
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.deleted)
            {
                for l in p.labels.iter().filter(|l| !l.deleted) {
                    first.entry(&l.name).or_insert(Owner::Prop(n, pi));
                    all.push((&l.name, Owner::Prop(n, pi), l.pos));
                }
            }
        }
        for &n in &walk {
            for (pi, p) in self
                .t
                .n(n)
                .props
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.deleted)
            {
                for (mi, m) in p.val.markers.iter().enumerate() {
                    if let MarkerKind::Label(l) = &m.kind {
                        first.entry(l).or_insert(Owner::Mark(n, pi, mi));
                        all.push((l, Owner::Mark(n, pi, mi), m.pos));
                    }
                }
            }
        }
        let owner_path = |o: Owner| match o {
            Owner::Node(n) => self.t.fullpath(n),
            Owner::Prop(n, p) | Owner::Mark(n, p, _) => {
                format!("{}:{}", self.t.fullpath(n), self.t.n(n).props[p].name)
            }
        };
        for (l, o, pos) in all {
            let f = first[l];
            if f != o {
                return Err(self.sm.error(
                    pos,
                    l.len() + 1,
                    ErrorKind::DuplicateLabel,
                    format!(
                        "ERROR (duplicate_label): Duplicate label '{l}' on {} and {}; expected each label to be defined once",
                        owner_path(o),
                        owner_path(f)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_phandle_prop(&self, n: NId, name: &str) -> Res<u32> {
        let Some(i) = self.t.prop_index(n, name) else {
            return Ok(0);
        };
        let p = &self.t.n(n).props[i];
        if p.val.bytes.len() != 4 {
            return Err(self.fail(
                p.pos,
                "explicit_phandles",
                format!(
                    "{}: bad length ({}) {name} property",
                    self.t.fullpath(n),
                    p.val.bytes.len()
                ),
            ));
        }
        for m in &p.val.markers {
            if let MarkerKind::RefPhandle(r) = &m.kind {
                if self.t.get_node_by_ref(self.root, r) != Some(n) {
                    return Err(self.fail(
                        p.pos,
                        "explicit_phandles",
                        format!(
                            "{}: {name} is a reference to another node",
                            self.t.fullpath(n)
                        ),
                    ));
                }
                return Ok(0);
            }
        }
        let v = u32::from_be_bytes(p.val.bytes[..4].try_into().unwrap());
        if v == 0 || v == u32::MAX {
            return Err(self.fail(
                p.pos,
                "explicit_phandles",
                format!(
                    "{}: bad value (0x{v:x}) in {name} property",
                    self.t.fullpath(n)
                ),
            ));
        }
        Ok(v)
    }

    /// explicit_phandles.
    fn explicit_phandles(&mut self) -> Res<()> {
        for n in self.t.walk(self.root) {
            let ph = self.check_phandle_prop(n, "phandle")?;
            let lph = self.check_phandle_prop(n, "linux,phandle")?;
            if ph == 0 && lph == 0 {
                continue;
            }
            if ph != 0 && lph != 0 && ph != lph {
                return Err(self.fail(
                    self.t.n(n).pos,
                    "explicit_phandles",
                    format!(
                        "{}: mismatching 'linux,phandle' and 'phandle' properties",
                        self.t.fullpath(n)
                    ),
                ));
            }
            let ph = if ph == 0 { lph } else { ph };
            if let Some(o) = self.node_by_phandle(ph) {
                if o != n {
                    return Err(self.fail(
                        self.t.n(n).pos,
                        "explicit_phandles",
                        format!(
                            "{}: duplicated phandle 0x{ph:x} (seen before at {})",
                            self.t.fullpath(n),
                            self.t.fullpath(o)
                        ),
                    ));
                }
            }
            self.t.n_mut(n).phandle = ph;
            self.phandles.entry(ph).or_insert(n);
        }
        Ok(())
    }

    /// `get_node_by_phandle()` through the index.
    fn node_by_phandle(&self, ph: u32) -> Option<NId> {
        if ph == 0 || ph == u32::MAX {
            return None;
        }
        let &n = self.phandles.get(&ph)?;
        (self.t.reaches(self.root, n) && !self.t.n(n).deleted).then_some(n)
    }

    /// `get_node_phandle()`: allocate the next free phandle and add a
    /// `phandle` property (dtc's default -H epapr).
    fn get_node_phandle(&mut self, n: NId) -> u32 {
        let cur = self.t.n(n).phandle;
        if cur != 0 && cur != u32::MAX {
            return cur;
        }
        while self.node_by_phandle(self.next_phandle).is_some() {
            self.next_phandle += 1;
        }
        let ph = self.next_phandle;
        self.t.n_mut(n).phandle = ph;
        self.phandles.insert(ph, n);
        if self.t.prop_index(n, "phandle").is_none() {
            let pos = self.t.n(n).pos;
            self.t.n_mut(n).props.push(Prop {
                name: "phandle".into(),
                labels: Vec::new(),
                val: Data {
                    bytes: ph.to_be_bytes().to_vec(),
                    markers: Vec::new(),
                },
                deleted: false,
                pos,
            });
        }
        ph
    }

    fn undefined_ref(&self, m: &Marker, path: &str) -> DtsError {
        let r = match &m.kind {
            MarkerKind::RefPhandle(r) | MarkerKind::RefPath(r) | MarkerKind::Label(r) => r,
        };
        self.sm.error(
            m.pos,
            r.len() + 1,
            ErrorKind::UndefinedLabel,
            format!("Reference to non-existent node or label \"{r}\" (in {path}); expected a label defined somewhere in the tree"),
        )
    }

    /// phandle_references (fixup_phandle_references).
    fn phandle_references(&mut self) -> Res<()> {
        for n in self.t.walk(self.root) {
            for pi in 0..self.t.n(n).props.len() {
                if self.t.n(n).props[pi].deleted {
                    continue;
                }
                for mi in 0..self.t.n(n).props[pi].val.markers.len() {
                    let m = self.t.n(n).props[pi].val.markers[mi].clone();
                    let MarkerKind::RefPhandle(r) = &m.kind else {
                        continue;
                    };
                    let val = match self.t.get_node_by_ref(self.root, r) {
                        Some(target) => {
                            let ph = self.get_node_phandle(target);
                            self.t.n_mut(target).is_referenced = true;
                            ph
                        }
                        None if self.plugin => u32::MAX,
                        None => return Err(self.undefined_ref(&m, &self.t.fullpath(n))),
                    };
                    let b = &mut self.t.n_mut(n).props[pi].val.bytes;
                    b[m.offset..m.offset + 4].copy_from_slice(&val.to_be_bytes());
                }
            }
        }
        Ok(())
    }

    /// path_references (fixup_path_references).
    fn path_references(&mut self) -> Res<()> {
        for n in self.t.walk(self.root) {
            for pi in 0..self.t.n(n).props.len() {
                if self.t.n(n).props[pi].deleted {
                    continue;
                }
                for mi in 0..self.t.n(n).props[pi].val.markers.len() {
                    let m = self.t.n(n).props[pi].val.markers[mi].clone();
                    let MarkerKind::RefPath(r) = &m.kind else {
                        continue;
                    };
                    let Some(target) = self.t.get_node_by_ref(self.root, r) else {
                        return Err(self.undefined_ref(&m, &self.t.fullpath(n)));
                    };
                    let mut path = self.t.fullpath(target).into_bytes();
                    path.push(0);
                    self.t.n_mut(target).is_referenced = true;
                    self.t.n_mut(n).props[pi].val.insert_at_marker(mi, &path);
                }
            }
        }
        Ok(())
    }

    /// omit_unused_nodes (`fixup_omit_unused_nodes()`): with `-@` (always
    /// on here) a labelled node is kept, since `__symbols__` refers to it.
    fn omit_unused_nodes(&mut self) {
        for n in self.t.walk(self.root) {
            let node = self.t.n(n);
            if self.symbols && !node.labels.is_empty() {
                continue;
            }
            if node.deleted || !node.omit_if_no_ref || node.is_referenced {
                continue;
            }
            self.t.delete_node(n);
        }
    }

    /// `build_root_node()`: get or append a child of the root.
    fn root_child(&mut self, name: &str) -> NId {
        if let Some(c) = self.t.child_named(self.root, name, false) {
            return c;
        }
        let pos = self.t.n(self.root).pos;
        let c = self.t.new_node(name.to_string(), pos);
        self.t.add_child(self.root, c);
        c
    }

    /// `generate_label_tree(dti, "__symbols__", true)`.
    fn generate_symbols(&mut self) {
        let any = self
            .t
            .walk(self.root)
            .into_iter()
            .any(|n| !self.t.n(n).labels.is_empty());
        if !any {
            return;
        }
        let an = self.root_child("__symbols__");
        let mut have: FxSet<String> = self
            .t
            .n(an)
            .props
            .iter()
            .filter(|p| !p.deleted)
            .map(|p| p.name.clone())
            .collect();
        for n in self.t.walk(self.root) {
            // dtc tests the list head, so a node whose labels were all
            // deleted still gets a phandle.
            if self.t.n(n).labels.is_empty() {
                continue;
            }
            let labels: Vec<String> = self
                .t
                .n(n)
                .labels
                .iter()
                .filter(|l| !l.deleted)
                .map(|l| l.name.clone())
                .collect();
            for l in labels {
                if !have.insert(l.clone()) {
                    continue;
                }
                let mut v = self.t.fullpath(n).into_bytes();
                v.push(0);
                let pos = self.t.n(n).pos;
                self.t.n_mut(an).props.push(Prop {
                    name: l,
                    labels: Vec::new(),
                    val: Data {
                        bytes: v,
                        markers: Vec::new(),
                    },
                    deleted: false,
                    pos,
                });
            }
            self.get_node_phandle(n);
        }
    }

    fn append_to_property(&mut self, n: NId, name: &str, data: &[u8]) {
        let t = &self.t;
        let idx = self.prop_idx.entry(n).or_insert_with(|| {
            let mut m = HashMap::new();
            for (i, p) in t.n(n).props.iter().enumerate().filter(|(_, p)| !p.deleted) {
                m.entry(p.name.clone()).or_insert(i);
            }
            m
        });
        if let Some(&i) = idx.get(name) {
            self.t.n_mut(n).props[i].val.bytes.extend_from_slice(data);
        } else {
            idx.insert(name.to_string(), self.t.n(n).props.len());
            let pos = self.t.n(n).pos;
            self.t.n_mut(n).props.push(Prop {
                name: name.to_string(),
                labels: Vec::new(),
                val: Data {
                    bytes: data.to_vec(),
                    markers: Vec::new(),
                },
                deleted: false,
                pos,
            });
        }
    }

    fn phandle_markers(&self) -> Vec<(NId, usize, Marker, bool)> {
        let mut out = Vec::new();
        for n in self.t.walk(self.root) {
            for (pi, p) in self
                .t
                .n(n)
                .props
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.deleted)
            {
                for m in &p.val.markers {
                    if let MarkerKind::RefPhandle(r) = &m.kind {
                        let found = self.t.get_node_by_ref(self.root, r).is_some();
                        out.push((n, pi, m.clone(), found));
                    }
                }
            }
        }
        out
    }

    /// `generate_fixups_tree()`.
    fn generate_fixups(&mut self) -> Res<()> {
        let ms = self.phandle_markers();
        if !ms.iter().any(|m| !m.3) {
            return Ok(());
        }
        let fn_ = self.root_child("__fixups__");
        for (n, pi, m, found) in ms {
            if found {
                continue;
            }
            let MarkerKind::RefPhandle(r) = &m.kind else {
                continue;
            };
            if r.contains('/') {
                return Err(self.sm.error(
                    m.pos,
                    r.len() + 3,
                    ErrorKind::Fatal,
                    format!("Can't generate fixup for reference to path &{{{r}}}; expected a label (only labels can be resolved when the overlay is applied)"),
                ));
            }
            let path = self.t.fullpath(n);
            let pname = self.t.n(n).props[pi].name.clone();
            if path.contains(':') || pname.contains(':') {
                return Err(self.sm.error(
                    m.pos,
                    1,
                    ErrorKind::Fatal,
                    "arguments should not contain ':'",
                ));
            }
            let mut entry = format!("{path}:{pname}:{}", m.offset).into_bytes();
            entry.push(0);
            self.append_to_property(fn_, r, &entry);
        }
        Ok(())
    }

    /// `generate_local_fixups_tree()`.
    fn generate_local_fixups(&mut self) {
        let ms = self.phandle_markers();
        if !ms.iter().any(|m| m.3) {
            return;
        }
        let lfn = self.root_child("__local_fixups__");
        for (n, pi, m, found) in ms {
            if !found {
                continue;
            }
            // Walk the node's path from the root, creating nodes.
            let mut chain = Vec::new();
            let mut c = n;
            while let Some(p) = self.t.n(c).parent {
                chain.push(self.t.n(c).name.clone());
                c = p;
            }
            let mut wn = lfn;
            for comp in chain.iter().rev() {
                wn = match self.t.child_named(wn, comp, false) {
                    Some(x) => x,
                    None => {
                        let pos = self.t.n(n).pos;
                        let x = self.t.new_node(comp.clone(), pos);
                        self.t.add_child(wn, x);
                        x
                    }
                };
            }
            let pname = self.t.n(n).props[pi].name.clone();
            self.append_to_property(wn, &pname, &(m.offset as u32).to_be_bytes());
        }
    }

    fn into_device_tree(mut self, memreserve: &[(u64, u64)]) -> DeviceTree {
        let mut dt = DeviceTree::new();
        dt.memreserve = memreserve
            .iter()
            .map(|&(address, size)| kmodel::of::MemReserve { address, size })
            .collect();
        let mut st = vec![(self.root, dt.root())];
        while let Some((src, dst)) = st.pop() {
            let node = self.t.n_mut(src);
            for l in std::mem::take(&mut node.labels).into_iter().rev() {
                if !l.deleted {
                    dt.add_label(dst, l.name);
                }
            }
            for p in std::mem::take(&mut node.props)
                .into_iter()
                .filter(|p| !p.deleted)
            {
                // Names are unique here (duplicates failed the checks,
                // generated properties are added only when absent).
                dt.push_property(dst, &p.name, p.val.bytes);
            }
            let mut kids = Vec::new();
            for c in self.t.children(src) {
                let d = dt.add_child(dst, self.t.n(c).name.clone());
                kids.push((c, d));
            }
            st.extend(kids.into_iter().rev());
        }
        dt
    }
}
