//! The C-preprocessor subset the kernel's DTS build uses
//! (`cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp`): `#include`,
//! object- and function-like `#define` (with `#` and `##`), `#undef`,
//! `#if/#ifdef/#ifndef/#elif/#else/#endif` with integer expressions and
//! `defined`, line continuations, comments and line markers.
//!
//! As in assembler-with-cpp mode, a line starting with `#` that is not a
//! directive (`#address-cells = <1>;`) passes through unchanged.
//!
//! The output keeps one output line per input line (directives become empty
//! lines), so every output line maps back to a file line; columns are exact
//! on lines without macro expansion.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::source::{
    display_name, BufId, Buffer, DtsError, ErrorKind, FileId, Frame, FrameId, LineOrigin, Pos,
    SourceMap,
};

#[derive(Clone, Debug)]
struct Macro {
    params: Option<Vec<Vec<u8>>>,
    variadic: bool,
    body: Vec<Tok>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TK {
    Ident,
    Number,
    Str,
    Char,
    Ws,
    Punct,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: TK,
    text: Rc<[u8]>,
    hide: Rc<Vec<Rc<[u8]>>>,
}

impl Tok {
    fn new(kind: TK, text: &[u8]) -> Self {
        Tok {
            kind,
            text: Rc::from(text),
            hide: Rc::new(Vec::new()),
        }
    }
    fn is(&self, s: &[u8]) -> bool {
        &*self.text == s
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The kind and end of the token starting at `i` (`i < s.len()`).
fn next_token(s: &[u8], mut i: usize) -> (TK, usize) {
    let c = s[i];
    let kind = if c == b' ' || c == b'\t' || c == b'\r' || c == b'\x0c' || c == b'\x0b' {
        while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b') {
            i += 1;
        }
        TK::Ws
    } else if is_ident_start(c) {
        while i < s.len() && is_ident(s[i]) {
            i += 1;
        }
        TK::Ident
    } else if c.is_ascii_digit() || (c == b'.' && s.get(i + 1).is_some_and(u8::is_ascii_digit)) {
        i += 1;
        while i < s.len() {
            let d = s[i];
            let exp_sign =
                matches!(d, b'+' | b'-') && matches!(s[i - 1], b'e' | b'E' | b'p' | b'P');
            if exp_sign || is_ident(d) || d == b'.' {
                i += 1;
            } else {
                break;
            }
        }
        TK::Number
    } else if c == b'"' || c == b'\'' {
        let mut j = i + 1;
        let mut closed = false;
        while j < s.len() {
            if s[j] == b'\\' {
                j += 2;
                continue;
            }
            if s[j] == c {
                closed = true;
                j += 1;
                break;
            }
            j += 1;
        }
        if closed {
            i = j.min(s.len());
            if c == b'"' {
                TK::Str
            } else {
                TK::Char
            }
        } else {
            i += 1;
            TK::Punct
        }
    } else {
        // `##` is one token (the paste operator).
        i += if c == b'#' && s.get(i + 1) == Some(&b'#') {
            2
        } else {
            1
        };
        TK::Punct
    };
    (kind, i)
}

/// The number of lines of `b` (its newlines, plus one).
pub(crate) fn count_lines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count() + 1
}

fn tokenize(s: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let (kind, end) = next_token(s, i);
        out.push(Tok::new(kind, &s[i..end]));
        i = end;
    }
    out
}

/// The identifier tokens of a line, without allocating.
fn idents(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < s.len() {
            let (kind, end) = next_token(s, i);
            let start = std::mem::replace(&mut i, end);
            if kind == TK::Ident {
                return Some(&s[start..end]);
            }
        }
        None
    })
}

/// Preprocessor options.
#[derive(Clone, Debug, Default)]
pub struct CppOptions {
    /// `-I` directories, searched in order.
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME=VALUE` definitions (in addition to `__DTS__`).
    pub defines: Vec<(String, String)>,
    /// Resolve no include at all.
    pub no_file_access: bool,
}

/// `#include` nesting beyond this is reported (an include cycle).
const MAX_INCLUDE_DEPTH: usize = 200;

/// What [`Cpp::process_file`] tracks through one file.
struct FileState {
    file: FileId,
    frame: Option<FrameId>,
    cur_path: Option<PathBuf>,
    conds: Vec<Cond>,
    /// Logical file and line (line markers change them): logical line =
    /// physical line + `lline_base`.
    lfile: FileId,
    lline_base: i64,
    /// Text carried over for a function-like macro call spanning lines.
    pending: Vec<u8>,
    pending_origin: Option<LineOrigin>,
    pending_lines: usize,
}

impl FileState {
    /// A located error on logical line `l`.
    fn err(
        &self,
        sm: &mut SourceMap,
        l: &Logical,
        col: u32,
        len: usize,
        kind: ErrorKind,
        msg: String,
    ) -> DtsError {
        err_at(
            sm,
            l.origin.file,
            l.origin.line,
            col,
            self.frame,
            len,
            kind,
            msg,
        )
    }

    /// Opens a conditional group whose condition is `v`.
    fn push_cond(&mut self, v: bool, parent_active: bool, o: LineOrigin) {
        self.conds.push(Cond {
            active: parent_active && v,
            taken: v,
            seen_else: false,
            parent_active,
            pos: (o.file, o.line, self.frame),
        });
    }
}

/// A logical line: physical lines joined by `\` continuations, comments
/// blanked.
struct Logical<'l> {
    text: &'l [u8],
    origin: LineOrigin,
    phys_line: u32,
    /// Physical lines it took.
    consumed: usize,
    /// It is the file's last.
    last: bool,
}

