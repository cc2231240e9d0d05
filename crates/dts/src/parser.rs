//! dtc's source language (dtc-lexer.l + dtc-parser.y) as a hand-written
//! recursive-descent parser over a preprocessed buffer. `/include/` is
//! handled at the whitespace level, as dtc's lexer pushes a new input file.

use std::path::{Path, PathBuf};

use crate::source::{display_name, BufId, DtsError, ErrorKind, Frame, Pos, SourceMap};
use crate::tree::{add_label, Data, DtTree, Marker, MarkerKind, NId, Prop};

type Res<T> = Result<T, DtsError>;

/// What the parser produced: dtc's `struct dt_info`.
pub struct DtInfo {
    pub tree: DtTree,
    pub root: NId,
    pub plugin: bool,
    pub memreserve: Vec<(u64, u64)>,
}

pub struct Parser<'a> {
    pub sm: &'a mut SourceMap,
    search: &'a [PathBuf],
    stack: Vec<(BufId, usize)>,
    tree: DtTree,
    root: Option<NId>,
    header: Option<bool>,
    memreserve: Vec<(u64, u64)>,
    next_fragment: u32,
    /// Resolve no `/include/` or `/incbin/` file.
    pub no_file_access: bool,
    /// `/include/` nesting.
    inc_depth: usize,
    /// Expression and node nesting (bounded so no input overflows the stack).
    nest: usize,
}

fn is_propnode_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b",._+*#?@-".contains(&c)
}
fn is_label_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_label_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}
fn is_path_char(c: u8) -> bool {
    is_propnode_char(c) || c == b'/'
}

/// dtc's `get_escape_char()` applied over a whole string body.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' || i >= s.len() {
            out.push(c);
            continue;
        }
        let e = s[i];
        i += 1;
        let v = match e {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'0'..=b'7' => {
                let mut v: u32 = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + (s[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                v as u8
            }
            b'x' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i < s.len() && s[i].is_ascii_hexdigit() {
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap();
                    i += 1;
                    n += 1;
                }
                v as u8
            }
            other => other,
        };
        out.push(v);
    }
    out
}

impl<'a> Parser<'a> {
    pub fn new(sm: &'a mut SourceMap, buf: BufId, search: &'a [PathBuf]) -> Self {
        // Every node opens a brace: an upper bound that spares regrowing the node table.
        let braces = sm.buffers[buf.0 as usize]
            .bytes
            .iter()
            .filter(|&&c| c == b'{')
            .count();
        Parser {
            sm,
            search,
            stack: vec![(buf, 0)],
            tree: DtTree::with_capacity(braces + 1),
            root: None,
            header: None,
            memreserve: Vec::new(),
            next_fragment: 0,
            no_file_access: false,
            inc_depth: 0,
            nest: 0,
        }
    }

    // ---- low-level cursor ----

    fn bytes(&self) -> &[u8] {
        let (b, _) = *self.stack.last().unwrap();
        &self.sm.buffer(b).bytes
    }
    fn off(&self) -> usize {
        self.stack.last().unwrap().1
    }
    fn set_off(&mut self, o: usize) {
        self.stack.last_mut().unwrap().1 = o;
    }
    fn pos(&self) -> Pos {
        let (b, o) = *self.stack.last().unwrap();
        Pos {
            buf: b,
            off: o as u32,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.off()).copied()
    }
    fn peek_at(&self, k: usize) -> Option<u8> {
        self.bytes().get(self.off() + k).copied()
    }
    fn rest(&self) -> &[u8] {
        &self.bytes()[self.off().min(self.bytes().len())..]
    }
    fn err<T>(&self, pos: Pos, len: usize, kind: ErrorKind, msg: impl Into<String>) -> Res<T> {
        Err(self.sm.error(pos, len, kind, msg))
    }
    fn found(&self) -> String {
        match self.peek() {
            None => "end of input".into(),
            Some(c) if c.is_ascii_graphic() => format!("'{}'", c as char),
            Some(c) => format!("byte 0x{c:02x}"),
        }
    }

