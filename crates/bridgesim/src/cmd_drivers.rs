//! `bridgesim drivers`: every driver described as data (`crates/drivers/data`, embedded in the
//! binary), its compatible strings, the releases it has a description for and the file of
//! each (docs/driver-format.md).

use std::process::ExitCode;

use bridgesim::verdict::SCHEMA;
use drm::Release;
use serde::Serialize;

/// One release's description in the `--json` output.
#[derive(Serialize)]
struct ReleaseRow {
    release: String,
    /// The file written for that release.
    file: String,
    /// What it inherits, newest first (the files it is made of after `file`).
    inherits: Vec<String>,
}

/// One driver in the `--json` output.
#[derive(Serialize)]
struct DriverRow {
    driver: String,
    name: String,
    bus: String,
    role: String,
    compatible: Vec<String>,
    releases: Vec<ReleaseRow>,
    /// Releases with no file of their own, and the release whose description they use.
    falls_back: Vec<(String, String)>,
}

#[derive(Serialize)]
struct DriversOut {
    schema: &'static str,
    drivers: Vec<DriverRow>,
}

/// List the described drivers, as text or JSON. Exit 0, or 3 if the embedded descriptions do
/// not load (a build bug).
pub fn run(json: bool) -> ExitCode {
    let drivers = match drivers::data::builtin() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("internal error: the embedded driver descriptions do not load: {e}");
            return ExitCode::from(3);
        }
    };
    let rows: Vec<DriverRow> = drivers
        .iter()
        .map(|d| DriverRow {
            driver: d.dir.clone(),
            name: d.name.to_string(),
            bus: d.bus.to_string(),
            role: d.role.to_string(),
            compatible: d.compatible.iter().map(|c| c.to_string()).collect(),
            releases: d
                .releases
                .iter()
                .map(|(r, desc)| ReleaseRow {
                    release: r.to_string(),
                    file: desc.files[0].clone(),
                    inherits: desc.files[1..].to_vec(),
                })
                .collect(),
            falls_back: Release::ALL
                .into_iter()
                .filter(|r| !d.releases.contains_key(r))
                .filter_map(|r| {
                    d.for_release(r)
                        .release
                        .map(|used| (r.to_string(), used.to_string()))
                })
                .collect(),
        })
        .collect();
    if json {
        let out = DriversOut {
            schema: SCHEMA,
            drivers: rows,
        };
        return match serde_json::to_string_pretty(&out) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("internal error: {e}");
                ExitCode::from(3)
            }
        };
    }
    println!(
        "{} driver{} described as data (docs/driver-format.md)",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    for d in &rows {
        println!(
            "\n{} ({} {}, driver name {}): {}",
            d.driver,
            d.bus,
            d.role,
            d.name,
            d.compatible.join(", ")
        );
        for r in &d.releases {
            println!("  {:6} {}", r.release, r.file);
        }
        for (r, used) in &d.falls_back {
            println!("  {r:6} (no file: uses {used}'s)");
        }
    }
    ExitCode::SUCCESS
}
