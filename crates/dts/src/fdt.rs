//! Flattened device tree (.dtb/.dtbo) input through `dtoolkit`, and output
//! by a small writer producing dtc's layout (header, memreserve block,
//! structure block, strings block; version 17).

use dtoolkit::fdt::Fdt;
use dtoolkit::{Node, Property as _};
use kmodel::of::{DeviceTree, MemReserve, NodeId};

use crate::source::{DtsError, ErrorKind};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

fn rd(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_be_bytes(s.try_into().unwrap()))
}

/// Checks a blob before `Fdt::new_unchecked`, whose accessors panic on
/// malformed input. dtoolkit's own `Fdt::new` decides, except on one check
/// that does not serve: it holds node and property names to the
/// specification's 31 characters and character set, and real kernel blobs
/// break that (`simple-audio-card,bitclock-master`; dtc accepts them). Its
/// name check cannot be turned off (`check_strings` is private), so only
/// when `Fdt::new` refuses a name does [`validate_structure`] check what
/// `new_unchecked` relies on, names aside.
fn check(b: &[u8]) -> Result<(), String> {
    use dtoolkit::error::FdtErrorKind;
    match Fdt::new(b) {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind,
                FdtErrorKind::InvalidNodeName | FdtErrorKind::InvalidPropertyName
            ) =>
        {
            validate_structure(b)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The structure `Fdt::new_unchecked`'s accessors rely on: header, offsets
/// and sizes within the blob, a terminated reservation block, balanced
/// tokens, names NUL-terminated UTF-8 (of any length).
fn validate_structure(b: &[u8]) -> Result<(), String> {
    let h = |i: usize| rd(b, i * 4).ok_or("truncated header");
    if h(0)? != FDT_MAGIC {
        return Err("bad magic (not a flattened device tree)".into());
    }
    let total = h(1)? as usize;
    let (off_struct, off_strings, off_rsv) = (h(2)? as usize, h(3)? as usize, h(4)? as usize);
    let (version, last_comp) = (h(5)?, h(6)?);
    let (size_strings, size_struct) = (h(8)? as usize, h(9)? as usize);
    if total > b.len() || total < 40 {
        return Err(format!(
            "totalsize {total} does not fit the {} byte file",
            b.len()
        ));
    }
    if !(last_comp..=version).contains(&17) {
        return Err(format!("unsupported FDT version {version}"));
    }
    let within = |o: usize, l: usize| o.checked_add(l).is_some_and(|e| e <= total);
    if !within(off_struct, size_struct)
        || !within(off_strings, size_strings)
        || off_rsv % 8 != 0
        || off_rsv >= total
        || off_struct % 4 != 0
    {
        return Err("header offsets out of range".into());
    }
    let mut o = off_rsv;
    loop {
        if !within(o, 16) {
            return Err("unterminated memory reservation block".into());
        }
        let zero = b[o..o + 16].iter().all(|&x| x == 0);
        o += 16;
        if zero {
            break;
        }
    }
    let s = &b[off_struct..off_struct + size_struct];
    let strings = &b[off_strings..off_strings + size_strings];
    let mut i = 0;
    let mut depth: i64 = 0;
    let mut seen_root = false;
    loop {
        let tok = rd(s, i).ok_or("structure block ends without FDT_END")?;
        i += 4;
        match tok {
            FDT_BEGIN_NODE => {
                if depth == 0 && seen_root {
                    return Err("more than one root node".into());
                }
                seen_root = true;
                let n = s[i.min(s.len())..]
                    .iter()
                    .position(|&c| c == 0)
                    .ok_or("unterminated node name")?;
                std::str::from_utf8(&s[i..i + n]).map_err(|_| "node name is not UTF-8")?;
                i = (i + n + 1 + 3) & !3;
                depth += 1;
            }
            FDT_END_NODE => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced FDT_END_NODE".into());
                }
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err("property outside a node".into());
                }
                let len = rd(s, i).ok_or("truncated property")? as usize;
                let nameoff = rd(s, i + 4).ok_or("truncated property")? as usize;
                i += 8;
                if i.checked_add(len).is_none_or(|e| e > s.len()) {
                    return Err("property value out of range".into());
                }
                let n = strings
                    .get(nameoff..)
                    .and_then(|t| t.iter().position(|&c| c == 0))
                    .ok_or("property name offset out of range")?;
                std::str::from_utf8(&strings[nameoff..nameoff + n])
                    .map_err(|_| "property name is not UTF-8")?;
                i = (i + len + 3) & !3;
            }
            FDT_NOP => {}
            FDT_END => {
                if depth != 0 || !seen_root {
                    return Err("FDT_END inside a node".into());
                }
                return Ok(());
            }
            t => return Err(format!("bad structure token {t:#x}")),
        }
    }
}

