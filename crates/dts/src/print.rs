//! A dts-like rendering of a tree (for `bridgesim dt show`), choosing a
//! value form the way `dtc -O dts` guesses it: strings when printable,
//! cells when the length is a multiple of 4, bytes otherwise.

use kmodel::of::{DeviceTree, NodeId};

fn value(v: &[u8]) -> String {
    if v.is_empty() {
        return String::new();
    }
    let printable = v.last() == Some(&0)
        && v[0] != 0
        && !v.windows(2).any(|w| w == [0, 0])
        && v.iter().all(|&c| c == 0 || (0x20..0x7f).contains(&c));
    if printable {
        let parts: Vec<String> = v[..v.len() - 1]
            .split(|&c| c == 0)
            .map(|s| {
                format!(
                    "\"{}\"",
                    String::from_utf8_lossy(s)
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                )
            })
            .collect();
        return format!(" = {}", parts.join(", "));
    }
    if v.len() % 4 == 0 {
        let cells: Vec<String> = v
            .chunks(4)
            .map(|c| format!("0x{:x}", u32::from_be_bytes(c.try_into().unwrap())))
            .collect();
        return format!(" = <{}>", cells.join(" "));
    }
    let bytes: Vec<String> = v.iter().map(|b| format!("{b:02x}")).collect();
    format!(" = [{}]", bytes.join(" "))
}

fn node(dt: &DeviceTree, n: NodeId, depth: usize, out: &mut String) {
    let ind = "\t".repeat(depth);
    let labels: String = dt.labels(n).iter().map(|l| format!("{l}: ")).collect();
    let name = if n == dt.root() { "/" } else { dt.name(n) };
    out.push_str(&format!("{ind}{labels}{name} {{\n"));
    for p in dt.properties(n) {
        out.push_str(&format!("{ind}\t{}{};\n", p.name, value(&p.value)));
    }
    for &c in dt.children(n) {
        out.push('\n');
        node(dt, c, depth + 1, out);
    }
    out.push_str(&format!("{ind}}};\n"));
}

/// The whole tree as dts text.
pub fn to_dts(dt: &DeviceTree) -> String {
    let mut out = String::from("/dts-v1/;\n\n");
    for r in &dt.memreserve {
        out.push_str(&format!("/memreserve/ 0x{:x} 0x{:x};\n", r.address, r.size));
    }
    node(dt, dt.root(), 0, &mut out);
    out
}