/// A line starting with `#`, split into the directive name and the rest.
struct Directive<'l> {
    name: &'l [u8],
    /// After the name.
    after: &'l [u8],
    /// After the `#` and blanks (the name onwards).
    rest: &'l [u8],
    /// Column of the `#`.
    hash_col: u32,
    /// Column just after the name.
    name_end_col: u32,
}

impl<'l> Directive<'l> {
    fn parse(line: &'l [u8], hash: usize) -> Self {
        let rest = &line[hash + 1..];
        let ns = rest
            .iter()
            .position(|&c| c != b' ' && c != b'\t')
            .unwrap_or(rest.len());
        let rest = &rest[ns..];
        let name_len = rest.iter().take_while(|&&c| is_ident(c)).count();
        Directive {
            name: &rest[..name_len],
            after: &rest[name_len..],
            rest,
            hash_col: (hash + 1) as u32,
            name_end_col: (hash + 1 + ns + name_len) as u32 + 1,
        }
    }

    /// `# 12 "file"`.
    fn is_line_marker(&self) -> bool {
        !self.name.is_empty() && self.name.iter().all(u8::is_ascii_digit)
    }

    fn is_conditional(&self) -> bool {
        matches!(
            self.name,
            b"if" | b"ifdef" | b"ifndef" | b"elif" | b"else" | b"endif"
        )
    }

    /// A directive cpp acts on; anything else (`#address-cells`) is text.
    fn known(&self) -> bool {
        self.is_line_marker()
            || matches!(
                self.name,
                b"include"
                    | b"define"
                    | b"undef"
                    | b"if"
                    | b"ifdef"
                    | b"ifndef"
                    | b"elif"
                    | b"else"
                    | b"endif"
                    | b"line"
                    | b"error"
                    | b"warning"
                    | b"pragma"
                    | b"include_next"
                    | b"ident"
            ) && self.after.first().is_none_or(|&c| !is_prop_char(c))
    }
}

/// Joins `lines[0]` with the lines its trailing `\` continues onto;
/// returns the text and how many lines it took.
fn join_continuations<'l>(lines: &[&'l [u8]]) -> (Cow<'l, [u8]>, usize) {
    if !lines[0].ends_with(b"\\") && !lines[0].ends_with(b"\\\r") {
        return (Cow::Borrowed(lines[0]), 1);
    }
    let mut raw = lines[0].to_vec();
    let mut consumed = 1;
    while raw.last() == Some(&b'\\') || raw.ends_with(b"\\\r") {
        while raw.last() != Some(&b'\\') {
            raw.pop();
        }
        raw.pop();
        if consumed < lines.len() {
            raw.extend_from_slice(lines[consumed]);
            consumed += 1;
        } else {
            break;
        }
    }
    (Cow::Owned(raw), consumed)
}

struct Cond {
    /// This group is being emitted.
    active: bool,
    /// Some earlier branch of this #if was taken.
    taken: bool,
    seen_else: bool,
    parent_active: bool,
    pos: (FileId, u32, Option<FrameId>),
}

pub struct Cpp<'a> {
    sm: &'a mut SourceMap,
    opts: &'a CppOptions,
    macros: HashMap<Rc<[u8]>, Macro>,
    out: Vec<u8>,
    origins: Vec<LineOrigin>,
    /// Where each output line's text starts, to locate errors while the
    /// buffer is being built.
    depth: usize,
    /// Tokens left to produce by macro expansion in this run; a macro bomb
    /// is reported instead of exhausting memory.
    budget: std::cell::Cell<u64>,
    /// Current expansion nesting (arguments expanded inside expansions).
    exp_depth: std::cell::Cell<usize>,
}

/// Error from the preprocessor located by (file, line, column) rather than
/// a buffer position; converted through a one-line scratch buffer.
#[allow(clippy::too_many_arguments)]
fn err_at(
    sm: &mut SourceMap,
    file: FileId,
    line: u32,
    col: u32,
    frame: Option<FrameId>,
    len: usize,
    kind: ErrorKind,
    msg: String,
) -> DtsError {
    let mut pad = vec![b' '; col.saturating_sub(1) as usize];
    pad.push(b'\n');
    let b = sm.add_buffer(Buffer::new(pad, vec![LineOrigin { file, line, frame }]));
    sm.error(
        Pos {
            buf: b,
            off: col.saturating_sub(1),
        },
        len,
        kind,
        msg,
    )
}

impl<'a> Cpp<'a> {
    pub fn new(sm: &'a mut SourceMap, opts: &'a CppOptions) -> Self {
        let mut macros = HashMap::new();
        macros.insert(
            Rc::from(&b"__DTS__"[..]),
            Macro {
                params: None,
                variadic: false,
                body: tokenize(b"1"),
            },
        );
        for (k, v) in &opts.defines {
            macros.insert(
                Rc::from(k.as_bytes()),
                Macro {
                    params: None,
                    variadic: false,
                    body: tokenize(v.as_bytes()),
                },
            );
        }
        Cpp {
            sm,
            opts,
            macros,
            out: Vec::new(),
            origins: Vec::new(),
            depth: 0,
            budget: std::cell::Cell::new(5_000_000),
            exp_depth: std::cell::Cell::new(0),
        }
    }

