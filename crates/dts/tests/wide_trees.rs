//! Nodes with many children go through the name and label indexes (from 16
//! children on): merging, deletion, re-adding, path and label references and
//! the duplicate check must give dtc's answers there too.

use kmodel::of::DeviceTree;

fn compile(src: &str) -> Result<DeviceTree, dts::DtsError> {
    let opts = dts::Options {
        no_file_access: true,
        // No phandles for labels, no __symbols__: only what the source says.
        no_symbols: true,
        ..Default::default()
    };
    dts::compile_bytes("wide.dts", None, src.as_bytes().to_vec(), &opts).map(|c| c.tree)
}

fn wide(n: usize) -> String {
    let mut s = String::from("/dts-v1/;\n/ {\n");
    for i in 0..n {
        s.push_str(&format!("\tl{i}: n{i} {{ v = <{i}>; }};\n"));
    }
    s.push_str("};\n");
    s
}

#[test]
fn merges_deletions_and_references_in_a_wide_node() {
    let mut src = wide(40);
    src.push_str(
        "/ {\n\tn5 { w = <1>; };\n\t/delete-node/ n7;\n\tn40 { };\n};\n\
         / {\n\tn7 { again; };\n};\n\
         &l20 { x; };\n\
         &{/n30} { y; };\n\
         /delete-node/ &l21;\n\
         / {\n\tl21: n41 { };\n};\n\
         &l21 { z; };\n",
    );
    let t = compile(&src).unwrap();
    let r = t.root();
    let names: Vec<&str> = t.children(r).iter().map(|&c| t.name(c)).collect();
    let mut want: Vec<String> = (0..41)
        .filter(|&i| i != 21)
        .map(|i| format!("n{i}"))
        .collect();
    want.push("n41".into());
    assert_eq!(names, want);
    let node = |n: &str| t.child_by_full_name(r, n).unwrap();
    let props = |n: &str| -> Vec<&str> {
        t.properties(node(n))
            .iter()
            .map(|p| p.name.as_str())
            .collect()
    };
    assert_eq!(props("n5"), ["v", "w"]);
    // Re-added after deletion: the old node comes back in place, its old
    // properties stay deleted (dtc's merge_nodes).
    assert_eq!(props("n7"), ["again"]);
    assert_eq!(props("n20"), ["v", "x"]);
    assert_eq!(props("n30"), ["v", "y"]);
    // The label moved to the new node once the old one was deleted.
    assert_eq!(props("n41"), ["z"]);
}

#[test]
fn a_duplicate_among_many_siblings_is_reported_at_the_second_one() {
    let mut src = wide(30);
    src.push_str("/ {\n\tn3 { };\n};\n");
    // Merged, not a duplicate.
    assert!(compile(&src).is_ok());
    let mut lines: Vec<String> = wide(30).lines().map(String::from).collect();
    // A second n12 in the same node body, on line 21.
    lines.insert(20, "\tn12 { };".into());
    let e = compile(&lines.join("\n")).unwrap_err();
    assert_eq!(e.kind, dts::ErrorKind::Check("duplicate_node_names"), "{e}");
    assert!(e.message.contains("Duplicate node name n12"), "{e}");
    assert_eq!((e.line, e.col), (21, 2), "{e}");
}
