//! Citations: the place in the kernel sources (or upstream history) that a rule or a driver
//! behaviour models, in one machine-readable form.
//!
//! - `v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove`: a function in a release's tree
//!   (release:path:function). Only the releases with a tree in the corpus (v6.17–v7.1) may be
//!   cited this way.
//! - `commit 1234abcd5678`: an upstream commit, by the id upstream.md gives it, for releases
//!   and proposals with no tree (v6.15, v6.16, v7.2, proposals).
//! - `series <name>`: a patch series under review, by the name upstream.md gives it.
//!
//! [`Citation::check_in_corpus`] checks a source citation against a corpus
//! (`../shared/corpus/kernel`): the file exists under `<release>/` and defines the function.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::rules::Release;

/// The releases with a kernel tree in the corpus: the only ones a source citation may name.
pub const CORPUS_RELEASES: [Release; 5] = [
    Release::V6_17,
    Release::V6_18,
    Release::V6_19,
    Release::V7_0,
    Release::V7_1,
];

/// One citation. `Display` and `FromStr` round-trip.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Citation {
    /// A function in a release's tree: `v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove`.
    Source {
        release: Release,
        path: String,
        function: String,
    },
    /// An upstream commit: `commit 1234abcd5678` (7 to 40 hex digits).
    Commit(String),
    /// A patch series under review: `series <name>`.
    Series(String),
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Citation::Source {
                release,
                path,
                function,
            } => write!(f, "{release}:{path}:{function}"),
            Citation::Commit(id) => write!(f, "commit {id}"),
            Citation::Series(name) => write!(f, "series {name}"),
        }
    }
}

/// Why a citation string is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCitation {
    pub text: String,
    pub why: String,
}

impl fmt::Display for BadCitation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad citation `{}`: {}; expected `release:path:function` (a release with a tree: {}), `commit <hex id>` or `series <name>`",
            self.text,
            self.why,
            CORPUS_RELEASES.map(|r| r.name()).join(", ")
        )
    }
}

impl std::error::Error for BadCitation {}

fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FromStr for Citation {
    type Err = BadCitation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let bad = |why: &str| BadCitation {
            text: text.to_string(),
            why: why.to_string(),
        };
        if let Some(id) = text.strip_prefix("commit ") {
            let id = id.trim();
            if !(7..=40).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad("a commit id is 7 to 40 hex digits"));
            }
            return Ok(Citation::Commit(id.to_ascii_lowercase()));
        }
        if let Some(name) = text.strip_prefix("series ") {
            let name = name.trim();
            if name.is_empty() {
                return Err(bad("a series needs its name"));
            }
            return Ok(Citation::Series(name.to_string()));
        }
        let mut parts = text.splitn(3, ':');
        let (Some(release), Some(path), Some(function)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not of the form release:path:function"));
        };
        let release: Release = release.parse().map_err(|e| bad(&format!("{e}")))?;
        if !CORPUS_RELEASES.contains(&release) {
            return Err(bad(&format!(
                "{release} has no tree in the corpus: cite its commit or series"
            )));
        }
        if path.is_empty()
            || path.starts_with('/')
            || path.split('/').any(|c| c == ".." || c.is_empty())
        {
            return Err(bad("the path must be relative to the kernel tree"));
        }
        if !is_c_identifier(function) {
            return Err(bad("the function must be a C identifier"));
        }
        Ok(Citation::Source {
            release,
            path: path.to_string(),
            function: function.to_string(),
        })
    }
}