    /// Preprocesses `file` into a new buffer.
    pub fn run(mut self, file: FileId) -> Result<BufId, DtsError> {
        // The output is about the size of the input: reserving it once saves the copies
        // (and the fresh pages) of doubling a buffer of tens of megabytes.
        let input = &self.sm.files[file.0 as usize].bytes;
        self.out.reserve(input.len() + input.len() / 8);
        self.origins.reserve(count_lines(input));
        self.process_file(file, None)?;
        let buf = Buffer::new(
            std::mem::take(&mut self.out),
            std::mem::take(&mut self.origins),
        );
        Ok(self.sm.add_buffer(buf))
    }

    fn emit(&mut self, text: &[u8], o: LineOrigin) {
        self.out.extend_from_slice(text);
        self.out.push(b'\n');
        self.origins.push(o);
    }

    fn resolve_include(&self, name: &str, quoted: bool, cur: Option<&Path>) -> Option<PathBuf> {
        if self.opts.no_file_access {
            return None;
        }
        if quoted {
            if let Some(dir) = cur.and_then(Path::parent) {
                let p = dir.join(name);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
        if Path::new(name).is_absolute() {
            let p = PathBuf::from(name);
            return p.is_file().then_some(p);
        }
        self.opts
            .include_dirs
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }

    /// Preprocesses one file (and, recursively, its includes) into the
    /// output: logical lines (continuations joined, comments blanked) go to
    /// [`Cpp::directive`] or [`Cpp::text_line`].
    fn process_file(&mut self, file: FileId, frame: Option<FrameId>) -> Result<(), DtsError> {
        self.depth += 1;
        if self.depth > MAX_INCLUDE_DEPTH {
            return Err(err_at(
                self.sm,
                file,
                1,
                1,
                frame,
                1,
                ErrorKind::Preprocessor,
                format!(
                    "#include nested too deeply ({MAX_INCLUDE_DEPTH} levels); expected no include cycle"
                ),
            ));
        }
        let bytes = self.sm.file(file).bytes.clone();
        let mut lines: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
        // The trailing empty piece after a final newline (or of an empty
        // file) is not a line.
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        // Output grows by about the input (one output line per input line).
        self.out.reserve(bytes.len() + 1);
        self.origins.reserve(lines.len());
        let mut st = FileState {
            file,
            frame,
            cur_path: self.sm.file(file).path.clone(),
            conds: Vec::new(),
            lfile: file,
            lline_base: 0,
            pending: Vec::new(),
            pending_origin: None,
            pending_lines: 0,
        };
        let mut in_comment = false;
        let mut i = 0usize;
        while i < lines.len() {
            let phys_line = i as u32 + 1;
            let (raw, consumed) = join_continuations(&lines[i..]);
            i += consumed;
            let origin = LineOrigin {
                file: st.lfile,
                line: (phys_line as i64 + st.lline_base).max(1) as u32,
                frame,
            };
            let line = strip_comments(&raw, &mut in_comment);
            let active = st.conds.last().is_none_or(|c| c.active);
            let l = Logical {
                text: &line,
                origin,
                phys_line,
                consumed,
                last: i >= lines.len(),
            };
            let hash = line.iter().position(|&c| c != b' ' && c != b'\t');
            let hash = hash.filter(|&h| st.pending_lines == 0 && line[h] == b'#');
            if let Some(h) = hash {
                let d = Directive::parse(&line, h);
                if d.known() && (active || d.is_conditional()) {
                    self.blank_lines(consumed, origin);
                    self.directive(&mut st, &l, &d, active)?;
                    continue;
                }
            }
            if !active {
                self.blank_lines(consumed, origin);
            } else if hash.is_some() {
                // Not a directive (`#address-cells = <1>;`): passed through.
                self.emit(&line, origin);
                self.blank_lines(consumed - 1, origin);
            } else {
                self.text_line(&mut st, &l)?;
            }
        }
        self.end_of_file(st, in_comment)?;
        self.depth -= 1;
        Ok(())
    }

    /// `n` empty output lines (one per input line a directive took).
    fn blank_lines(&mut self, n: usize, o: LineOrigin) {
        for _ in 0..n {
            self.emit(b"", o);
        }
    }

    /// A directive in an active group, or a conditional anywhere. Its
    /// lines have been emitted blank.
    fn directive(
        &mut self,
        st: &mut FileState,
        l: &Logical,
        d: &Directive,
        active: bool,
    ) -> Result<(), DtsError> {
        match d.name {
            b"ifdef" | b"ifndef" => self.ifdef(st, l, d, active),
            b"if" => {
                let v = active && self.condition(st, l, d)?;
                st.push_cond(v, active, l.origin);
                Ok(())
            }
            b"elif" | b"else" => self.elif_else(st, l, d),
            b"endif" => match st.conds.pop() {
                Some(_) => Ok(()),
                None => Err(st.err(
                    self.sm,
                    l,
                    d.hash_col,
                    6,
                    ErrorKind::UnbalancedConditional,
                    "#endif without #if".into(),
                )),
            },
            b"define" => self
                .define(d.after)
                .map_err(|m| st.err(self.sm, l, d.name_end_col, 1, ErrorKind::Preprocessor, m)),
            b"undef" => {
                if let Some(id) = first_ident(d.after) {
                    self.macros.remove(id);
                }
                Ok(())
            }
            b"include" | b"include_next" => self.include(st, l, d),
            b"error" => Err(st.err(
                self.sm,
                l,
                d.hash_col,
                l.text.len() + 1 - d.hash_col as usize,
                ErrorKind::Preprocessor,
                format!("#error{}", String::from_utf8_lossy(d.after)),
            )),
            _ if d.is_line_marker() || d.name == b"line" => self.line_marker(st, l, d),
            // #warning, #pragma, #ident: no effect on the output.
            _ => Ok(()),
        }
    }

    /// An `#if`/`#elif` condition, evaluated.
    fn condition(&mut self, st: &FileState, l: &Logical, d: &Directive) -> Result<bool, DtsError> {
        let r = self.eval_if(d.after);
        r.map_err(|(k, m)| st.err(self.sm, l, d.name_end_col, 1, k, m))
    }

    /// `#ifdef NAME` / `#ifndef NAME`.
    fn ifdef(
        &mut self,
        st: &mut FileState,
        l: &Logical,
        d: &Directive,
        active: bool,
    ) -> Result<(), DtsError> {
        let Some(id) = first_ident(d.after) else {
            return Err(st.err(
                self.sm,
                l,
                d.name_end_col,
                1,
                ErrorKind::Preprocessor,
                format!(
                    "#{} without a macro name; expected an identifier",
                    String::from_utf8_lossy(d.name)
                ),
            ));
        };
        let def = self.macros.contains_key(id);
        let v = if d.name == b"ifdef" { def } else { !def };
        st.push_cond(v, active, l.origin);
        Ok(())
    }

    /// `#elif EXPR` / `#else`.
    fn elif_else(
        &mut self,
        st: &mut FileState,
        l: &Logical,
        d: &Directive,
    ) -> Result<(), DtsError> {
        let unbalanced = |sm: &mut SourceMap, msg: String| {
            st.err(
                sm,
                l,
                d.hash_col,
                d.name.len() + 1,
                ErrorKind::UnbalancedConditional,
                msg,
            )
        };
        let name = String::from_utf8_lossy(d.name);
        let Some(c) = st.conds.last() else {
            return Err(unbalanced(self.sm, format!("#{name} without #if")));
        };
        if c.seen_else {
            return Err(unbalanced(
                self.sm,
                format!("#{name} after #else; expected #endif"),
            ));
        }
        let (pa, taken) = (c.parent_active, c.taken);
        let v = if d.name == b"else" {
            !taken
        } else {
            pa && !taken && self.condition(st, l, d)?
        };
        let c = st.conds.last_mut().unwrap();
        c.active = pa && v;
        c.taken |= v;
        c.seen_else = d.name == b"else";
        Ok(())
    }

    /// `#include "FILE"` / `#include <FILE>`: the included file's lines
    /// replace the directive's blank line.
    fn include(&mut self, st: &mut FileState, l: &Logical, d: &Directive) -> Result<(), DtsError> {
        let t = trim(d.after);
        let (quoted, fname) = match t.first() {
            Some(b'"') => (true, t[1..].split(|&c| c == b'"').next().unwrap_or(b"")),
            Some(b'<') => (false, t[1..].split(|&c| c == b'>').next().unwrap_or(b"")),
            _ => {
                return Err(st.err(
                    self.sm,
                    l,
                    d.name_end_col,
                    1,
                    ErrorKind::Preprocessor,
                    "#include expects \"FILENAME\" or <FILENAME>".into(),
                ))
            }
        };
        let fname = String::from_utf8_lossy(fname).into_owned();
        let fcol = d.name_end_col + (d.after.len() - t.len()) as u32;
        let Some(p) = self.resolve_include(&fname, quoted, st.cur_path.as_deref()) else {
            let dirs = if self.opts.include_dirs.is_empty() {
                "none given".to_string()
            } else {
                let d: Vec<String> = self
                    .opts
                    .include_dirs
                    .iter()
                    .map(|d| display_name(d))
                    .collect();
                d.join(", ")
            };
            return Err(st.err(
                self.sm,
                l,
                fcol,
                fname.len() + 2,
                ErrorKind::MissingInclude,
                format!(
                    "{fname}: include file not found; expected it {}in one of the -I directories ({dirs})",
                    if quoted { "next to the including file or " } else { "" },
                ),
            ));
        };
        let bytes = std::fs::read(&p).map_err(|e| {
            st.err(
                self.sm,
                l,
                fcol,
                fname.len() + 2,
                ErrorKind::Io,
                format!("{}: {e}", display_name(&p)),
            )
        })?;
        let fid = self.sm.add_file(display_name(&p), Some(p), bytes);
        let fr = self.sm.add_frame(Frame {
            file: l.origin.file,
            line: l.origin.line,
            col: d.hash_col,
            parent: st.frame,
        });
        // The included lines replace the last blank line emitted for the
        // directive.
        self.out.pop();
        self.origins.pop();
        self.process_file(fid, Some(fr))?;
        self.emit(b"", l.origin);
        Ok(())
    }

    /// `# LINE "FILE" FLAGS` or `#line LINE "FILE"`: renumbers what follows.
    fn line_marker(
        &mut self,
        st: &mut FileState,
        l: &Logical,
        d: &Directive,
    ) -> Result<(), DtsError> {
        let t = if d.is_line_marker() {
            d.rest
        } else {
            trim(d.after)
        };
        let Some((n, fname)) = parse_line_marker(t) else {
            return Err(st.err(
                self.sm,
                l,
                d.hash_col,
                l.text.len() + 1 - d.hash_col as usize,
                ErrorKind::Syntax,
                "malformed line marker; expected # LINE \"FILE\" [FLAGS]".into(),
            ));
        };
        if let Some(f) = fname {
            st.lfile = self.sm.virtual_file(&f);
        }
        // The next physical line has number n.
        st.lline_base = n as i64 - (l.phys_line as i64 + l.consumed as i64);
        Ok(())
    }

    /// A text line in an active group: macro-expanded, or held while a
    /// function-like macro call continues on the next lines.
    fn text_line(&mut self, st: &mut FileState, l: &Logical) -> Result<(), DtsError> {
        let joined;
        let (text, o): (&[u8], LineOrigin) = if st.pending_lines > 0 {
            let mut t = std::mem::take(&mut st.pending);
            t.push(b' ');
            t.extend_from_slice(l.text);
            joined = t;
            (&joined, st.pending_origin.unwrap())
        } else {
            (l.text, l.origin)
        };
        let expanded = self.expand_line(text, l.last);
        if self.budget.get() == 0 {
            return Err(err_at(
                self.sm,
                o.file,
                o.line,
                1,
                st.frame,
                1,
                ErrorKind::Preprocessor,
                "macro expansion produces more than 5 million tokens; expected a non-recursive expansion".into(),
            ));
        }
        match expanded {
            Some(exp) => {
                self.emit(&exp, o);
                self.blank_lines(st.pending_lines + l.consumed - 1, o);
                st.pending_lines = 0;
                st.pending_origin = None;
            }
            None => {
                st.pending = text.to_vec();
                st.pending_origin = Some(o);
                st.pending_lines += l.consumed;
            }
        }
        Ok(())
    }

    /// Flushes a macro call left open and checks that conditionals and
    /// comments are closed.
    fn end_of_file(&mut self, mut st: FileState, in_comment: bool) -> Result<(), DtsError> {
        if st.pending_lines > 0 {
            let o = st.pending_origin.unwrap();
            let exp = self
                .expand_line(&st.pending, true)
                .map(Cow::into_owned)
                .unwrap_or_default();
            self.emit(&exp, o);
            self.blank_lines(st.pending_lines - 1, o);
        }
        if let Some(c) = st.conds.pop() {
            let (f, l, fr) = c.pos;
            return Err(err_at(
                self.sm,
                f,
                l,
                1,
                fr,
                3,
                ErrorKind::UnbalancedConditional,
                "unterminated conditional; expected #endif before the end of the file".into(),
            ));
        }
        if in_comment {
            let f = self.sm.file(st.file);
            let last = f.bytes.iter().filter(|&&c| c == b'\n').count() as u32 + 1;
            return Err(err_at(
                self.sm,
                st.file,
                last,
                1,
                st.frame,
                1,
                ErrorKind::Syntax,
                "unterminated comment; expected */".into(),
            ));
        }
        Ok(())
    }

    fn define(&mut self, after: &[u8]) -> Result<(), String> {
        let t = trim_start(after);
        let nl = t.iter().take_while(|&&c| is_ident(c)).count();
        if nl == 0 || !is_ident_start(t[0]) {
            return Err("macro names must be identifiers".into());
        }
        let name: Rc<[u8]> = Rc::from(&t[..nl]);
        let rest = &t[nl..];
        let (params, variadic, body) = if rest.first() == Some(&b'(') {
            let close = rest
                .iter()
                .position(|&c| c == b')')
                .ok_or("missing ')' in macro parameter list")?;
            let mut params = Vec::new();
            let mut variadic = false;
            for p in rest[1..close].split(|&c| c == b',') {
                let p = trim(p);
                if p.is_empty() {
                    continue;
                }
                if p == b"..." {
                    variadic = true;
                    params.push(b"__VA_ARGS__".to_vec());
                } else {
                    params.push(p.to_vec());
                }
            }
            (Some(params), variadic, &rest[close + 1..])
        } else {
            (None, false, rest)
        };
        let body = tokenize(trim(body));
        self.macros.insert(
            name,
            Macro {
                params,
                variadic,
                body,
            },
        );
        Ok(())
    }

    /// Expands macros in a line. None: a function-like macro call is not
    /// closed on this line (and more lines follow).
    fn expand_line<'l>(&self, line: &'l [u8], last: bool) -> Option<Cow<'l, [u8]>> {
        // Fast path: no identifier in the line names a macro.
        if !idents(line).any(|id| self.macros.contains_key(id)) {
            return Some(Cow::Borrowed(line));
        }
        match self.expand(tokenize(line), last) {
            Ok(v) => {
                let mut out = Vec::with_capacity(line.len());
                for t in v {
                    out.extend_from_slice(&t.text);
                }
                Some(Cow::Owned(out))
            }
            Err(()) => None,
        }
    }

