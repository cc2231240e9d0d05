//! Bad inputs give located errors (file, line, column, include chain),
//! never a panic. Driven by tests/bad/expected.txt.

use std::path::Path;

/// The fancy report, rendered wide so long paths are not wrapped.
fn render(e: &dts::DtsError) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(10_000)
        .render_report(&mut out, e)
        .unwrap();
    out
}

fn table() -> Vec<(String, String, u32, u32, Option<String>)> {
    include_str!("bad/expected.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (
                w[0].to_string(),
                w[1].to_string(),
                w[2].parse().unwrap(),
                w[3].parse().unwrap(),
                w.get(4).map(|f| f.trim_start_matches("FROM=").to_string()),
            )
        })
        .collect()
}

#[test]
fn every_bad_input_gives_a_located_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let t = table();
    assert!(t.len() >= 15);
    for (file, kind, line, col, from) in t {
        let e = match dts::compile_file(&dir.join(&file), &dts::Options::default()) {
            Ok(_) => panic!("{file}: compiled, expected {kind}"),
            Err(e) => e,
        };
        assert_eq!(format!("{:?}", e.kind), kind, "{file}: {e}");
        assert!(
            e.file.ends_with(&file) || from.is_some(),
            "{file}: reported in {}",
            e.file
        );
        assert_eq!((e.line, e.col), (line, col), "{file}: {e}");
        if let Some(from) = from {
            let (f, l, c) = e.included_from[0].clone();
            let got = format!(
                "{}:{l}:{c}",
                Path::new(&f).file_name().unwrap().to_str().unwrap()
            );
            assert_eq!(got, from, "{file}");
            // The fancy report shows the chain.
            let report = render(&e);
            assert!(
                report.contains(&format!("included from {f}:{l}:{c}")),
                "{report}"
            );
        } else {
            assert!(e.included_from.is_empty());
        }
    }
}

#[test]
fn rendered_report_names_file_line_column_and_expectation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let e = dts::compile_file(
        &dir.join("bad-cell-expression.dts"),
        &dts::Options::default(),
    )
    .unwrap_err();
    let r = render(&e);
    assert!(r.contains("bad-cell-expression.dts:4:15"), "{r}");
    assert!(r.contains("expected a number"), "{r}");
}

#[test]
fn an_include_cycle_is_summarised_with_counts_and_the_full_chain_on_request() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let e =
        dts::compile_file(&dir.join("include-cycle.dts"), &dts::Options::default()).unwrap_err();
    assert_eq!(e.included_from.len(), 200);
    let short = render(&e);
    assert_eq!(short.matches("included from").count(), 6, "{short}");
    assert!(
        short.contains("... and 194 more (an include chain of 200 levels through 3 files"),
        "{short}"
    );
    let full = render(&e.with_full_include_chain());
    assert_eq!(full.matches("included from").count(), 200);
}

#[test]
fn non_utf8_source_highlights_the_reported_token() {
    use miette::Diagnostic;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let e = dts::compile_file(&dir.join("non-utf8.dts"), &dts::Options::default()).unwrap_err();
    let label = e.labels().unwrap().next().unwrap();
    let src = e.source_code().unwrap();
    let at = src.read_span(label.inner(), 0, 0).unwrap();
    assert_eq!(std::str::from_utf8(at.data()).unwrap(), "&missing");
    // The invalid bytes show as U+FFFD in the report.
    assert!(render(&e).contains("model = \"\u{fffd}t\u{fffd}\";"));
}
