//! A cheap, deterministic stand-in for the fuzzer inside `cargo test`: every
//! prefix and many byte mutations of the feature and bad-input sources, and
//! of a compiled blob, give Ok or an error, never a panic.

use std::path::Path;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const NOISE: &[u8] = b"{}<>[]();:,&/\\\"'#@=-+*%!~?^|\n\t 0x1fazZ_";

fn sources() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut v = Vec::new();
    for d in ["features", "bad"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(d))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.into_iter().filter(|p| p.is_file()) {
            v.push(std::fs::read(f).unwrap());
        }
    }
    v
}

fn compile(bytes: Vec<u8>) -> Result<dts::Compiled, dts::DtsError> {
    let opts = dts::Options {
        no_file_access: true,
        ..Default::default()
    };
    dts::compile_bytes("mutant.dts", None, bytes, &opts)
}

#[test]
fn truncated_and_mutated_sources_never_panic() {
    let mut rng = XorShift(0x5eed_1234_abcd_ef01);
    let mut runs = 0;
    for src in sources() {
        for cut in (0..src.len()).step_by(3) {
            let _ = compile(src[..cut].to_vec());
            runs += 1;
        }
        for _ in 0..300 {
            let mut m = src.clone();
            for _ in 0..1 + rng.next() % 4 {
                if m.is_empty() {
                    break;
                }
                let i = (rng.next() as usize) % m.len();
                match rng.next() % 3 {
                    0 => m[i] = NOISE[(rng.next() as usize) % NOISE.len()],
                    1 => {
                        m.remove(i);
                    }
                    _ => m.insert(i, NOISE[(rng.next() as usize) % NOISE.len()]),
                }
            }
            if let Ok(c) = compile(m) {
                let blob = dts::fdt::write_dtb(&c.tree);
                assert!(dts::fdt::read_dtb(&blob, "x")
                    .unwrap()
                    .structurally_eq(&c.tree));
            }
            runs += 1;
        }
    }
    assert!(runs > 3000, "{runs}");
}

#[test]
fn pathological_sources_are_refused_or_bounded() {
    let deep_expr = format!(
        "/dts-v1/; / {{ p = <{}1{}>; }};",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let deep_nodes = format!("/dts-v1/; / {{ {} }};", "a {".repeat(5000));
    let bomb = "/dts-v1/;\n#define A0 x x\n#define A1 A0 A0\n#define A2 A1 A1\n#define A3 A2 A2\n#define A4 A3 A3\n#define A5 A4 A4\n#define A6 A5 A5\n#define A7 A6 A6\n#define A8 A7 A7\n#define A9 A8 A8\n#define B0 A9 A9 A9 A9\n#define B1 B0 B0 B0 B0\n#define B2 B1 B1 B1 B1\n#define B3 B2 B2 B2 B2\n#define B4 B3 B3 B3 B3\n#define B5 B4 B4 B4 B4\n#define B6 B5 B5 B5 B5\n/ { p = <B6>; };\n".to_string();
    let self_ref =
        "/dts-v1/;\n#define F(x) F(x) x\n#define G G G\n/ { p = <F(1) G>; };\n".to_string();
    let nested_calls = format!(
        "/dts-v1/;\n#define F(x) x\n/ {{ p = <{}1{}>; }};\n",
        "F(".repeat(3000),
        ")".repeat(3000)
    );
    for src in [deep_expr, deep_nodes, bomb, self_ref, nested_calls] {
        let r = compile(src.into_bytes());
        assert!(r.is_err(), "expected a refusal");
    }
}

#[test]
fn mutated_blobs_never_panic() {
    let src = b"/dts-v1/;\n/memreserve/ 0x1000 0x10;\n/ { r = <&a>; a: n { p = <1 2>; s = \"x\"; c { q; }; }; };\n".to_vec();
    let blob = dts::fdt::write_dtb(&compile(src).unwrap().tree);
    let mut rng = XorShift(42);
    for cut in 0..blob.len() {
        let _ = dts::fdt::read_dtb(&blob[..cut], "cut");
    }
    for _ in 0..5000 {
        let mut m = blob.clone();
        for _ in 0..1 + rng.next() % 3 {
            let i = (rng.next() as usize) % m.len();
            m[i] = rng.next() as u8;
        }
        if let Ok(t) = dts::fdt::read_dtb(&m, "m") {
            let mut live = t.clone();
            if let Ok((id, _)) = live.of_overlay_apply(&t, None) {
                live.of_overlay_remove(id).unwrap();
                assert!(live.structurally_eq(&t));
            }
        }
    }
}