impl Citation {
    /// Parses a list of citations separated by `;` or newlines.
    pub fn parse_list(s: &str) -> Result<Vec<Citation>, BadCitation> {
        s.split([';', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::parse)
            .collect()
    }

    /// Checks a source citation against the corpus at `corpus` (the folder holding `v7.0/`
    /// and the others): the file exists and defines the function. Commits and series have
    /// nothing in the corpus to check and pass.
    pub fn check_in_corpus(&self, corpus: &Path) -> Result<(), String> {
        let Citation::Source {
            release,
            path,
            function,
        } = self
        else {
            return Ok(());
        };
        let file = corpus.join(release.name()).join(path);
        let text = std::fs::read(&file)
            .map_err(|e| format!("{self}: cannot read {}: {e}", file.display()))?;
        if defines_function(&String::from_utf8_lossy(&text), function) {
            Ok(())
        } else {
            Err(format!(
                "{self}: {} does not define `{function}`",
                file.display()
            ))
        }
    }
}

/// Whether C source `text` defines `function`: a line that starts outside any indentation
/// names it and, after its parenthesised parameters, the body's `{` follows (a prototype
/// ends in `;` instead). Also accepts a definition through a macro whose first argument is
/// the name (`DEFINE_...(function, ...)`) at the start of a line.
pub fn defines_function(text: &str, function: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find(function).map(|p| p + from) {
        from = pos + function.len();
        let before_ok = pos == 0 || {
            let b = bytes[pos - 1];
            !(b.is_ascii_alphanumeric() || b == b'_')
        };
        let after = &text[pos + function.len()..];
        let line_start = text[..pos].rfind('\n').map_or(0, |p| p + 1);
        let at_top_level = !matches!(bytes[line_start], b' ' | b'\t' | b'#' | b'*' | b'/');
        if !(before_ok && at_top_level && after.trim_start().starts_with('(')) {
            continue;
        }
        let open = pos + function.len() + (after.len() - after.trim_start().len());
        let mut depth = 0usize;
        let mut close = None;
        for (i, b) in bytes[open..].iter().enumerate() {
            match b {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { continue };
        if text[close + 1..].trim_start().starts_with('{') {
            return true;
        }
    }
    false
}

/// How many lines above a switch read its `// cite:` comment may stand.
pub const CITE_WINDOW: usize = 4;

/// The marker of a citation comment in Rust code.
const CITE_MARKER: &str = "// cite:";

/// What [`scan_source`] finds in one Rust source file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceScan {
    /// Every `// cite:` comment: its line (1-based) and its citations, parsed.
    pub cites: Vec<(usize, Result<Vec<Citation>, BadCitation>)>,
    /// Every switch read: its line (1-based), the switch's name, and whether a `// cite:`
    /// comment stands on its line, or in the [`CITE_WINDOW`] lines above with no other line
    /// of reads between (one comment covers one line of reads).
    pub reads: Vec<SwitchRead>,
}

/// One read of a rules switch in Rust code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchRead {
    pub line: usize,
    pub switch: &'static str,
    pub cited: bool,
}

/// Scans Rust source `text` for citation comments and for reads of the switches named
/// `switches` (the field names of `Rules`): `.name` as a field access (`rules(k).name`,
/// `r.name`), or `.get(Switch::…)`. Comment lines are not code and hold no reads.
pub fn scan_source(text: &str, switches: &[&'static str]) -> SourceScan {
    let lines: Vec<&str> = text.lines().collect();
    let mut scan = SourceScan::default();
    // The last cite comment and the last line with a read: a cite above covers the first
    // line of reads after it only.
    let mut last_cite: Option<usize> = None;
    let mut last_read: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let here = cite_marker(line);
        if let Some(pos) = here {
            last_cite = Some(i);
            let list = &line[pos + CITE_MARKER.len()..];
            scan.cites.push((i + 1, Citation::parse_list(list)));
        }
        let code = without_strings(line.split("//").next().unwrap_or(""));
        let code = code.as_str();
        if code.trim().is_empty() {
            continue;
        }
        let mut found: Vec<&'static str> = switches
            .iter()
            .copied()
            .filter(|name| reads_field(code, name))
            .collect();
        if code.contains(".get(Switch::") {
            found.push("Rules::get");
        }
        if found.is_empty() {
            continue;
        }
        let cited = here.is_some()
            || last_cite.is_some_and(|c| i - c <= CITE_WINDOW && last_read.is_none_or(|r| r < c));
        last_read = Some(i);
        for switch in found {
            scan.reads.push(SwitchRead {
                line: i + 1,
                switch,
                cited,
            });
        }
    }
    scan
}

/// Where a `// cite:` comment starts on `line`: the marker outside any other comment and
/// outside a string literal.
fn cite_marker(line: &str) -> Option<usize> {
    let pos = line.find(CITE_MARKER)?;
    let before = &line[..pos];
    (!before.contains("//") && before.matches('"').count().is_multiple_of(2)).then_some(pos)
}

/// `code` with the contents of its string literals blanked (escaped quotes kept inside).
fn without_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in code.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
                out.push(c);
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

/// Whether `code` reads field `name`: `.name` not followed by an identifier character or a
/// call's `(`.
fn reads_field(code: &str, name: &str) -> bool {
    let pat = format!(".{name}");
    code.match_indices(&pat).any(|(pos, _)| {
        let after = code[pos + pat.len()..].chars().next();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '(')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove",
            "commit 3fdeae134ba9",
            "series drm/bridge: hotplug-bridge v7",
        ] {
            let c: Citation = s.parse().unwrap();
            assert_eq!(c.to_string(), s);
        }
    }

