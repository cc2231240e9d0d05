//! `bridgesim rules`: each switch of a rules column, its value and the citations of what it
//! models (the switch table of `drm::rules`, parsed as `drm::Citation`s).

use std::process::ExitCode;

use bridgesim::verdict::SCHEMA;
use drm::{RulesColumn, Switch};
use serde::Serialize;

/// One switch in the `--json` output.
#[derive(Serialize)]
struct SwitchRow {
    name: &'static str,
    on: bool,
    since: Option<String>,
    until: Option<String>,
    proposal: bool,
    cites: Vec<String>,
}

#[derive(Serialize)]
struct RulesOut {
    schema: &'static str,
    rules: String,
    switches: Vec<SwitchRow>,
}

fn rows(col: &RulesColumn) -> Vec<SwitchRow> {
    let r = col.rules();
    Switch::ALL
        .into_iter()
        .map(|s| SwitchRow {
            name: s.name(),
            // Every switch in turn, not a read of one: printing the table.
            on: r.get(s),
            since: s.since().map(|v| v.to_string()),
            until: s.until().map(|v| v.to_string()),
            proposal: s.is_proposal(),
            cites: s.citations().iter().map(|c| c.to_string()).collect(),
        })
        .collect()
}

/// Print the switches of `column` (a rules column: `v7.0`, `v7.2+proposals`), as text or
/// JSON. Exit 0, or 2 for a column that does not parse.
pub fn run(column: &str, json: bool) -> ExitCode {
    let col: RulesColumn = match column.parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: --release: {e}");
            return ExitCode::from(2);
        }
    };
    let rows = rows(&col);
    if json {
        let out = RulesOut {
            schema: SCHEMA,
            rules: col.to_string(),
            switches: rows,
        };
        match serde_json::to_string_pretty(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("internal error: {e}");
                return ExitCode::from(3);
            }
        }
        return ExitCode::SUCCESS;
    }
    let on = rows.iter().filter(|r| r.on).count();
    println!("rules {col}: {on} of {} switches on", rows.len());
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in &rows {
        let era = match (&r.since, &r.until) {
            (None, _) => "proposal".to_string(),
            (Some(s), None) => format!("since {s}"),
            (Some(s), Some(u)) => format!("{s} until {u}"),
        };
        let value = if r.on { "on " } else { "off" };
        println!("\n{value}  {:width$}  ({era})", r.name);
        for c in &r.cites {
            println!("       {c}");
        }
    }
    ExitCode::SUCCESS
}