    /// Prosser's algorithm with hide sets. Err(()) = unterminated call.
    fn expand(&self, input: Vec<Tok>, last: bool) -> Result<Vec<Tok>, ()> {
        let mut input: std::collections::VecDeque<Tok> = input.into();
        let mut out = Vec::new();
        if self.exp_depth.get() > 100 {
            return Ok(input.into());
        }
        self.exp_depth.set(self.exp_depth.get() + 1);
        let r = self.expand_inner(&mut input, &mut out, last);
        self.exp_depth.set(self.exp_depth.get() - 1);
        r.map(|()| out)
    }

    fn expand_inner(
        &self,
        input: &mut std::collections::VecDeque<Tok>,
        out: &mut Vec<Tok>,
        last: bool,
    ) -> Result<(), ()> {
        while let Some(t) = input.pop_front() {
            let b = self.budget.get();
            if b == 0 {
                // Runaway expansion: stop expanding (reported by the caller).
                out.push(t);
                out.extend(input.drain(..));
                break;
            }
            self.budget.set(b - 1);
            if t.kind != TK::Ident || t.hide.iter().any(|h| **h == *t.text) {
                out.push(t);
                continue;
            }
            let Some(m) = self.macros.get(&t.text) else {
                out.push(t);
                continue;
            };
            let mut hs = (*t.hide).clone();
            hs.push(t.text.clone());
            let hs = Rc::new(hs);
            match &m.params {
                None => {
                    for b in m.body.iter().rev() {
                        let mut b = b.clone();
                        b.hide = union(&b.hide, &hs);
                        input.push_front(b);
                    }
                }
                Some(params) => {
                    // Look for '(' after optional whitespace.
                    let mut j = 0;
                    while j < input.len() && input[j].kind == TK::Ws {
                        j += 1;
                    }
                    if j >= input.len() {
                        if last {
                            out.push(t);
                            continue;
                        }
                        // Could be a call continued on the next line.
                        return Err(());
                    }
                    if !input[j].is(b"(") {
                        out.push(t);
                        continue;
                    }
                    let mut args: Vec<Vec<Tok>> = vec![Vec::new()];
                    let mut depth = 0;
                    let mut k = j + 1;
                    let mut closed = false;
                    while k < input.len() {
                        let a = &input[k];
                        if a.is(b"(") {
                            depth += 1;
                        } else if a.is(b")") {
                            if depth == 0 {
                                closed = true;
                                break;
                            }
                            depth -= 1;
                        } else if a.is(b",")
                            && depth == 0
                            && !(m.variadic && args.len() == params.len())
                        {
                            args.push(Vec::new());
                            k += 1;
                            continue;
                        }
                        args.last_mut().unwrap().push(a.clone());
                        k += 1;
                    }
                    if !closed {
                        if last {
                            out.push(t);
                            continue;
                        }
                        return Err(());
                    }
                    input.drain(..=k);
                    if params.is_empty()
                        && args.len() == 1
                        && args[0].iter().all(|a| a.kind == TK::Ws)
                    {
                        args.clear();
                    }
                    let body = self.substitute(m, params, &args, last)?;
                    for b in body.into_iter().rev() {
                        let mut b = b;
                        b.hide = union(&b.hide, &hs);
                        input.push_front(b);
                    }
                }
            }
        }
        Ok(())
    }