/// Reads a .dtb/.dtbo into a tree (labels come only from `__symbols__`).
pub fn read_dtb(bytes: &[u8], name: &str) -> Result<DeviceTree, DtsError> {
    check(bytes).map_err(|m| {
        DtsError::unlocated(ErrorKind::Dtb, name, format!("{name}: invalid .dtb: {m}"))
    })?;
    let fdt = Fdt::new_unchecked(bytes);
    let mut dt = DeviceTree::new();
    dt.boot_cpuid_phys = fdt.boot_cpuid_phys();
    dt.memreserve = fdt
        .memory_reservations()
        .map(|r| MemReserve {
            address: r.address(),
            size: r.size(),
        })
        .collect();
    fn copy(dt: &mut DeviceTree, dst: NodeId, src: &dtoolkit::fdt::FdtNode<'_>) {
        for p in src.properties() {
            dt.set_property(dst, p.name(), p.value().to_vec());
        }
        for c in src.children() {
            let d = dt.add_child(dst, c.name());
            copy(dt, d, &c);
        }
    }
    let root = dt.root();
    copy(&mut dt, root, &fdt.root());
    Ok(dt)
}

/// Writes the tree as a version-17 FDT blob (dtc's block order; strings
/// deduplicated in first-use order).
pub fn write_dtb(dt: &DeviceTree) -> Vec<u8> {
    let mut st: Vec<u8> = Vec::new();
    let mut strings: Vec<u8> = Vec::new();
    let mut offs: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    fn emit(
        dt: &DeviceTree,
        n: NodeId,
        st: &mut Vec<u8>,
        strings: &mut Vec<u8>,
        offs: &mut std::collections::HashMap<String, u32>,
    ) {
        st.extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
        st.extend_from_slice(dt.name(n).as_bytes());
        st.push(0);
        while !st.len().is_multiple_of(4) {
            st.push(0);
        }
        for p in dt.properties(n) {
            let off = *offs.entry(p.name.clone()).or_insert_with(|| {
                let o = strings.len() as u32;
                strings.extend_from_slice(p.name.as_bytes());
                strings.push(0);
                o
            });
            st.extend_from_slice(&FDT_PROP.to_be_bytes());
            st.extend_from_slice(&(p.value.len() as u32).to_be_bytes());
            st.extend_from_slice(&off.to_be_bytes());
            st.extend_from_slice(&p.value);
            while !st.len().is_multiple_of(4) {
                st.push(0);
            }
        }
        for &c in dt.children(n) {
            emit(dt, c, st, strings, offs);
        }
        st.extend_from_slice(&FDT_END_NODE.to_be_bytes());
    }
    emit(dt, dt.root(), &mut st, &mut strings, &mut offs);
    st.extend_from_slice(&FDT_END.to_be_bytes());
    let off_rsv = 40usize;
    let rsv_len = (dt.memreserve.len() + 1) * 16;
    let off_struct = off_rsv + rsv_len;
    let off_strings = off_struct + st.len();
    let total = off_strings + strings.len();
    let mut out = Vec::with_capacity(total);
    for v in [
        FDT_MAGIC,
        total as u32,
        off_struct as u32,
        off_strings as u32,
        off_rsv as u32,
        17,
        16,
        dt.boot_cpuid_phys,
        strings.len() as u32,
        st.len() as u32,
    ] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    for r in &dt.memreserve {
        out.extend_from_slice(&r.address.to_be_bytes());
        out.extend_from_slice(&r.size.to_be_bytes());
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&st);
    out.extend_from_slice(&strings);
    out
}
