//! Parse + resolve a flat tree generated in memory: one root with N sibling
//! nodes, each labelled and referring to its predecessor by phandle, plus a
//! top-level `&label { }` override for every 64th node (label lookup and
//! `merge_nodes()`). Sizes double from 1 MB up to 50 MB; each prints its
//! seconds and MB/s, so a quadratic spot shows as falling MB/s.
//!
//! `cargo bench -p dts --bench parse_flat` (all sizes), or with
//! `-- 1 4 16` to pick sizes in MB.

use std::time::Instant;

/// The allocator of the `bridgesim` binary, which this front end runs in.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A flat tree source of about `target` bytes; returns it and its node count.
fn flat_tree(target: usize) -> (Vec<u8>, usize) {
    let mut s = String::with_capacity(target + 4096);
    s.push_str("/dts-v1/;\n\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\n");
    let mut n = 0usize;
    while s.len() < target {
        s.push_str(&format!(
            "\tn{n}: node@{n:x} {{\n\t\tcompatible = \"vendor,device\";\n\t\treg = <0x{n:x} 0x100>;\n"
        ));
        if n > 0 {
            s.push_str(&format!("\t\tlink = <&n{}>;\n", n - 1));
        }
        s.push_str("\t};\n");
        n += 1;
    }
    s.push_str("};\n");
    for k in (0..n).step_by(64) {
        s.push_str(&format!("\n&n{k} {{\n\tstatus = \"okay\";\n}};\n"));
    }
    (s.into_bytes(), n)
}

/// This thread's time on a CPU so far (Linux `/proc/thread-self/schedstat`),
/// so a figure taken on a busy machine still says what the work costs.
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if args.is_empty() {
        vec![1, 2, 4, 8, 16, 32, 50]
    } else {
        args
    };
    let opts = dts::Options {
        no_file_access: true,
        ..Default::default()
    };
    println!("flat tree: parse+resolve (dts::compile_bytes)");
    for mb in sizes {
        let (src, nodes) = flat_tree(mb << 20);
        let len = src.len();
        // The phases of `dts::compile_bytes`, timed one by one.
        let t = Instant::now();
        let cpu0 = cpu_secs();
        let mut sm = dts::source::SourceMap::default();
        let file = sm.add_file("flat.dts".into(), None, src);
        let cpp_opts = dts::cpp::CppOptions {
            no_file_access: true,
            ..Default::default()
        };
        let buf = dts::cpp::Cpp::new(&mut sm, &cpp_opts)
            .run(file)
            .expect("cpp");
        let t_cpp = t.elapsed().as_secs_f64();
        let mut parser = dts::parser::Parser::new(&mut sm, buf, &[]);
        parser.no_file_access = true;
        let info = parser.parse().expect("parses");
        let t_parse = t.elapsed().as_secs_f64();
        let tree = dts::resolve::resolve(&sm, info, true).expect("resolves");
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu0.zip(cpu_secs()).map(|(a, b)| b - a);
        let mbs = len as f64 / (1 << 20) as f64;
        println!(
            "{mb:>4} MB ({nodes:>7} nodes, {} tree nodes): {secs:>8.3} s wall, {:>7.2} MB/s \
             (cpp {t_cpp:.3} s, parse {:.3} s, resolve {:.3} s); {}",
            tree.arena_len(),
            mbs / secs,
            t_parse - t_cpp,
            secs - t_parse,
            match cpu {
                Some(c) => format!("{c:.3} s on CPU, {:.2} MB/s", mbs / c),
                None => "CPU time not available".into(),
            }
        );
        drop(tree);
        // The public entry point on the same input: the phases above are
        // the whole pipeline.
        let (src, _) = flat_tree(mb << 20);
        let t = Instant::now();
        let c = dts::compile_bytes("flat.dts", None, src, &opts).expect("compiles");
        println!(
            "     dts::compile_bytes: {:.3} s ({} tree nodes)",
            t.elapsed().as_secs_f64(),
            c.tree.arena_len()
        );
    }
}