    fn substitute(
        &self,
        m: &Macro,
        params: &[Vec<u8>],
        args: &[Vec<Tok>],
        last: bool,
    ) -> Result<Vec<Tok>, ()> {
        let arg_of = |t: &Tok| -> Option<usize> {
            if t.kind != TK::Ident {
                return None;
            }
            params.iter().position(|p| **p == *t.text)
        };
        let empty = Vec::new();
        let body = &m.body;
        let mut out: Vec<Tok> = Vec::new();
        let mut i = 0;
        let next_nonws = |from: usize| (from..body.len()).find(|&x| body[x].kind != TK::Ws);
        while i < body.len() {
            let t = &body[i];
            if t.is(b"#") {
                if let Some(n) = next_nonws(i + 1) {
                    if let Some(a) = arg_of(&body[n]) {
                        let s = stringify(args.get(a).unwrap_or(&empty));
                        out.push(Tok::new(TK::Str, &s));
                        i = n + 1;
                        continue;
                    }
                }
            }
            if let Some(a) = arg_of(t) {
                let arg = args.get(a).unwrap_or(&empty);
                let prev_paste = out
                    .iter()
                    .rev()
                    .find(|x| x.kind != TK::Ws)
                    .is_some_and(|x| x.is(b"##"));
                let next_paste = next_nonws(i + 1).is_some_and(|n| body[n].is(b"##"));
                if prev_paste || next_paste {
                    out.extend(arg.iter().cloned());
                    if arg.is_empty() {
                        out.push(Tok::new(TK::Ws, b""));
                    }
                } else {
                    out.extend(self.expand(arg.clone(), last)?);
                }
                i += 1;
                continue;
            }
            out.push(t.clone());
            i += 1;
        }
        // Token pasting.
        let mut res: Vec<Tok> = Vec::new();
        let mut i = 0;
        while i < out.len() {
            if out[i].is(b"##") {
                while res
                    .last()
                    .is_some_and(|x| x.kind == TK::Ws && !x.text.is_empty())
                {
                    res.pop();
                }
                let mut j = i + 1;
                while j < out.len() && out[j].kind == TK::Ws && !out[j].text.is_empty() {
                    j += 1;
                }
                let left = res.pop().map(|x| x.text.to_vec()).unwrap_or_default();
                let right = out.get(j).map(|x| x.text.to_vec()).unwrap_or_default();
                let mut joined = left;
                joined.extend_from_slice(&right);
                let mut toks = tokenize(&joined);
                if toks.len() != 1 {
                    toks = vec![Tok::new(TK::Punct, &joined)];
                }
                res.extend(toks);
                i = j + 1;
                continue;
            }
            res.push(out[i].clone());
            i += 1;
        }
        Ok(res)
    }