    /// Skips whitespace, comments and cpp line markers; follows
    /// `/include/`; pops finished included buffers.
    fn ws(&mut self) -> Res<()> {
        loop {
            let b = self.bytes();
            let mut o = self.off();
            loop {
                while o < b.len() && b[o].is_ascii_whitespace() {
                    o += 1;
                }
                if b[o.min(b.len())..].starts_with(b"/*") {
                    match b[o + 2..].windows(2).position(|w| w == b"*/") {
                        Some(e) => {
                            o += e + 4;
                            continue;
                        }
                        None => {
                            let p = Pos {
                                buf: self.stack.last().unwrap().0,
                                off: o as u32,
                            };
                            return self.err(
                                p,
                                2,
                                ErrorKind::Syntax,
                                "unterminated comment; expected '*/'",
                            );
                        }
                    }
                }
                if b[o.min(b.len())..].starts_with(b"//") {
                    while o < b.len() && b[o] != b'\n' {
                        o += 1;
                    }
                    continue;
                }
                // A cpp line marker left in a raw buffer: `# 12 "f"`.
                if o < b.len()
                    && b[o] == b'#'
                    && (o == 0 || b[o - 1] == b'\n')
                    && b.get(o + 1).is_some_and(|&c| c == b' ' || c == b'\t')
                {
                    while o < b.len() && b[o] != b'\n' {
                        o += 1;
                    }
                    continue;
                }
                break;
            }
            self.set_off(o);
            if self.off() >= self.bytes().len() {
                if self.stack.len() > 1 {
                    self.stack.pop();
                    self.inc_depth -= 1;
                    continue;
                }
                return Ok(());
            }
            if self.rest().starts_with(b"/include/") {
                self.include()?;
                continue;
            }
            return Ok(());
        }
    }

    /// Resolves a file for `/include/` or `/incbin/`: next to the current
    /// source file, then the `-i` search path (dtc's srcfile_relative_open).
    fn find_file(&self, name: &str) -> Option<PathBuf> {
        if self.no_file_access {
            return None;
        }
        let loc_file = {
            let (b, o) = *self.stack.last().unwrap();
            let l = self.sm.locate(Pos {
                buf: b,
                off: o as u32,
            });
            self.sm
                .files
                .iter()
                .find(|f| f.name == l.file)
                .and_then(|f| f.path.clone())
        };
        if Path::new(name).is_absolute() {
            let p = PathBuf::from(name);
            return p.is_file().then_some(p);
        }
        if let Some(dir) = loc_file.as_deref().and_then(Path::parent) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        self.search
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }

