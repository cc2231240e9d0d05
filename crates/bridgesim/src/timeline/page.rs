//! One self-contained HTML file: a verdict matrix and timelines, with the stylesheet, the
//! script and every timeline's data inline (no network).
//!
//! The header, the matrix and the violation lists are HTML written here; the lanes and
//! lifelines are SVG the inline script (`timeline.js`) draws from each timeline's embedded
//! JSON when its section is open. After drawing, the script sets `data-errors` on `<body>` to
//! the number of script errors the page raised (the browser test asserts it is 0).

use std::fmt::Write as _;

use super::{Mark, Timeline};

const STYLE: &str = include_str!("timeline.css");
const SCRIPT: &str = include_str!("timeline.js");

/// One cell of the matrix.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The verdict, one line.
    pub text: String,
    /// The first finding alone (`kind in object`, "+N more"), or the clean verdict.
    pub short: String,
    pub clean: bool,
    /// Whether it matches the scenario's `expect`, if it has one.
    pub expected: Option<bool>,
    /// Index into [`Page::timelines`].
    pub timeline: Option<usize>,
}

/// Scenarios × rules columns.
#[derive(Clone, Debug, Default)]
pub struct Matrix {
    pub scenarios: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[scenario][column]`.
    pub cells: Vec<Vec<Option<Cell>>>,
}

/// A page: a title, paragraphs, maybe a matrix, and timelines.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub title: String,
    pub intro: Vec<String>,
    pub matrix: Option<Matrix>,
    pub timelines: Vec<Timeline>,
    /// Timelines start open (drawn on load) rather than closed (drawn when opened).
    pub open: bool,
}

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// JSON safe inside a `<script>` element: no `<`, `>` or `&` (escaped inside strings, the
/// only place JSON can hold them).
fn script_json(t: &Timeline) -> String {
    let s = serde_json::to_string(t).expect("timelines serialize");
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The anchor id of timeline `i`.
pub fn timeline_id(i: usize) -> String {
    format!("tl-{i}")
}

impl Page {
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        for p in &self.intro {
            let _ = writeln!(o, "<p>{}</p>", escape(p));
        }
        if let Some(m) = &self.matrix {
            self.matrix_html(&mut o, m);
        }
        for (i, t) in self.timelines.iter().enumerate() {
            timeline_html(&mut o, i, t, self.open);
        }
        let _ = write!(
            o,
            "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
        );
        o
    }

    fn matrix_html(&self, o: &mut String, m: &Matrix) {
        o.push_str("<table class=\"matrix\">\n<thead><tr><th>scenario</th>");
        for c in &m.columns {
            let _ = write!(o, "<th>{}</th>", escape(c));
        }
        o.push_str("</tr></thead>\n<tbody>\n");
        for (s, row) in m.scenarios.iter().zip(&m.cells) {
            let _ = write!(o, "<tr><th>{}</th>", escape(s));
            for cell in row {
                match cell {
                    None => o.push_str("<td></td>"),
                    Some(c) => {
                        let class = if c.clean { "clean" } else { "bad" };
                        let mark = match c.expected {
                            Some(true) => " <span class=\"ok\" title=\"as the scenario expects\">✓</span>",
                            Some(false) => " <span class=\"unexpected\" title=\"the scenario expects otherwise\">≠ expect</span>",
                            None => "",
                        };
                        let text = match c.timeline {
                            Some(i) => {
                                format!("<a href=\"#{}\">{}</a>", timeline_id(i), escape(&c.short))
                            }
                            None => escape(&c.short),
                        };
                        let _ = write!(
                            o,
                            "<td class=\"{class}\" title=\"{}\">{text}{mark}</td>",
                            escape(&c.text)
                        );
                    }
                }
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody>\n</table>\n");
    }
}

fn timeline_html(o: &mut String, i: usize, t: &Timeline, open: bool) {
    let id = timeline_id(i);
    let h = &t.header;
    let _ = write!(
        o,
        "<section class=\"timeline\" id=\"{id}\">\n<h2>{} under {}: {}</h2>\n<dl class=\"header\">\n",
        escape(&h.scenario),
        escape(&h.rules),
        escape(&h.verdict)
    );
    let on: Vec<&str> = h
        .switches
        .iter()
        .filter(|(_, v)| *v)
        .map(|(k, _)| k.as_str())
        .collect();
    let off: Vec<&str> = h
        .switches
        .iter()
        .filter(|(_, v)| !*v)
        .map(|(k, _)| k.as_str())
        .collect();
    let rows = [
        ("scenario", format!("{} ({})", h.scenario, h.source)),
        ("release", h.release.clone()),
        (
            "switches on",
            if on.is_empty() {
                "none".to_string()
            } else {
                on.join(", ")
            },
        ),
        ("verdict", h.verdict.clone()),
        ("this run", format!("{}; {}", h.run, h.stop)),
        (
            "steps",
            format!("{} steps, {} threads", t.n_steps(), t.threads.len()),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    let _ = writeln!(
        o,
        "<dt>switches off</dt><dd><details><summary>{} switches</summary>{}</details></dd>",
        off.len(),
        escape(&off.join(", "))
    );
    let _ = writeln!(
        o,
        "<dt>replay</dt><dd><code class=\"replay\">{}</code></dd>\n</dl>",
        escape(&h.replay_command())
    );
    let _ = writeln!(
        o,
        "<details class=\"chart\" data-src=\"{id}-data\"{}>\n<summary>timeline: threads and object lifelines</summary>\n\
         <div class=\"tl-chart\" id=\"{id}-chart\"></div>\n</details>",
        if open { " open" } else { "" }
    );
    violations_html(o, &id, t);
    let _ = writeln!(
        o,
        "<script type=\"application/json\" id=\"{id}-data\">{}</script>\n</section>",
        script_json(t)
    );
}

fn violations_html(o: &mut String, id: &str, t: &Timeline) {
    if t.violations.is_empty() {
        o.push_str("<p class=\"verdict-clean\">No violation in this run.</p>\n");
        return;
    }
    // The first violation in full; the rest of the run's, folded.
    o.push_str("<ol class=\"violations\">\n");
    violation_html(o, id, 0, t, &t.violations[0]);
    o.push_str("</ol>\n");
    if t.violations.len() > 1 {
        let _ = writeln!(
            o,
            "<details class=\"more\"><summary>{} more violation(s) in this run</summary>\n<ol class=\"violations\" start=\"2\">",
            t.violations.len() - 1
        );
        for (vi, v) in t.violations.iter().enumerate().skip(1) {
            violation_html(o, id, vi, t, v);
        }
        o.push_str("</ol></details>\n");
    }
}

fn violation_html(o: &mut String, id: &str, vi: usize, t: &Timeline, v: &Mark) {
    let thread = t.threads.get(v.tid as usize).map_or("?", String::as_str);
    let _ = write!(
        o,
        "<li id=\"{id}-v-{vi}\" class=\"violation-item\" data-kind=\"{}\"><b>{}</b>",
        v.kind.name(),
        v.kind.name()
    );
    if let Some(obj) = &v.object {
        match v.lifeline {
            Some(l) => {
                let _ = write!(
                    o,
                    " in <a href=\"#{id}-obj-{}\">{}</a>",
                    t.lifelines[l].obj,
                    escape(obj)
                );
            }
            None => {
                let _ = write!(o, " in {}", escape(obj));
            }
        }
    }
    let _ = write!(
        o,
        ": {} — step {}, thread {}",
        escape(&v.message),
        v.step,
        escape(thread)
    );
    if let Some(a) = v.access {
        let _ = write!(o, ", {}", escape(&access_name(a)));
    }
    let stack = t.path_names(v.path);
    if !stack.is_empty() {
        let _ = write!(
            o,
            "<div class=\"stack\">{}</div>",
            escape(&stack.join(" → "))
        );
    }
    if !v.holders.is_empty() {
        let _ = write!(
            o,
            "<div class=\"holders\">still held at the end by: {}</div>",
            escape(&v.holders.join(", "))
        );
    }
    if !v.open_sections.is_empty() {
        o.push_str("<div class=\"open-sections\">open at the end:<ul>");
        for &s in &v.open_sections {
            let sec = &t.sections[s];
            let who = t.threads.get(sec.tid as usize).map_or("?", String::as_str);
            let _ = write!(
                o,
                "<li>{} held by thread {} since step {}</li>",
                escape(&sec.label),
                escape(who),
                sec.from
            );
        }
        o.push_str("</ul></div>");
    }
    if !v.details.is_empty() {
        o.push_str("<ul class=\"details\">");
        for d in &v.details {
            let _ = write!(o, "<li>{}</li>", escape(d));
        }
        o.push_str("</ul>");
    }
    let _ = writeln!(
        o,
        "<details class=\"report\"><summary>kernel-style report</summary><pre>{}</pre></details></li>",
        escape(&v.report)
    );
}

fn access_name(a: kmodel::AccessKind) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One cell of a verdict matrix, for [`matrix_page`].
pub struct CellInput<'a> {
    pub prepared: &'a std::sync::Arc<crate::scenario::Prepared>,
    /// How the command line named the scenario (for the replay command).
    pub source: String,
    pub column: &'a crate::verdict::RulesColumn,
    pub verdict: &'a crate::verdict::Verdict,
}

/// Which cells of a matrix get a timeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Timelines {
    /// Every cell: its counterexample, or the thread-order run of a clean cell.
    Every,
    /// Per column, the first scenario with a counterexample.
    FirstCounterexamplePerColumn,
}

/// The timeline of one verdict: its first counterexample replayed to the end, or for a
/// clean verdict the thread-order run.
pub fn for_verdict(c: &CellInput<'_>) -> Result<Timeline, String> {
    let v = c.verdict;
    match v.findings.first() {
        Some(f) => {
            let s: kmodel::Schedule = f
                .schedule
                .parse()
                .map_err(|e| format!("schedule {}: {e}", f.schedule))?;
            super::record(
                c.prepared,
                &c.source,
                c.column,
                Some(&s),
                v.summary(),
                super::RunKind::Counterexample,
            )
        }
        None => super::record(
            c.prepared,
            &c.source,
            c.column,
            None,
            v.summary(),
            super::RunKind::ThreadOrder,
        ),
    }
}

/// A scenarios × columns page with the chosen timelines (`compare --html`, `demo --html`).
pub fn matrix_page(
    title: &str,
    intro: Vec<String>,
    cells: &[CellInput<'_>],
    which: Timelines,
) -> Result<Page, String> {
    let mut m = Matrix::default();
    let mut page = Page {
        title: title.to_string(),
        intro,
        open: which == Timelines::FirstCounterexamplePerColumn,
        ..Page::default()
    };
    let mut pos = Vec::new();
    for c in cells {
        let name = &c.prepared.scenario.file.name;
        let si = match m.scenarios.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                m.scenarios.push(name.clone());
                m.scenarios.len() - 1
            }
        };
        let ci = match m.columns.iter().position(|s| *s == c.column.label) {
            Some(i) => i,
            None => {
                m.columns.push(c.column.label.clone());
                m.columns.len() - 1
            }
        };
        pos.push((si, ci));
    }
    m.cells = vec![vec![None; m.columns.len()]; m.scenarios.len()];
    // Timelines in column order for the demo (one per release), cell order otherwise.
    let mut order: Vec<usize> = (0..cells.len()).collect();
    if which == Timelines::FirstCounterexamplePerColumn {
        order.sort_by_key(|&i| (pos[i].1, pos[i].0));
    }
    let mut columns_done = vec![false; m.columns.len()];
    let mut timeline_of = vec![None; cells.len()];
    for i in order {
        let c = &cells[i];
        let want = match which {
            Timelines::Every => true,
            Timelines::FirstCounterexamplePerColumn => {
                !c.verdict.is_clean() && !columns_done[pos[i].1]
            }
        };
        if want {
            columns_done[pos[i].1] = true;
            page.timelines.push(for_verdict(c)?);
            timeline_of[i] = Some(page.timelines.len() - 1);
        }
    }
    for (i, c) in cells.iter().enumerate() {
        let (si, ci) = pos[i];
        let v = c.verdict;
        let short = match v.findings.first() {
            None => v.summary(),
            Some(f) => {
                let more = v.findings.len() - 1 + v.also.len();
                let mut s = f.kind.to_string();
                if !f.object.is_empty() {
                    s = format!("{s} in {}", f.object);
                }
                if more > 0 {
                    s = format!("{s} (+{more} more)");
                }
                s
            }
        };
        m.cells[si][ci] = Some(Cell {
            short,
            text: c.verdict.summary(),
            clean: c.verdict.is_clean(),
            expected: c.verdict.matches_expect,
            timeline: timeline_of[i],
        });
    }
    page.matrix = Some(m);
    Ok(page)
}