    /// Evaluates a `#if`/`#elif` expression.
    fn eval_if(&self, expr: &[u8]) -> Result<bool, (ErrorKind, String)> {
        // Replace `defined X` / `defined(X)` before expansion.
        let toks = tokenize(expr);
        let mut pre = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if toks[i].is(b"defined") {
                let mut j = i + 1;
                while j < toks.len() && toks[j].kind == TK::Ws {
                    j += 1;
                }
                let paren = toks.get(j).is_some_and(|t| t.is(b"("));
                if paren {
                    j += 1;
                    while j < toks.len() && toks[j].kind == TK::Ws {
                        j += 1;
                    }
                }
                let Some(id) = toks.get(j).filter(|t| t.kind == TK::Ident) else {
                    return Err((
                        ErrorKind::BadExpression,
                        "operator \"defined\" requires an identifier".into(),
                    ));
                };
                let v = self.macros.contains_key(&id.text);
                j += 1;
                if paren {
                    while j < toks.len() && toks[j].kind == TK::Ws {
                        j += 1;
                    }
                    if !toks.get(j).is_some_and(|t| t.is(b")")) {
                        return Err((
                            ErrorKind::BadExpression,
                            "missing ')' after \"defined\"".into(),
                        ));
                    }
                    j += 1;
                }
                pre.push(Tok::new(TK::Number, if v { b"1" } else { b"0" }));
                i = j;
                continue;
            }
            pre.push(toks[i].clone());
            i += 1;
        }
        let exp = self.expand(pre, true).unwrap_or_default();
        let toks: Vec<Tok> = exp.into_iter().filter(|t| t.kind != TK::Ws).collect();
        let mut p = IfExpr { t: &toks, i: 0 };
        let v = p.ternary()?;
        if p.i != toks.len() {
            return Err((
                ErrorKind::BadExpression,
                format!(
                    "unexpected '{}' in #if expression; expected an operator or end of line",
                    String::from_utf8_lossy(&toks[p.i].text)
                ),
            ));
        }
        Ok(v != 0)
    }
}