    fn include(&mut self) -> Res<()> {
        let start = self.pos();
        self.set_off(self.off() + "/include/".len());
        // Only whitespace may separate the keyword and the file name.
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.set_off(self.off() + 1);
        }
        if self.peek() != Some(b'"') {
            return self.err(
                self.pos(),
                1,
                ErrorKind::Syntax,
                format!(
                    "expected a quoted file name after /include/, found {}",
                    self.found()
                ),
            );
        }
        let (name, npos) = self.string_raw()?;
        let name = String::from_utf8_lossy(&unescape(&name)).into_owned();
        let Some(path) = self.find_file(&name) else {
            return self.err(npos, name.len() + 2, ErrorKind::MissingInclude, format!("{name}: /include/ file not found; expected it next to the including file or in a -i directory"));
        };
        if self.inc_depth >= 100 {
            return self.err(
                start,
                9,
                ErrorKind::Syntax,
                "/include/ nested too deeply (100 levels); expected no include cycle",
            );
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            self.sm.error(
                npos,
                name.len() + 2,
                ErrorKind::Io,
                format!("{}: {e}", display_name(&path)),
            )
        })?;
        let (ifile, line, col, parent) = self.sm.origin_info(start);
        let file = self.sm.add_file(display_name(&path), Some(path), bytes);
        let frame = self.sm.add_frame(Frame {
            file: ifile,
            line,
            col,
            parent,
        });
        let buf = self.sm.raw_buffer(file, Some(frame));
        self.inc_depth += 1;
        self.stack.push((buf, 0));
        Ok(())
    }

    fn kw(&mut self, k: &str) -> Res<bool> {
        self.ws()?;
        if self.rest().starts_with(k.as_bytes()) {
            self.set_off(self.off() + k.len());
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, c: u8, what: &str) -> Res<()> {
        self.ws()?;
        if self.peek() == Some(c) {
            self.set_off(self.off() + 1);
            return Ok(());
        }
        self.err(
            self.pos(),
            1,
            ErrorKind::Syntax,
            format!("expected '{}' {what}, found {}", c as char, self.found()),
        )
    }

    fn eat(&mut self, c: u8) -> Res<bool> {
        self.ws()?;
        if self.peek() == Some(c) {
            self.set_off(self.off() + 1);
            return Ok(true);
        }
        Ok(false)
    }

    /// `LABEL:` if one starts here.
    fn label(&mut self) -> Res<Option<(String, Pos)>> {
        self.ws()?;
        let r = self.rest();
        if !r.first().is_some_and(|&c| is_label_start(c)) {
            return Ok(None);
        }
        let n = r.iter().take_while(|&&c| is_label_char(c)).count();
        if r.get(n) != Some(&b':') {
            return Ok(None);
        }
        let name = String::from_utf8_lossy(&r[..n]).into_owned();
        let p = self.pos();
        self.set_off(self.off() + n + 1);
        Ok(Some((name, p)))
    }

    /// `&label`, `&{/path}` or `&{label/path}`.
    fn reference(&mut self) -> Res<Option<(String, Pos)>> {
        self.ws()?;
        if self.peek() != Some(b'&') {
            return Ok(None);
        }
        let p = self.pos();
        let r = self.rest();
        if r.get(1) == Some(&b'{') {
            let n = r[2..].iter().take_while(|&&c| is_path_char(c)).count();
            if r.get(2 + n) != Some(&b'}') {
                return self.err(
                    p,
                    2 + n,
                    ErrorKind::Syntax,
                    "unterminated path reference; expected '&{/path}'",
                );
            }
            let s = String::from_utf8_lossy(&r[2..2 + n]).into_owned();
            if s.is_empty() || !(s.starts_with('/') || is_label_start(s.as_bytes()[0])) {
                return self.err(
                    p,
                    3 + n,
                    ErrorKind::Syntax,
                    "bad path reference; expected '&{/path}' or '&{label/path}'",
                );
            }
            self.set_off(self.off() + 3 + n);
            return Ok(Some((s, p)));
        }
        if r.get(1).is_some_and(|&c| is_label_start(c)) {
            let n = r[1..].iter().take_while(|&&c| is_label_char(c)).count();
            let s = String::from_utf8_lossy(&r[1..1 + n]).into_owned();
            self.set_off(self.off() + 1 + n);
            return Ok(Some((s, p)));
        }
        Ok(None)
    }

    /// A property or node name (`\\?{PROPNODECHAR}+`).
    fn name(&mut self) -> Res<Option<(String, Pos)>> {
        self.ws()?;
        let p = self.pos();
        let r = self.rest();
        let skip = usize::from(r.first() == Some(&b'\\'));
        let n = r[skip..]
            .iter()
            .take_while(|&&c| is_propnode_char(c))
            .count();
        if n == 0 {
            return Ok(None);
        }
        let s = String::from_utf8_lossy(&r[skip..skip + n]).into_owned();
        self.set_off(self.off() + skip + n);
        Ok(Some((s, p)))
    }

    /// A string literal's raw body (escapes not yet processed).
    fn string_raw(&mut self) -> Res<(Vec<u8>, Pos)> {
        let p = self.pos();
        let r = self.rest();
        let mut i = 1;
        while i < r.len() {
            match r[i] {
                b'\\' => i += 2,
                b'"' => {
                    let body = r[1..i].to_vec();
                    self.set_off(self.off() + i + 1);
                    return Ok((body, p));
                }
                _ => i += 1,
            }
        }
        self.err(
            p,
            1,
            ErrorKind::UnterminatedString,
            "unterminated string; expected a closing '\"'",
        )
    }

    // ---- integer expressions ----

    fn literal(&mut self) -> Res<Option<u64>> {
        self.ws()?;
        let p = self.pos();
        let r = self.rest();
        if r.first() == Some(&b'\'') {
            let mut i = 1;
            while i < r.len() && r[i] != b'\'' {
                if r[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= r.len() {
                return self.err(
                    p,
                    1,
                    ErrorKind::BadLiteral,
                    "unterminated character literal; expected a closing \"'\"",
                );
            }
            let d = unescape(&r[1..i]);
            self.set_off(self.off() + i + 1);
            if d.len() != 1 {
                return self.err(
                    p,
                    i + 1,
                    ErrorKind::BadLiteral,
                    format!("character literal has {} characters instead of 1", d.len()),
                );
            }
            return Ok(Some(d[0] as u64));
        }
        if !r.first().is_some_and(u8::is_ascii_digit) {
            return Ok(None);
        }
        let n = r
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_')
            .count();
        let text = String::from_utf8_lossy(&r[..n]).into_owned();
        self.set_off(self.off() + n);
        let body = text.trim_end_matches(['U', 'L']);
        let suffix = &text[body.len()..];
        let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).map_err(|e| *e.kind())
        } else if body.len() > 1 && body.starts_with('0') {
            u64::from_str_radix(&body[1..], 8).map_err(|e| *e.kind())
        } else {
            body.parse::<u64>().map_err(|e| *e.kind())
        };
        let suffix_ok = matches!(suffix, "" | "U" | "L" | "UL" | "LL" | "ULL");
        match v {
            Ok(v) if suffix_ok => Ok(Some(v)),
            Err(std::num::IntErrorKind::PosOverflow) if suffix_ok => self.err(
                p,
                n,
                ErrorKind::BadLiteral,
                format!("integer literal '{text}' out of range"),
            ),
            _ => self.err(
                p,
                n,
                ErrorKind::BadLiteral,
                format!(
                    "bad integer literal '{text}'; expected a decimal, 0x hex or 0 octal number"
                ),
            ),
        }
    }

    /// `integer_prim`: a literal, a character literal or `( expr )`.
    fn integer_prim(&mut self) -> Res<Option<u64>> {
        if let Some(v) = self.literal()? {
            return Ok(Some(v));
        }
        if self.eat(b'(')? {
            let v = self.expr()?;
            self.expect(b')', "to close the expression")?;
            return Ok(Some(v));
        }
        Ok(None)
    }

    fn expr(&mut self) -> Res<u64> {
        self.nest += 1;
        if self.nest > 100 {
            let p = self.pos();
            return self.err(
                p,
                1,
                ErrorKind::BadExpression,
                "expression nested too deeply",
            );
        }
        let c = self.bin(0)?;
        let r = if self.eat(b'?')? {
            let a = self.expr()?;
            self.expect(b':', "in a ?: expression")?;
            let b = self.expr()?;
            if c != 0 {
                a
            } else {
                b
            }
        } else {
            c
        };
        self.nest -= 1;
        Ok(r)
    }

    fn op(&mut self, ops: &[&'static str]) -> Res<Option<(&'static str, Pos)>> {
        self.ws()?;
        let r = self.rest();
        for &o in ops {
            if r.starts_with(o.as_bytes()) {
                // Do not take '<' of '<<' or '<=', '&' of '&&', '|' of '||'.
                let next = r.get(o.len()).copied();
                if o.len() == 1 {
                    let c = o.as_bytes()[0];
                    if matches!(c, b'<' | b'>' | b'&' | b'|') && next == Some(c) {
                        continue;
                    }
                    if matches!(c, b'<' | b'>' | b'!' | b'=') && next == Some(b'=') {
                        continue;
                    }
                }
                let p = self.pos();
                self.set_off(self.off() + o.len());
                return Ok(Some((o, p)));
            }
        }
        Ok(None)
    }

    fn bin(&mut self, level: usize) -> Res<u64> {
        const L: &[&[&str]] = &[
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<=", ">=", "<", ">"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == L.len() {
            return self.unary();
        }
        let mut l = self.bin(level + 1)?;
        while let Some((o, p)) = self.op(L[level])? {
            // `&label` after '&' is a reference, not an operator.
            let r = self.bin(level + 1)?;
            l = match o {
                "||" => ((l != 0) || (r != 0)) as u64,
                "&&" => ((l != 0) && (r != 0)) as u64,
                "|" => l | r,
                "^" => l ^ r,
                "&" => l & r,
                "==" => (l == r) as u64,
                "!=" => (l != r) as u64,
                "<=" => (l <= r) as u64,
                ">=" => (l >= r) as u64,
                "<" => (l < r) as u64,
                ">" => (l > r) as u64,
                "<<" => {
                    if r < 64 {
                        l << r
                    } else {
                        0
                    }
                }
                ">>" => {
                    if r < 64 {
                        l >> r
                    } else {
                        0
                    }
                }
                "+" => l.wrapping_add(r),
                "-" => l.wrapping_sub(r),
                "*" => l.wrapping_mul(r),
                "/" | "%" => {
                    if r == 0 {
                        return self.err(
                            p,
                            1,
                            ErrorKind::DivisionByZero,
                            "division by zero in cell expression; expected a non-zero divisor",
                        );
                    }
                    if o == "/" {
                        l / r
                    } else {
                        l % r
                    }
                }
                _ => unreachable!(),
            };
        }
        Ok(l)
    }

    fn unary(&mut self) -> Res<u64> {
        if self.op(&["-"])?.is_some() {
            return Ok(self.unary()?.wrapping_neg());
        }
        if self.op(&["~"])?.is_some() {
            return Ok(!self.unary()?);
        }
        if self.op(&["!"])?.is_some() {
            return Ok((self.unary()? == 0) as u64);
        }
        match self.integer_prim()? {
            Some(v) => Ok(v),
            None => {
                let p = self.pos();
                self.err(p, 1, ErrorKind::BadExpression, format!("bad cell expression: expected a number, a character literal or '(', found {}", self.found()))
            }
        }
    }

    // ---- grammar ----

    /// `sourcefile: headers memreserves devicetree`.
    pub fn parse(mut self) -> Res<DtInfo> {
        // headers
        loop {
            self.ws()?;
            let p = self.pos();
            if self.kw("/dts-v1/")? {
                self.expect(b';', "after /dts-v1/")?;
                let mut plugin = false;
                if self.kw("/plugin/")? {
                    self.expect(b';', "after /plugin/")?;
                    plugin = true;
                }
                if let Some(h) = self.header {
                    if h != plugin {
                        return self.err(
                            p,
                            8,
                            ErrorKind::Syntax,
                            "header flags don't match earlier ones (/plugin/)",
                        );
                    }
                }
                self.header = Some(plugin);
                continue;
            }
            break;
        }
        if self.header.is_none() {
            let p = self.pos();
            return self.err(
                p,
                1,
                ErrorKind::Syntax,
                format!(
                    "expected '/dts-v1/;' at the start of the source, found {}",
                    self.found()
                ),
            );
        }
        let plugin = self.header == Some(true);
        // memreserves
        loop {
            self.ws()?;
            let save = self.off();
            while self.label()?.is_some() {}
            if self.kw("/memreserve/")? {
                let a = self.need_int("a /memreserve/ address")?;
                let s = self.need_int("a /memreserve/ size")?;
                self.expect(b';', "after /memreserve/ address size")?;
                self.memreserve.push((a, s));
                continue;
            }
            self.set_off(save);
            break;
        }
        // devicetree
        loop {
            self.ws()?;
            let p = self.pos();
            if self.peek().is_none() {
                break;
            }
            if self.rest().starts_with(b"/dts-v1/")
                || self.rest().starts_with(b"/memreserve/")
                || self.rest().starts_with(b"/plugin/")
            {
                return self.err(p, 1, ErrorKind::Syntax, "headers and /memreserve/ must come before the device tree; expected a node definition");
            }
            if self.kw("/delete-node/")? {
                let t = self.top_level_ref(p, "/delete-node/", "'&label' or '&{/path}'")?;
                self.tree.delete_node(t);
                continue;
            }
            if self.kw("/omit-if-no-ref/")? {
                let t = self.top_level_ref(p, "/omit-if-no-ref/", "'&label'")?;
                self.tree.n_mut(t).omit_if_no_ref = true;
                continue;
            }
            if self.peek() == Some(b'/') {
                self.set_off(self.off() + 1);
                let n = self.nodedef(String::new(), p)?;
                match self.root {
                    None => self.root = Some(n),
                    Some(r) => self.tree.merge_nodes(r, n),
                }
                continue;
            }
            let mut labels = Vec::new();
            while let Some(l) = self.label()? {
                labels.push(l);
            }
            self.ws()?;
            // dtc-parser.y: `&{...}` is DT_PATH_REF, `&label` DT_LABEL_REF.
            let is_path_ref = self.rest().starts_with(b"&{");
            if let Some((r, rp)) = self.reference()? {
                let relative = !r.starts_with('/') && r.contains('/');
                if plugin && relative && (is_path_ref || !labels.is_empty() || self.root.is_none())
                {
                    return self.err(
                        rp,
                        r.len() + 3,
                        ErrorKind::Syntax,
                        format!("Label-relative reference &{{{r}}} not supported in plugin; expected '&label' or '&{{/path}}'"),
                    );
                }
                let n = self.nodedef(String::new(), rp)?;
                let Some(root) = self.root else {
                    if !plugin || !labels.is_empty() {
                        return self.undefined(rp, &r);
                    }
                    let root = self.tree.new_node(String::new(), rp);
                    self.root = Some(root);
                    self.add_orphan_node(root, n, &r, rp);
                    continue;
                };
                if plugin && is_path_ref && labels.is_empty() {
                    // A path target in an overlay is always a fragment.
                    self.add_orphan_node(root, n, &r, rp);
                    continue;
                }
                match self.tree.get_node_by_ref(root, &r) {
                    Some(t) => {
                        for (l, lp) in labels.iter().rev() {
                            self.tree.add_node_label(t, l, *lp);
                        }
                        self.tree.merge_nodes(t, n);
                    }
                    None if plugin && labels.is_empty() => self.add_orphan_node(root, n, &r, rp),
                    None => return self.undefined(rp, &r),
                }
                continue;
            }
            return self.err(
                p,
                1,
                ErrorKind::Syntax,
                format!(
                    "expected a node definition ('/ {{', '&label {{' or '&{{/path}} {{'), found {}",
                    self.found()
                ),
            );
        }
        let Some(root) = self.root else {
            let p = self.pos();
            return self.err(
                p,
                1,
                ErrorKind::Syntax,
                "expected a root node '/ { ... };' before the end of input",
            );
        };
        Ok(DtInfo {
            tree: self.tree,
            root,
            plugin,
            memreserve: self.memreserve,
        })
    }

    /// The node named by the `&ref;` after a top-level `directive` (`/delete-node/ &x;`,
    /// `/omit-if-no-ref/ &x;`), which must exist.
    fn top_level_ref(&mut self, p: Pos, directive: &str, expected: &str) -> Res<NId> {
        let Some((r, rp)) = self.reference()? else {
            return self.err(
                self.pos(),
                1,
                ErrorKind::Syntax,
                format!(
                    "expected {expected} after {directive}, found {}",
                    self.found()
                ),
            );
        };
        self.expect(b';', &format!("after {directive} &ref"))?;
        let root = self.need_root(p)?;
        match self.tree.get_node_by_ref(root, &r) {
            Some(t) => Ok(t),
            None => self.undefined(rp, &r),
        }
    }

    fn need_root(&self, p: Pos) -> Res<NId> {
        match self.root {
            Some(r) => Ok(r),
            None => self.err(
                p,
                1,
                ErrorKind::Syntax,
                "expected the root node '/ { ... };' before this",
            ),
        }
    }

    fn undefined<T>(&self, p: Pos, r: &str) -> Res<T> {
        let shown = if r.starts_with('/') || r.contains('/') {
            format!("&{{{r}}}")
        } else {
            format!("&{r}")
        };
        self.err(p, shown.len(), ErrorKind::UndefinedLabel, format!("label or path {shown} not found; expected a label defined earlier or an existing node path"))
    }

    fn need_int(&mut self, what: &str) -> Res<u64> {
        match self.integer_prim()? {
            Some(v) => Ok(v),
            None => {
                let p = self.pos();
                self.err(
                    p,
                    1,
                    ErrorKind::Syntax,
                    format!(
                        "expected {what} (a number or '(' expression ')'), found {}",
                        self.found()
                    ),
                )
            }
        }
    }

    /// `add_orphan_node()`: wrap an overlay's `&ref { }` in a
    /// `fragment@N { target = <&ref>; | target-path = "..."; __overlay__ }`.
    fn add_orphan_node(&mut self, root: NId, new: NId, r: &str, rp: Pos) {
        let prop = if r.starts_with('/') {
            let mut b = r.as_bytes().to_vec();
            b.push(0);
            Prop {
                name: "target-path".into(),
                labels: Vec::new(),
                val: Data {
                    bytes: b,
                    markers: Vec::new(),
                },
                deleted: false,
                pos: rp,
            }
        } else {
            Prop {
                name: "target".into(),
                labels: Vec::new(),
                val: Data {
                    bytes: vec![0xff; 4],
                    markers: vec![Marker {
                        offset: 0,
                        kind: MarkerKind::RefPhandle(r.to_string()),
                        pos: rp,
                    }],
                },
                deleted: false,
                pos: rp,
            }
        };
        self.tree.n_mut(new).name = "__overlay__".into();
        let frag = self
            .tree
            .new_node(format!("fragment@{}", self.next_fragment), rp);
        self.next_fragment += 1;
        self.tree.n_mut(frag).props.push(prop);
        self.tree.add_child(frag, new);
        self.tree.add_child(root, frag);
    }

    /// `nodedef: '{' proplist subnodes '}' ';'`.
    fn nodedef(&mut self, name: String, pos: Pos) -> Res<NId> {
        self.nest += 1;
        if self.nest > 200 {
            return self.err(pos, 1, ErrorKind::Syntax, "nodes nested too deeply");
        }
        self.expect(b'{', "to open the node body")?;
        let node = self.tree.new_node(name, pos);
        let mut seen_subnode = false;
        loop {
            self.ws()?;
            let p = self.pos();
            if self.eat(b'}')? {
                self.expect(b';', "after '}' closing a node")?;
                break;
            }
            if self.peek().is_none() {
                return self.err(
                    p,
                    1,
                    ErrorKind::Syntax,
                    "unexpected end of input inside a node; expected '};'",
                );
            }
            if self.kw("/delete-property/")? {
                let Some((n, _)) = self.name()? else {
                    return self.err(
                        self.pos(),
                        1,
                        ErrorKind::Syntax,
                        format!(
                            "expected a property name after /delete-property/, found {}",
                            self.found()
                        ),
                    );
                };
                self.expect(b';', "after /delete-property/ name")?;
                if seen_subnode {
                    return self.err(p, 1, ErrorKind::Syntax, "Properties must precede subnodes");
                }
                self.tree.n_mut(node).props.push(Prop {
                    name: n,
                    labels: Vec::new(),
                    val: Data::default(),
                    deleted: true,
                    pos: p,
                });
                continue;
            }
            if self.kw("/delete-node/")? {
                let Some((n, np)) = self.name()? else {
                    return self.err(
                        self.pos(),
                        1,
                        ErrorKind::Syntax,
                        format!(
                            "expected a node name after /delete-node/, found {}",
                            self.found()
                        ),
                    );
                };
                self.expect(b';', "after /delete-node/ name")?;
                let c = self.tree.new_node(n, np);
                self.tree.n_mut(c).deleted = true;
                self.tree.add_child(node, c);
                seen_subnode = true;
                continue;
            }
            let mut labels: Vec<(String, Pos)> = Vec::new();
            let mut omit = false;
            loop {
                if let Some(l) = self.label()? {
                    labels.push(l);
                    continue;
                }
                if self.kw("/omit-if-no-ref/")? {
                    omit = true;
                    continue;
                }
                break;
            }
            let Some((n, np)) = self.name()? else {
                return self.err(
                    self.pos(),
                    1,
                    ErrorKind::Syntax,
                    format!(
                        "expected a property or node name, a label or '}}', found {}",
                        self.found()
                    ),
                );
            };
            self.ws()?;
            match self.peek() {
                Some(b'{') => {
                    let c = self.nodedef(n, np)?;
                    for (l, lp) in labels.iter().rev() {
                        self.tree.add_node_label(c, l, *lp);
                    }
                    self.tree.n_mut(c).omit_if_no_ref = omit;
                    self.tree.add_child(node, c);
                    seen_subnode = true;
                }
                Some(b'=') | Some(b';') => {
                    if seen_subnode {
                        return self.err(
                            np,
                            n.len(),
                            ErrorKind::Syntax,
                            "Properties must precede subnodes",
                        );
                    }
                    if omit {
                        return self.err(
                            np,
                            n.len(),
                            ErrorKind::Syntax,
                            "/omit-if-no-ref/ applies to nodes; expected a node definition",
                        );
                    }
                    let val = if self.eat(b'=')? {
                        self.propdata()?
                    } else {
                        self.set_off(self.off() + 1);
                        Data::default()
                    };
                    let mut pl = Vec::new();
                    for (l, lp) in labels.iter().rev() {
                        add_label(&mut pl, l, *lp);
                    }
                    self.tree.n_mut(node).props.push(Prop {
                        name: n,
                        labels: pl,
                        val,
                        deleted: false,
                        pos: np,
                    });
                }
                _ => {
                    return self.err(
                        self.pos(),
                        1,
                        ErrorKind::Syntax,
                        format!(
                            "expected '=', ';' or '{{' after '{n}', found {}",
                            self.found()
                        ),
                    );
                }
            }
        }
        self.nest -= 1;
        Ok(node)
    }

    /// `propdata ';'` (the '=' is consumed).
    fn propdata(&mut self) -> Res<Data> {
        let mut d = Data::default();
        loop {
            while self.value_label(&mut d)? {}
            self.ws()?;
            let p = self.pos();
            match self.peek() {
                Some(b'"') => {
                    let (raw, _) = self.string_raw()?;
                    d.bytes.extend(unescape(&raw));
                    d.bytes.push(0);
                }
                Some(b'<') => {
                    self.set_off(self.off() + 1);
                    self.cells(&mut d, 32)?;
                }
                Some(b'[') => {
                    self.set_off(self.off() + 1);
                    self.bytestring(&mut d)?;
                }
                Some(b'&') => {
                    let Some((r, rp)) = self.reference()? else {
                        return self.err(
                            p,
                            1,
                            ErrorKind::Syntax,
                            "expected '&label' or '&{/path}'",
                        );
                    };
                    d.markers.push(Marker {
                        offset: d.bytes.len(),
                        kind: MarkerKind::RefPath(r),
                        pos: rp,
                    });
                }
                _ if self.kw("/bits/")? => {
                    let bp = self.pos();
                    let bits = self.need_int("an element size after /bits/")?;
                    let bits = if matches!(bits, 8 | 16 | 32 | 64) {
                        bits as u32
                    } else {
                        return self.err(
                            bp,
                            1,
                            ErrorKind::Syntax,
                            "Array elements must be 8, 16, 32 or 64-bits",
                        );
                    };
                    self.expect(b'<', "to open the /bits/ array")?;
                    self.cells(&mut d, bits)?;
                }
                _ if self.kw("/incbin/")? => {
                    self.expect(b'(', "after /incbin/")?;
                    self.ws()?;
                    if self.peek() != Some(b'"') {
                        return self.err(
                            self.pos(),
                            1,
                            ErrorKind::Syntax,
                            "expected a quoted file name in /incbin/",
                        );
                    }
                    let (raw, np) = self.string_raw()?;
                    let name = String::from_utf8_lossy(&unescape(&raw)).into_owned();
                    let (off, len) = if self.eat(b',')? {
                        let o = self.need_int("an /incbin/ offset")?;
                        self.expect(b',', "between /incbin/ offset and length")?;
                        let l = self.need_int("an /incbin/ length")?;
                        (o, Some(l))
                    } else {
                        (0, None)
                    };
                    self.expect(b')', "to close /incbin/")?;
                    let Some(path) = self.find_file(&name) else {
                        return self.err(np, name.len() + 2, ErrorKind::MissingInclude, format!("{name}: /incbin/ file not found; expected it next to the source file or in a -i directory"));
                    };
                    let bytes = std::fs::read(&path).map_err(|e| {
                        self.sm.error(
                            np,
                            name.len() + 2,
                            ErrorKind::Io,
                            format!("{}: {e}", display_name(&path)),
                        )
                    })?;
                    let start = (off as usize).min(bytes.len());
                    let end = match len {
                        Some(l) => start.saturating_add(l as usize).min(bytes.len()),
                        None => bytes.len(),
                    };
                    if len.is_some_and(|l| start as u64 + l > bytes.len() as u64) {
                        return self.err(
                            np,
                            name.len() + 2,
                            ErrorKind::Io,
                            format!(
                                "{name}: /incbin/ range {off}+{} beyond the file's {} bytes",
                                len.unwrap_or(0),
                                bytes.len()
                            ),
                        );
                    }
                    d.bytes.extend_from_slice(&bytes[start..end]);
                }
                _ => {
                    return self.err(p, 1, ErrorKind::Syntax, format!("expected a property value (\"string\", <cells>, [bytes] or &ref), found {}", self.found()));
                }
            }
            while self.value_label(&mut d)? {}
            if self.eat(b',')? {
                continue;
            }
            self.expect(b';', "or ',' after a property value")?;
            return Ok(d);
        }
    }

    /// A label inside a property value (`"a", mid: "b"`): records a marker at the current
    /// offset. Returns whether there was one.
    fn value_label(&mut self, d: &mut Data) -> Res<bool> {
        let Some((l, lp)) = self.label()? else {
            return Ok(false);
        };
        d.markers.push(Marker {
            offset: d.bytes.len(),
            kind: MarkerKind::Label(l),
            pos: lp,
        });
        Ok(true)
    }

    fn cells(&mut self, d: &mut Data, bits: u32) -> Res<()> {
        loop {
            self.ws()?;
            let p = self.pos();
            if self.eat(b'>')? {
                return Ok(());
            }
            if self.value_label(d)? {
                continue;
            }
            if let Some((r, rp)) = self.reference()? {
                if bits != 32 {
                    return self.err(
                        rp,
                        r.len() + 1,
                        ErrorKind::Syntax,
                        "References are only allowed in arrays with 32-bit elements.",
                    );
                }
                d.markers.push(Marker {
                    offset: d.bytes.len(),
                    kind: MarkerKind::RefPhandle(r),
                    pos: rp,
                });
                d.bytes.extend_from_slice(&[0xff; 4]);
                continue;
            }
            match self.integer_prim()? {
                Some(v) => {
                    // dtc only warns ("Value ... truncated to ...") when a
                    // value does not fit the element size; it is truncated.
                    match bits {
                        8 => d.bytes.push(v as u8),
                        16 => d.bytes.extend_from_slice(&(v as u16).to_be_bytes()),
                        32 => d.bytes.extend_from_slice(&(v as u32).to_be_bytes()),
                        _ => d.bytes.extend_from_slice(&v.to_be_bytes()),
                    }
                }
                None => {
                    if self.peek().is_none() {
                        return self.err(
                            p,
                            1,
                            ErrorKind::Syntax,
                            "unexpected end of input in a cell array; expected '>'",
                        );
                    }
                    return self.err(p, 1, ErrorKind::BadExpression, format!("bad cell: expected a number, '(' expression ')', a character literal, '&ref', a label or '>', found {}", self.found()));
                }
            }
        }
    }

    fn bytestring(&mut self, d: &mut Data) -> Res<()> {
        loop {
            self.ws()?;
            let p = self.pos();
            if self.eat(b']')? {
                return Ok(());
            }
            if self.value_label(d)? {
                continue;
            }
            let (a, b) = (self.peek(), self.peek_at(1));
            match (a, b) {
                (Some(a), Some(b)) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
                    let v =
                        (a as char).to_digit(16).unwrap() * 16 + (b as char).to_digit(16).unwrap();
                    d.bytes.push(v as u8);
                    self.set_off(self.off() + 2);
                }
                _ => {
                    return self.err(
                        p,
                        1,
                        ErrorKind::Syntax,
                        format!(
                            "expected two hex digits, a label or ']' in a byte string, found {}",
                            self.found()
                        ),
                    );
                }
            }
        }
    }
}
