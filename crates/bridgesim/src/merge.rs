//! `bridgesim merge`: combine the JSON of the shards of one split search (`explore --shard
//! i/n --json`, one file per shard) into the result of the whole search: the verdict, the
//! distinct violations (`--all`: their union; otherwise the violation of the lowest leaf,
//! which is the first violation of the unsharded search: explore's `shard` module), the
//! executions summed, and the coverage of the whole (exhaustive when every shard ran to its
//! end). docs/scale-out.md shows it on CI and cluster engines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Map, Value};

use bridgesim::verdict;
use explore::Coverage;

/// One shard's result, checked.
struct Part {
    file: PathBuf,
    result: Value,
    index: u64,
    count: u64,
    split: u64,
    all: bool,
    first_leaf: Option<u64>,
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn read(file: &Path) -> Result<Part, String> {
    let at = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| format!("{at}: {e}"))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{at}:{}:{}: {e}", e.line(), e.column()))?;
    if v.get("schema").and_then(Value::as_str) != Some(verdict::SCHEMA) {
        return Err(format!("{at}: expected schema {:?}", verdict::SCHEMA));
    }
    let results = v.get("results").and_then(Value::as_array);
    let [result] = results.map(Vec::as_slice).unwrap_or_default() else {
        return Err(format!(
            "{at}: expected the output of one `explore --shard i/n --json` (one result)"
        ));
    };
    let shard = field(result, &["stats", "shard"])
        .ok_or_else(|| format!("{at}: expected stats.shard (run explore with --shard i/n)"))?;
    let num = |path: &[&str]| {
        field(shard, path)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("{at}: expected stats.shard.{} (a number)", path.join(".")))
    };
    Ok(Part {
        file: file.to_path_buf(),
        index: num(&["shard", "index"])?,
        count: num(&["shard", "count"])?,
        split: num(&["split"])?,
        all: field(shard, &["all"])
            .and_then(Value::as_bool)
            .unwrap_or(false),
        first_leaf: field(shard, &["first_leaf"]).and_then(Value::as_u64),
        result: result.clone(),
    })
}

/// The shards must be every part of one split search, each once.
fn check(parts: &[Part]) -> Result<(), String> {
    let p0 = &parts[0];
    let same = |p: &Part, key: &str| p.result.get(key) == p0.result.get(key);
    for p in parts {
        let at = p.file.display();
        for key in ["scenario", "rules"] {
            if !same(p, key) {
                return Err(format!(
                    "{at}: {key} {} differs from {}'s {}",
                    p.result[key],
                    p0.file.display(),
                    p0.result[key]
                ));
            }
        }
        if (p.count, p.split, p.all) != (p0.count, p0.split, p0.all) {
            return Err(format!(
                "{at}: a different split (count, split, --all) from {}",
                p0.file.display()
            ));
        }
    }
    let n = p0.count;
    for i in 0..n {
        match parts.iter().filter(|p| p.index == i).count() {
            1 => {}
            0 => return Err(format!("shard {i}/{n} is missing")),
            _ => return Err(format!("shard {i}/{n} is given twice")),
        }
    }
    if parts.len() as u64 != n {
        return Err(format!("expected {n} shards, got {}", parts.len()));
    }
    Ok(())
}