fn is_prop_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b",._+*#?@-".contains(&c)
}

fn union(a: &Rc<Vec<Rc<[u8]>>>, b: &Rc<Vec<Rc<[u8]>>>) -> Rc<Vec<Rc<[u8]>>> {
    if a.is_empty() {
        return b.clone();
    }
    let mut v = (**a).clone();
    for x in b.iter() {
        if !v.contains(x) {
            v.push(x.clone());
        }
    }
    Rc::new(v)
}

fn stringify(arg: &[Tok]) -> Vec<u8> {
    let mut s = vec![b'"'];
    let mut prev_ws = true;
    for t in arg {
        if t.kind == TK::Ws {
            if !prev_ws {
                s.push(b' ');
            }
            prev_ws = true;
            continue;
        }
        prev_ws = false;
        for &c in t.text.iter() {
            if (t.kind == TK::Str || t.kind == TK::Char) && (c == b'"' || c == b'\\') {
                s.push(b'\\');
            }
            s.push(c);
        }
    }
    while s.last() == Some(&b' ') {
        s.pop();
    }
    s.push(b'"');
    s
}

fn trim_start(s: &[u8]) -> &[u8] {
    let i = s
        .iter()
        .position(|&c| !c.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[i..]
}

fn trim(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    let e = s
        .iter()
        .rposition(|&c| !c.is_ascii_whitespace())
        .map_or(0, |e| e + 1);
    &s[..e]
}

fn first_ident(s: &[u8]) -> Option<&[u8]> {
    let s = trim_start(s);
    let n = s.iter().take_while(|&&c| is_ident(c)).count();
    (n > 0 && is_ident_start(s[0])).then(|| &s[..n])
}

/// `N "file" flags...` → (N, Some(file)).
fn parse_line_marker(t: &[u8]) -> Option<(u32, Option<String>)> {
    let t = trim_start(t);
    let n = t.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let num: u32 = std::str::from_utf8(&t[..n]).ok()?.parse().ok()?;
    let rest = trim_start(&t[n..]);
    if rest.is_empty() {
        return Some((num, None));
    }
    if rest[0] != b'"' {
        return None;
    }
    let mut end = 1;
    while end < rest.len() && rest[end] != b'"' {
        if rest[end] == b'\\' {
            end += 1;
        }
        end += 1;
    }
    if end >= rest.len() {
        return None;
    }
    // dtc unescapes the name and refuses a NUL in it (nul-in-line-info*).
    let name = crate::parser::unescape(&rest[1..end]);
    if name.contains(&0) {
        return None;
    }
    let name = &name[..];
    let flags = &rest[end + 1..];
    if !flags
        .iter()
        .all(|&c| c.is_ascii_digit() || c == b' ' || c == b'\t' || c == b'\r')
    {
        return None;
    }
    Some((num, Some(String::from_utf8_lossy(name).into_owned())))
}

/// Replaces comments by spaces (keeping columns), honouring string and
/// character literals. `in_comment` carries a `/* */` across lines.
fn strip_comments<'l>(line: &'l [u8], in_comment: &mut bool) -> Cow<'l, [u8]> {
    if !*in_comment && !line.contains(&b'/') {
        return Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if *in_comment {
            if line[i] == b'*' && line.get(i + 1) == Some(&b'/') {
                *in_comment = false;
                out.extend_from_slice(b"  ");
                i += 2;
            } else {
                out.push(b' ');
                i += 1;
            }
            continue;
        }
        let c = line[i];
        if c == b'/' && line.get(i + 1) == Some(&b'*') {
            *in_comment = true;
            out.extend_from_slice(b"  ");
            i += 2;
            continue;
        }
        if c == b'/' && line.get(i + 1) == Some(&b'/') {
            break;
        }
        if c == b'"' {
            // Copy the string literal verbatim (dts strings may not close
            // on this line; then copy the rest).
            let mut j = i + 1;
            while j < line.len() && line[j] != b'"' {
                if line[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let e = (j + 1).min(line.len());
            out.extend_from_slice(&line[i..e]);
            i = e;
            continue;
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(out)
}

struct IfExpr<'t> {
    t: &'t [Tok],
    i: usize,
}

type R = Result<i64, (ErrorKind, String)>;

impl IfExpr<'_> {
    fn peek(&self) -> Option<&[u8]> {
        self.t.get(self.i).map(|t| &*t.text)
    }
    fn eat(&mut self, s: &[u8]) -> bool {
        // Two-char operators arrive as two punct tokens.
        let n = s.len();
        if n == 1 {
            if self.peek() == Some(s) {
                // Do not split "&&", "||", "<<", ">>", "<=", ">=", "==", "!=".
                let next = self.t.get(self.i + 1).map(|t| &*t.text);
                let two = [s[0], next.and_then(|x| x.first().copied()).unwrap_or(0)];
                if matches!(
                    &two,
                    b"&&" | b"||" | b"<<" | b">>" | b"<=" | b">=" | b"==" | b"!="
                ) && !matches!(s, b"!")
                {
                    return false;
                }
                if s == b"!" && next == Some(b"=") {
                    return false;
                }
                self.i += 1;
                return true;
            }
            return false;
        }
        if self.peek() == Some(&s[..1]) && self.t.get(self.i + 1).map(|t| &*t.text) == Some(&s[1..])
        {
            self.i += 2;
            return true;
        }
        false
    }
    fn ternary(&mut self) -> R {
        let c = self.binary(0)?;
        if self.eat(b"?") {
            let a = self.ternary()?;
            if !self.eat(b":") {
                return Err((
                    ErrorKind::BadExpression,
                    "expected ':' in #if expression".into(),
                ));
            }
            let b = self.ternary()?;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }
    fn binary(&mut self, level: usize) -> R {
        const LEVELS: &[&[&[u8]]] = &[
            &[b"||"],
            &[b"&&"],
            &[b"|"],
            &[b"^"],
            &[b"&"],
            &[b"==", b"!="],
            &[b"<=", b">=", b"<", b">"],
            &[b"<<", b">>"],
            &[b"+", b"-"],
            &[b"*", b"/", b"%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut l = self.binary(level + 1)?;
        'outer: loop {
            for &op in LEVELS[level] {
                if self.eat(op) {
                    let r = self.binary(level + 1)?;
                    l = match op {
                        b"||" => ((l != 0) || (r != 0)) as i64,
                        b"&&" => ((l != 0) && (r != 0)) as i64,
                        b"|" => l | r,
                        b"^" => l ^ r,
                        b"&" => l & r,
                        b"==" => (l == r) as i64,
                        b"!=" => (l != r) as i64,
                        b"<=" => (l <= r) as i64,
                        b">=" => (l >= r) as i64,
                        b"<" => (l < r) as i64,
                        b">" => (l > r) as i64,
                        b"<<" => l.wrapping_shl(r as u32),
                        b">>" => l.wrapping_shr(r as u32),
                        b"+" => l.wrapping_add(r),
                        b"-" => l.wrapping_sub(r),
                        b"*" => l.wrapping_mul(r),
                        b"/" | b"%" => {
                            if r == 0 {
                                return Err((
                                    ErrorKind::DivisionByZero,
                                    "division by zero in #if".into(),
                                ));
                            }
                            if op == b"/" {
                                l.wrapping_div(r)
                            } else {
                                l.wrapping_rem(r)
                            }
                        }
                        _ => unreachable!(),
                    };
                    continue 'outer;
                }
            }
            return Ok(l);
        }
    }
    fn unary(&mut self) -> R {
        if self.eat(b"-") {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.eat(b"+") {
            return self.unary();
        }
        if self.eat(b"~") {
            return Ok(!self.unary()?);
        }
        if self.eat(b"!") {
            return Ok((self.unary()? == 0) as i64);
        }
        if self.eat(b"(") {
            let v = self.ternary()?;
            if !self.eat(b")") {
                return Err((
                    ErrorKind::BadExpression,
                    "expected ')' in #if expression".into(),
                ));
            }
            return Ok(v);
        }
        let Some(t) = self.t.get(self.i) else {
            return Err((
                ErrorKind::BadExpression,
                "#if expression ends early; expected a value".into(),
            ));
        };
        self.i += 1;
        match t.kind {
            TK::Ident => Ok(0),
            TK::Number => {
                let s = String::from_utf8_lossy(&t.text).to_ascii_lowercase();
                let s = s.trim_end_matches(['u', 'l']);
                let v = if let Some(h) = s.strip_prefix("0x") {
                    u64::from_str_radix(h, 16)
                } else if s.len() > 1 && s.starts_with('0') {
                    u64::from_str_radix(&s[1..], 8)
                } else {
                    s.parse::<u64>()
                };
                v.map(|v| v as i64).map_err(|_| {
                    (
                        ErrorKind::BadLiteral,
                        format!(
                            "invalid integer '{}' in #if",
                            String::from_utf8_lossy(&t.text)
                        ),
                    )
                })
            }
            TK::Char => {
                let inner = &t.text[1..t.text.len() - 1];
                Ok(crate::parser::unescape(inner).first().copied().unwrap_or(0) as i64)
            }
            _ => Err((
                ErrorKind::BadExpression,
                format!(
                    "unexpected '{}' in #if expression; expected a value",
                    String::from_utf8_lossy(&t.text)
                ),
            )),
        }
    }
}