    #[test]
    fn rejects_what_is_not_a_citation() {
        for (s, why) in [
            (
                "v6.15:drivers/gpu/drm/drm_bridge.c:drm_bridge_add",
                "no tree",
            ),
            ("v7.0:/abs/drm_bridge.c:drm_bridge_add", "relative"),
            ("v7.0:../x.c:f", "relative"),
            (
                "v7.0:drivers/gpu/drm/drm_bridge.c:not-a-name",
                "C identifier",
            ),
            ("v9.9:a.c:f", "unknown release"),
            ("commit xyz", "hex"),
            ("drm_bridge_add", "release:path:function"),
        ] {
            let e = s.parse::<Citation>().unwrap_err();
            assert!(e.to_string().contains(why), "{s}: {e}");
        }
    }

    const SWITCHES: [&str; 2] = ["chain_mutex", "lingering_list"];

    #[test]
    fn a_cited_read_passes_and_an_uncited_one_is_named() {
        let text = "fn f(k: &Kernel) {\n    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove\n    if rules(k).lingering_list {}\n    let m = e.bridge_chain_mutex;\n    if r.chain_mutex { }\n}\n";
        let scan = scan_source(text, &SWITCHES);
        assert_eq!(scan.cites.len(), 1);
        assert!(scan.cites[0].1.is_ok());
        assert_eq!(
            scan.reads,
            [
                SwitchRead {
                    line: 3,
                    switch: "lingering_list",
                    cited: true
                },
                SwitchRead {
                    line: 5,
                    switch: "chain_mutex",
                    cited: false
                },
            ]
        );
    }

    #[test]
    fn a_cite_too_far_above_does_not_count_and_comments_are_not_reads() {
        let mut text = String::from("// cite: commit 17805a15d175\n");
        text.push_str(&"\n".repeat(CITE_WINDOW));
        text.push_str("let x = r.lingering_list;\n/// r.chain_mutex in a doc\nlet s = r.get(Switch::ChainMutex);\n");
        let scan = scan_source(&text, &SWITCHES);
        let uncited: Vec<_> = scan
            .reads
            .iter()
            .filter(|r| !r.cited)
            .map(|r| r.line)
            .collect();
        assert_eq!(uncited, [CITE_WINDOW + 2, CITE_WINDOW + 4]);
    }

    #[test]
    fn a_malformed_cite_comment_is_an_error() {
        let scan = scan_source(
            "// cite: drm_bridge_add\nlet x = r.chain_mutex;\n",
            &SWITCHES,
        );
        assert!(scan.cites[0].1.is_err());
    }

    #[test]
    fn finds_definitions_not_prototypes_or_calls() {
        let c = "int foo(int a);\nstatic int\nbar(struct x *y,\n    int z)\n{\n\treturn foo(1);\n}\nvoid baz(void) { }\n";
        assert!(defines_function(c, "bar"));
        assert!(defines_function(c, "baz"));
        assert!(!defines_function(c, "foo"));
        assert!(!defines_function(c, "ba"));
    }
}
