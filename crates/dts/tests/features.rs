//! Language features, each checked against the real toolchain: every
//! tests/features/*.dts(o) is compiled by bridgesim and by
//! `cpp ... | dtc -@`, both blobs are decompiled with `dtc -I dtb -O dts`
//! (unsorted, so node order, property order and phandle values must match
//! too) and compared. Skipped with a notice when cpp or dtc is missing.

use std::path::Path;
use std::process::Command;

fn reference_blob(dir: &Path, file: &Path) -> Vec<u8> {
    let cmd = format!(
        "cpp -nostdinc -I . -undef -D__DTS__ -x assembler-with-cpp {f} | dtc -q -@ -I dts -O dtb -i . -o - -",
        f = file.display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(dir)
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn decompile_unsorted(blob: &[u8], dir: &Path, name: &str) -> String {
    let p = std::env::temp_dir().join(format!("bridgesim-feat-{}-{name}.dtb", std::process::id()));
    std::fs::write(&p, blob).unwrap();
    let out = Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dts"])
        .arg(&p)
        .current_dir(dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&p);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn features_compile_like_cpp_and_dtc() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/features");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dts" || e == "dtso"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    // Always: each feature file compiles, deterministically.
    let opts = dts::Options {
        include_dirs: vec![dir.clone()],
        ..Default::default()
    };
    let mut ours = Vec::new();
    for f in &files {
        let a =
            dts::compile_file(f, &opts).unwrap_or_else(|e| panic!("{:?}", miette::Report::new(e)));
        let b = dts::compile_file(f, &opts).unwrap();
        let blob = dts::fdt::write_dtb(&a.tree);
        assert_eq!(
            blob,
            dts::fdt::write_dtb(&b.tree),
            "{}: not deterministic",
            f.display()
        );
        ours.push(blob);
    }
    if !(testkit::need_tool(testkit::Tool::Dtc) && testkit::need_tool(testkit::Tool::Cpp)) {
        return;
    }
    for (f, blob) in files.iter().zip(ours) {
        let name = f.file_name().unwrap().to_str().unwrap();
        let mine = decompile_unsorted(&blob, &dir, name);
        let theirs = decompile_unsorted(&reference_blob(&dir, f), &dir, name);
        assert_eq!(mine, theirs, "{name}: bridgesim and cpp|dtc differ");
    }
}
