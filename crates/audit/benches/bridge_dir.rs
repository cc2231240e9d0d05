//! The time to audit a whole release's bridge directory (every .c under
//! drivers/gpu/drm/bridge of the corpus, v7.1 by default): parse, extract and check under
//! its release. A plain timing loop: `cargo bench -p audit --bench bridge_dir [-- RELEASE]`.
//! Prints the median of the runs and the machine's load average with it.

use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let release = std::env::args()
        .skip(1)
        .find(|a| a.starts_with('v'))
        .unwrap_or_else(|| "v7.1".into());
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let dir = corpus
        .join("kernel")
        .join(&release)
        .join(audit::source::BRIDGE_DIR);
    if !dir.is_dir() {
        // Not a silent pass: say what was not measured.
        println!("SKIPPED bridge_dir bench: {} is absent", dir.display());
        return;
    }
    let opts = audit::Options::default();
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..10 {
        let t = Instant::now();
        let a = audit::audit(std::slice::from_ref(&dir), &opts, &mut |_, _, _| {})
            .expect("the corpus directory is readable");
        times.push(t.elapsed());
        last = Some(a);
    }
    times.sort();
    let a = last.expect("ten runs");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "audit {release} bridge dir: {} files, {} calls, {} hazards: median {:?} (min {:?}, max {:?}) over {} runs; load average {}",
        a.summary.files,
        a.summary.calls.seen,
        a.summary.hazards,
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
}