/// The merged result (same schema as one `explore` result).
fn merge(mut parts: Vec<Part>) -> Value {
    parts.sort_by_key(|p| p.index);
    let all = parts[0].all;
    // The violation reported first: the lowest leaf's, the unsharded search's first (without
    // --all it searches in leaf order, with the same split as every first-violation shard).
    let first = parts
        .iter()
        .filter(|p| p.first_leaf.is_some())
        .min_by_key(|p| p.first_leaf);
    let base = first.unwrap_or(&parts[0]);
    let mut out = base.result.clone();
    let mut stats = out["stats"].as_object().cloned().unwrap_or_default();
    for key in [
        "executions",
        "complete",
        "sleep_blocked",
        "blocked_backtracks",
        "distinct_traces",
        "steps",
        "minimize_executions",
        "handed_out",
    ] {
        let sum: u64 = parts
            .iter()
            .filter_map(|p| p.result["stats"][key].as_u64())
            .sum();
        stats.insert(key.into(), json!(sum));
    }
    let secs: f64 = parts
        .iter()
        .filter_map(|p| p.result["stats"]["wall_secs"].as_f64())
        .sum();
    stats.insert("wall_secs".into(), json!(secs));
    let mut races: Map<String, Value> = Map::new();
    for p in &parts {
        for r in p.result["stats"]["races"].as_array().into_iter().flatten() {
            if let (Some(pair), Some(n)) = (r["pair"].as_str(), r["backtracks"].as_u64()) {
                let e = races.entry(pair).or_insert(json!(0));
                *e = json!(e.as_u64().unwrap_or(0) + n);
            }
        }
    }
    if !races.is_empty() {
        let mut v: Vec<(String, u64)> = races
            .into_iter()
            .map(|(k, n)| (k, n.as_u64().unwrap_or(0)))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        stats.insert(
            "races".into(),
            v.into_iter()
                .map(|(pair, backtracks)| json!({"pair": pair, "backtracks": backtracks}))
                .collect(),
        );
    }
    stats.remove("shard");
    stats.insert("merged_shards".into(), json!(parts.len()));
    let executions = stats["executions"].as_u64().unwrap_or(0);
    // Coverage of the whole: a shard cut short (budget, Ctrl-C, internal error) leaves it
    // not exhaustive; otherwise the first violation, or every execution.
    let short = parts.iter().find(|p| {
        !matches!(
            p.result["coverage"]["kind"].as_str(),
            Some("shard" | "first_violation")
        )
    });
    let coverage = match short {
        Some(p) => p.result["coverage"].clone(),
        None if first.is_some() && !all => json!(Coverage::FirstViolation { executions }),
        None => json!(Coverage::Exhaustive),
    };
    let exhaustive = coverage["kind"] == "exhaustive";
    if all {
        // Fold as one search does (`verdict::folded`: one finding per kind and device node,
        // a leak per type and name): each shard folded its own, but two shards can keep
        // different resources of one device (a regmap in one, a regulator in another). Of
        // such a group the one with the lowest schedule is kept (deterministic; the
        // unsharded --all search is plain DPOR, whose pick within a group is its own).
        let mut kept: Vec<(String, Vec<u32>, Value)> = Vec::new();
        for p in &parts {
            for f in p.result["findings"].as_array().into_iter().flatten() {
                let key = fold_key(f);
                let order = schedule_order(f);
                match kept.iter_mut().find(|(k, _, _)| *k == key) {
                    Some(k) if order < k.1 => (k.1, k.2) = (order, f.clone()),
                    Some(_) => {}
                    None => kept.push((key, order, f.clone())),
                }
            }
        }
        kept.sort_by(|a, b| a.0.cmp(&b.0));
        out["findings"] = Value::Array(kept.into_iter().map(|(_, _, f)| f).collect());
    }
    stats.insert("exhaustive".into(), json!(exhaustive));
    out["stats"] = Value::Object(stats);
    out["coverage"] = coverage;
    out["exhaustive"] = json!(exhaustive);
    out["every_violation"] = json!(all && exhaustive);
    // The expectation is the scenario's; checking it needs the scenario, which the shards'
    // JSON does not carry: `matches_expect` is left out of a merge.
    out["matches_expect"] = Value::Null;
    out
}

/// The key a finding folds on (`kind:node`, [`verdict::folded`]).
fn fold_key(f: &Value) -> String {
    let kind = f["kind"].as_str().unwrap_or("");
    let object = f["object"].as_str().unwrap_or("");
    match kind.parse::<kmodel::ViolationKind>() {
        Ok(k) => format!("{k}:{}", verdict::folded(k, object)),
        Err(_) => format!("{kind}:{object}"),
    }
}

/// A finding's schedule as its sequence of choices (threads), for search order across
/// shards; one that does not parse sorts last.
fn schedule_order(f: &Value) -> Vec<u32> {
    f["schedule"]
        .as_str()
        .and_then(|s| s.parse::<kmodel::Schedule>().ok())
        .map(|s| s.0.iter().map(|t| t.0).collect())
        .unwrap_or_else(|| vec![u32::MAX])
}

/// `bridgesim merge FILE...`.
pub fn run(files: &[PathBuf], json_out: bool) -> ExitCode {
    let parts: Result<Vec<Part>, String> = files.iter().map(|f| read(f)).collect();
    let parts = match parts.and_then(|p| check(&p).map(|()| p)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let merged = merge(parts);
    let clean = merged["findings"].as_array().is_none_or(Vec::is_empty);
    if json_out {
        let out = json!({"schema": verdict::SCHEMA, "command": "merge", "results": [merged]});
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serializable")
        );
    } else {
        let keys: Vec<String> = merged["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                format!(
                    "{}:{}",
                    f["kind"].as_str().unwrap_or("?"),
                    f["object"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!(
            "{} under {}: {} ({}; {} executions in {} shards)",
            merged["scenario"].as_str().unwrap_or("?"),
            merged["rules"].as_str().unwrap_or("?"),
            if clean {
                "clean".to_string()
            } else {
                keys.join(", ")
            },
            merged["coverage"]["text"].as_str().unwrap_or("?"),
            merged["stats"]["executions"],
            merged["stats"]["merged_shards"],
        );
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
