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

fn tokenize(s: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let start = i;
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
        } else if c.is_ascii_digit() || (c == b'.' && s.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            i += 1;
            while i < s.len() {
                let d = s[i];
                if matches!(d, b'+' | b'-') && matches!(s[i - 1], b'e' | b'E' | b'p' | b'P') {
                    i += 1;
                } else if is_ident(d) || d == b'.' {
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
            i += 1;
            TK::Punct
        };
        out.push(Tok::new(kind, &s[start..i]));
    }
    out
}

/// Preprocessor options.
#[derive(Clone, Debug, Default)]
pub struct CppOptions {
    /// `-I` directories, searched in order.
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME=VALUE` definitions (in addition to `__DTS__`).
    pub defines: Vec<(String, String)>,
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
}

/// Error from the preprocessor located by (file, line, column) rather than
/// a buffer position; converted through a one-line scratch buffer.
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
        }
    }

    /// Preprocesses `file` into a new buffer.
    pub fn run(mut self, file: FileId) -> Result<BufId, DtsError> {
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

    fn process_file(&mut self, file: FileId, frame: Option<FrameId>) -> Result<(), DtsError> {
        self.depth += 1;
        if self.depth > 200 {
            return Err(err_at(
                self.sm,
                file,
                1,
                1,
                frame,
                1,
                ErrorKind::Preprocessor,
                "#include nested too deeply (200 levels); expected no include cycle".into(),
            ));
        }
        let bytes = self.sm.file(file).bytes.clone();
        let cur_path = self.sm.file(file).path.clone();
        let lines: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
        // The trailing empty piece after a final newline is not a line.
        let nlines = if bytes.last() == Some(&b'\n') {
            lines.len() - 1
        } else {
            lines.len()
        };
        let mut conds: Vec<Cond> = Vec::new();
        let mut in_comment = false;
        // Logical file/line (changed by line markers).
        let mut lfile = file;
        let mut lline_base: i64 = 0; // logical line = physical + base
        let mut pending: Vec<u8> = Vec::new(); // text carried over for a multi-line macro call
        let mut pending_origin: Option<LineOrigin> = None;
        let mut pending_lines = 0usize;
        let mut i = 0usize;
        while i < nlines {
            let phys_line = i as u32 + 1;
            // Join continuation lines.
            let mut raw: Vec<u8> = lines[i].to_vec();
            let mut consumed = 1;
            while raw.last() == Some(&b'\\') || raw.ends_with(b"\\\r") {
                while raw.last() != Some(&b'\\') {
                    raw.pop();
                }
                raw.pop();
                if i + consumed < nlines {
                    raw.extend_from_slice(lines[i + consumed]);
                    consumed += 1;
                } else {
                    break;
                }
            }
            i += consumed;
            let origin = LineOrigin {
                file: lfile,
                line: (phys_line as i64 + lline_base).max(1) as u32,
                frame,
            };
            let line = strip_comments(&raw, &mut in_comment);
            let active = conds.last().is_none_or(|c| c.active);
            let trimmed_start = line.iter().position(|&c| c != b' ' && c != b'\t');
            let is_directive_line =
                !pending_lines.ne(&0) && trimmed_start.is_some_and(|s| line[s] == b'#');
            let mut handled = false;
            if is_directive_line {
                let s = trimmed_start.unwrap();
                let rest = &line[s + 1..];
                let ns = rest
                    .iter()
                    .position(|&c| c != b' ' && c != b'\t')
                    .unwrap_or(rest.len());
                let rest = &rest[ns..];
                let name_len = rest.iter().take_while(|&&c| is_ident(c)).count();
                let name = &rest[..name_len];
                let after = &rest[name_len..];
                let dcol = (s + 1 + ns + name_len) as u32 + 1;
                let at = |sm: &mut SourceMap, col: u32, len: usize, kind, msg: String| {
                    err_at(sm, origin.file, origin.line, col, frame, len, kind, msg)
                };
                let is_marker = !name.is_empty() && name.iter().all(u8::is_ascii_digit);
                let known = is_marker
                    || matches!(
                        name,
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
                    ) && after.first().is_none_or(|&c| !is_prop_char(c));
                let name_is_cond = matches!(
                    name,
                    b"if" | b"ifdef" | b"ifndef" | b"elif" | b"else" | b"endif"
                );
                if known && (active || name_is_cond) {
                    handled = true;
                    self.emit(b"", origin);
                    for _ in 1..consumed {
                        self.emit(b"", origin);
                    }
                    match name {
                        b"ifdef" | b"ifndef" => {
                            let id = first_ident(after);
                            let Some(id) = id else {
                                return Err(at(
                                    self.sm,
                                    dcol,
                                    1,
                                    ErrorKind::Preprocessor,
                                    format!(
                                        "#{} without a macro name; expected an identifier",
                                        String::from_utf8_lossy(name)
                                    ),
                                ));
                            };
                            let def = self.macros.contains_key(id);
                            let v = if name == b"ifdef" { def } else { !def };
                            conds.push(Cond {
                                active: active && v,
                                taken: v,
                                seen_else: false,
                                parent_active: active,
                                pos: (origin.file, origin.line, frame),
                            });
                        }
                        b"if" => {
                            let v = if active {
                                self.eval_if(after)
                                    .map_err(|(k, m)| at(self.sm, dcol, 1, k, m))?
                            } else {
                                false
                            };
                            conds.push(Cond {
                                active: active && v,
                                taken: v,
                                seen_else: false,
                                parent_active: active,
                                pos: (origin.file, origin.line, frame),
                            });
                        }
                        b"elif" | b"else" => {
                            let Some(c) = conds.last() else {
                                return Err(at(
                                    self.sm,
                                    (s + 1) as u32,
                                    name.len() + 1,
                                    ErrorKind::UnbalancedConditional,
                                    format!("#{} without #if", String::from_utf8_lossy(name)),
                                ));
                            };
                            if c.seen_else {
                                return Err(at(
                                    self.sm,
                                    (s + 1) as u32,
                                    name.len() + 1,
                                    ErrorKind::UnbalancedConditional,
                                    format!(
                                        "#{} after #else; expected #endif",
                                        String::from_utf8_lossy(name)
                                    ),
                                ));
                            }
                            let (pa, taken) = (c.parent_active, c.taken);
                            let v = if name == b"else" {
                                !taken
                            } else if pa && !taken {
                                self.eval_if(after)
                                    .map_err(|(k, m)| at(self.sm, dcol, 1, k, m))?
                            } else {
                                false
                            };
                            let c = conds.last_mut().unwrap();
                            c.active = pa && v;
                            c.taken |= v;
                            c.seen_else = name == b"else";
                        }
                        b"endif" => {
                            if conds.pop().is_none() {
                                return Err(at(
                                    self.sm,
                                    (s + 1) as u32,
                                    6,
                                    ErrorKind::UnbalancedConditional,
                                    "#endif without #if".into(),
                                ));
                            }
                        }
                        b"define" => self
                            .define(after)
                            .map_err(|m| at(self.sm, dcol, 1, ErrorKind::Preprocessor, m))?,
                        b"undef" => {
                            if let Some(id) = first_ident(after) {
                                self.macros.remove(id);
                            }
                        }
                        b"include" | b"include_next" => {
                            let t = trim(after);
                            let (quoted, fname) = match t.first() {
                                Some(b'"') => {
                                    (true, t[1..].split(|&c| c == b'"').next().unwrap_or(b""))
                                }
                                Some(b'<') => {
                                    (false, t[1..].split(|&c| c == b'>').next().unwrap_or(b""))
                                }
                                _ => {
                                    return Err(at(
                                        self.sm,
                                        dcol,
                                        1,
                                        ErrorKind::Preprocessor,
                                        "#include expects \"FILENAME\" or <FILENAME>".into(),
                                    ))
                                }
                            };
                            let fname = String::from_utf8_lossy(fname).into_owned();
                            let fcol = dcol + (after.len() - t.len()) as u32;
                            let Some(p) = self.resolve_include(&fname, quoted, cur_path.as_deref())
                            else {
                                return Err(at(
                                    self.sm,
                                    fcol,
                                    fname.len() + 2,
                                    ErrorKind::MissingInclude,
                                    format!(
                                        "{fname}: include file not found; expected it {}in one of the -I directories ({})",
                                        if quoted { "next to the including file or " } else { "" },
                                        self.opts.include_dirs.iter().map(|d| display_name(d)).collect::<Vec<_>>().join(", ")
                                    ),
                                ));
                            };
                            let bytes = std::fs::read(&p).map_err(|e| {
                                at(
                                    self.sm,
                                    fcol,
                                    fname.len() + 2,
                                    ErrorKind::Io,
                                    format!("{}: {e}", display_name(&p)),
                                )
                            })?;
                            let fid = self.sm.add_file(display_name(&p), Some(p), bytes);
                            let fr = self.sm.add_frame(Frame {
                                file: origin.file,
                                line: origin.line,
                                col: (s + 1) as u32,
                                parent: frame,
                            });
                            // The include replaces the blank line emitted above.
                            self.out.pop();
                            self.origins.pop();
                            self.process_file(fid, Some(fr))?;
                            self.emit(b"", origin);
                        }
                        b"error" => {
                            return Err(at(
                                self.sm,
                                (s + 1) as u32,
                                line.len() - s,
                                ErrorKind::Preprocessor,
                                format!("#error{}", String::from_utf8_lossy(after)),
                            ));
                        }
                        b"line" | _ if is_marker || name == b"line" => {
                            let t = if is_marker { rest } else { trim(after) };
                            match parse_line_marker(t) {
                                Some((n, fname)) => {
                                    if let Some(f) = fname {
                                        lfile = self.sm.virtual_file(&f);
                                    }
                                    // The next physical line has number n.
                                    lline_base = n as i64 - (phys_line as i64 + consumed as i64);
                                }
                                None => {
                                    return Err(at(
                                        self.sm,
                                        (s + 1) as u32,
                                        line.len() - s,
                                        ErrorKind::Syntax,
                                        "malformed line marker; expected # LINE \"FILE\" [FLAGS]"
                                            .into(),
                                    ))
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            if handled {
                continue;
            }
            if !active {
                for _ in 0..consumed {
                    self.emit(b"", origin);
                }
                continue;
            }
            // A text line (or a pass-through '#' line).
            if is_directive_line {
                self.emit(&line, origin);
                for _ in 1..consumed {
                    self.emit(b"", origin);
                }
                continue;
            }
            let (text, o) = if pending_lines > 0 {
                pending.push(b' ');
                pending.extend_from_slice(&line);
                (std::mem::take(&mut pending), pending_origin.unwrap())
            } else {
                (line, origin)
            };
            match self.expand_line(&text, i >= nlines) {
                Some(exp) => {
                    self.emit(&exp, o);
                    for _ in 1..(pending_lines + consumed) {
                        self.emit(b"", o);
                    }
                    pending_lines = 0;
                    pending_origin = None;
                }
                None => {
                    pending = text;
                    pending_origin = Some(o);
                    pending_lines += consumed;
                }
            }
        }
        if pending_lines > 0 {
            let o = pending_origin.unwrap();
            let exp = self.expand_line(&pending, true).unwrap_or_default();
            self.emit(&exp, o);
            for _ in 1..pending_lines {
                self.emit(b"", o);
            }
        }
        if let Some(c) = conds.pop() {
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
            let f = self.sm.file(file);
            let last = f.bytes.iter().filter(|&&c| c == b'\n').count() as u32 + 1;
            return Err(err_at(
                self.sm,
                file,
                last,
                1,
                frame,
                1,
                ErrorKind::Syntax,
                "unterminated comment; expected */".into(),
            ));
        }
        self.depth -= 1;
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
    fn expand_line(&self, line: &[u8], last: bool) -> Option<Vec<u8>> {
        // Fast path: no identifier in the line names a macro.
        let toks = tokenize(line);
        if !toks
            .iter()
            .any(|t| t.kind == TK::Ident && self.macros.contains_key(&t.text))
        {
            return Some(line.to_vec());
        }
        match self.expand(toks, last) {
            Ok(v) => {
                let mut out = Vec::with_capacity(line.len());
                for t in v {
                    out.extend_from_slice(&t.text);
                }
                Some(out)
            }
            Err(()) => None,
        }
    }

    /// Prosser's algorithm with hide sets. Err(()) = unterminated call.
    fn expand(&self, input: Vec<Tok>, last: bool) -> Result<Vec<Tok>, ()> {
        let mut input: std::collections::VecDeque<Tok> = input.into();
        let mut out = Vec::new();
        let mut steps = 0usize;
        while let Some(t) = input.pop_front() {
            steps += 1;
            if steps > 1_000_000 {
                // Runaway expansion: stop expanding.
                out.push(t);
                out.extend(input);
                break;
            }
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
        Ok(out)
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
fn strip_comments(line: &[u8], in_comment: &mut bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    if !*in_comment && !line.contains(&b'/') {
        return line.to_vec();
    }
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
    out
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
