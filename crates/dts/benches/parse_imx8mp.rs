//! Parse + resolve imx8mp-evk.dts (its whole include closure) with
//! bridgesim's front end, against the kernel's `cpp | dtc` pipeline on the
//! same input in the same run (commands from the corpus MANIFEST §3; Debian's
//! dtc 1.6.1 lacks -Wno-interrupt_map, so that flag is left out).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use criterion::{criterion_group, criterion_main, Criterion};

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    p.join("MANIFEST.md").is_file().then_some(p)
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn cpp_dtc(corpus: &Path, file: &Path) {
    let dir = file.parent().unwrap();
    let r = corpus.join("dts");
    let cmd = format!(
        "cpp -nostdinc -I {dir} -I {inc} -I {src} -undef -D__DTS__ -x assembler-with-cpp {f} \
         | dtc -q -@ -I dts -O dtb -b 0 -i {dir} -i {src} -i {inc} \
           -Wno-unit_address_vs_reg -Wno-unique_unit_address -Wno-avoid_unnecessary_addr_size \
           -Wno-alias_paths -Wno-simple_bus_reg -o /dev/null -",
        dir = dir.display(),
        inc = r.join("include").display(),
        src = r.join("src").display(),
        f = file.display()
    );
    let st = Command::new("sh").arg("-c").arg(&cmd).status().expect("sh");
    assert!(st.success(), "cpp | dtc failed");
}

fn bench(c: &mut Criterion) {
    let Some(corpus) = corpus() else {
        eprintln!("NOTICE: ../shared/corpus is absent; skipping the benchmark");
        return;
    };
    let file = corpus.join("dts/src/arm64/freescale/imx8mp-evk.dts");
    let opts = dts::Options {
        include_dirs: vec![corpus.join("dts/include"), corpus.join("dts/src")],
        ..Default::default()
    };
    let mut g = c.benchmark_group("imx8mp-evk.dts");
    g.bench_function("bridgesim parse+resolve", |b| {
        b.iter(|| dts::compile_file(&file, &opts).expect("compiles"))
    });
    g.bench_function("bridgesim parse+resolve+write dtb", |b| {
        b.iter(|| dts::fdt::write_dtb(&dts::compile_file(&file, &opts).expect("compiles").tree))
    });
    if have("cpp") && have("dtc") {
        g.bench_function("cpp | dtc", |b| b.iter(|| cpp_dtc(&corpus, &file)));
    } else {
        eprintln!("NOTICE: cpp or dtc is not installed; skipping the cpp | dtc side");
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
