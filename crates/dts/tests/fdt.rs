//! .dtb input: dtoolkit's own checks decide, except that names longer than
//! the specification's 31 characters (real kernel blobs have them) are read.

fn compile(src: &str) -> kmodel::of::DeviceTree {
    let opts = dts::Options {
        no_file_access: true,
        ..Default::default()
    };
    dts::compile_bytes("t.dts", None, src.as_bytes().to_vec(), &opts)
        .unwrap()
        .tree
}

#[test]
fn a_blob_with_names_longer_than_31_characters_reads_back() {
    let name = "simple-audio-card,bitclock-master";
    assert!(name.len() > 31);
    let node = "a-node-name-that-is-longer-than-31-chars";
    let t = compile(&format!(
        "/dts-v1/;\n/ {{\n\t{node} {{\n\t\t{name} = <1>;\n\t}};\n}};\n"
    ));
    let blob = dts::fdt::write_dtb(&t);
    // dtoolkit alone refuses it ...
    assert!(dtoolkit::fdt::Fdt::new(&blob).is_err());
    // ... the front end reads it.
    let back = dts::fdt::read_dtb(&blob, "long.dtb").unwrap();
    assert!(back.structurally_eq(&t));
    let n = back.child_by_full_name(back.root(), node).unwrap();
    assert_eq!(back.property(n, name).unwrap().value, [0, 0, 0, 1]);
}

#[test]
fn malformed_blobs_are_refused_with_dtoolkits_reason() {
    let blob = dts::fdt::write_dtb(&compile("/dts-v1/;\n/ {\n\tx = <1>;\n};\n"));
    let err = |b: &[u8]| dts::fdt::read_dtb(b, "bad.dtb").unwrap_err().to_string();
    let mut bad = blob.clone();
    bad[0] = 0;
    assert!(
        err(&bad).contains("invalid .dtb: Invalid FDT magic number"),
        "{}",
        err(&bad)
    );
    assert!(err(&blob[..blob.len() - 4]).contains("Invalid FDT length"));
    // A structure token that is none: dtoolkit's BadToken.
    let off = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
    let mut bad = blob.clone();
    bad[off..off + 4].copy_from_slice(&7u32.to_be_bytes());
    assert!(err(&bad).contains("Bad FDT token"), "{}", err(&bad));
}
