//! Source files, preprocessed buffers and the map from a position in a
//! buffer back to file:line:column plus the include chain, and the located
//! error type (a miette diagnostic).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// Index of a source file in a [`SourceMap`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FileId(pub u32);

/// Index of an include frame ("included from file:line:col").
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FrameId(pub u32);

/// Index of a token buffer (cpp output or a raw `/include/`d file).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BufId(pub u32);

/// A position in a buffer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    pub buf: BufId,
    pub off: u32,
}

pub struct SourceFile {
    /// The name as given or found (used in messages).
    pub name: String,
    pub path: Option<PathBuf>,
    pub bytes: Arc<Vec<u8>>,
    line_starts: Vec<usize>,
}

/// Where an included file was included from.
#[derive(Copy, Clone, Debug)]
pub struct Frame {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    pub parent: Option<FrameId>,
}

/// The origin of one buffer line.
#[derive(Copy, Clone, Debug)]
pub struct LineOrigin {
    pub file: FileId,
    pub line: u32,
    pub frame: Option<FrameId>,
}

pub struct Buffer {
    pub bytes: Vec<u8>,
    line_starts: Vec<usize>,
    origins: Vec<LineOrigin>,
}

impl Buffer {
    pub fn new(bytes: Vec<u8>, origins: Vec<LineOrigin>) -> Self {
        let line_starts = line_starts(&bytes);
        Buffer {
            bytes,
            line_starts,
            origins,
        }
    }
}

fn line_starts(b: &[u8]) -> Vec<usize> {
    let mut v = Vec::with_capacity(crate::cpp::count_lines(b));
    v.push(0);
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            v.push(i + 1);
        }
    }
    v
}

/// A resolved location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// Outermost last: ("a.dtsi", 3, 1) means "included from a.dtsi:3:1".
    pub included_from: Vec<(String, u32, u32)>,
}

#[derive(Default)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
    pub frames: Vec<Frame>,
    pub buffers: Vec<Buffer>,
}

impl SourceMap {
    pub fn add_file(&mut self, name: String, path: Option<PathBuf>, bytes: Vec<u8>) -> FileId {
        let ls = line_starts(&bytes);
        self.files.push(SourceFile {
            name,
            path,
            bytes: Arc::new(bytes),
            line_starts: ls,
        });
        FileId(self.files.len() as u32 - 1)
    }

    /// A file known only by name (from a cpp line marker).
    pub fn virtual_file(&mut self, name: &str) -> FileId {
        if let Some(i) = self
            .files
            .iter()
            .position(|f| f.path.is_none() && f.name == name)
        {
            return FileId(i as u32);
        }
        self.add_file(name.to_string(), None, Vec::new())
    }

    pub fn add_frame(&mut self, f: Frame) -> FrameId {
        self.frames.push(f);
        FrameId(self.frames.len() as u32 - 1)
    }

    pub fn add_buffer(&mut self, b: Buffer) -> BufId {
        self.buffers.push(b);
        BufId(self.buffers.len() as u32 - 1)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn buffer(&self, id: BufId) -> &Buffer {
        &self.buffers[id.0 as usize]
    }

    /// A raw (not preprocessed) buffer for a file, as dtc's `/include/`
    /// reads it.
    pub fn raw_buffer(&mut self, file: FileId, frame: Option<FrameId>) -> BufId {
        let bytes = self.file(file).bytes.as_ref().clone();
        let n = line_starts(&bytes).len();
        let origins = (0..n)
            .map(|i| LineOrigin {
                file,
                line: i as u32 + 1,
                frame,
            })
            .collect();
        self.add_buffer(Buffer::new(bytes, origins))
    }

    fn origin(&self, pos: Pos) -> (LineOrigin, u32) {
        let b = self.buffer(pos.buf);
        let mut off = (pos.off as usize).min(b.bytes.len());
        // The end of input after a final newline is the end of the last
        // line, not a line of its own.
        if off == b.bytes.len() && off > 0 && b.bytes[off - 1] == b'\n' {
            off -= 1;
        }
        let li = match b.line_starts.binary_search(&off) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let col = (off - b.line_starts[li]) as u32 + 1;
        let o = b.origins.get(li).copied().unwrap_or(LineOrigin {
            file: FileId(0),
            line: li as u32 + 1,
            frame: None,
        });
        (o, col)
    }

    /// (file, line, column, include frame) of a position.
    pub fn origin_info(&self, pos: Pos) -> (FileId, u32, u32, Option<FrameId>) {
        let (o, col) = self.origin(pos);
        (o.file, o.line, col, o.frame)
    }

    pub fn frame_chain(&self, mut frame: Option<FrameId>) -> Vec<(String, u32, u32)> {
        let mut v = Vec::new();
        while let Some(f) = frame {
            let fr = self.frames[f.0 as usize];
            v.push((self.file(fr.file).name.clone(), fr.line, fr.col));
            frame = fr.parent;
        }
        v
    }

    pub fn locate(&self, pos: Pos) -> Location {
        let (o, col) = self.origin(pos);
        Location {
            file: self.file(o.file).name.clone(),
            line: o.line,
            col,
            included_from: self.frame_chain(o.frame),
        }
    }

    /// Builds a located error at `pos` spanning `len` bytes.
    pub fn error(&self, pos: Pos, len: usize, kind: ErrorKind, msg: impl Into<String>) -> DtsError {
        let (o, col) = self.origin(pos);
        let f = self.file(o.file);
        let mut src = None;
        let mut span = None;
        if !f.bytes.is_empty() && (o.line as usize) <= f.line_starts.len() {
            let ls = f.line_starts[o.line as usize - 1];
            let le = f
                .line_starts
                .get(o.line as usize)
                .copied()
                .unwrap_or(f.bytes.len());
            let start = (ls + col as usize - 1).min(le);
            let l = len.max(1).min(f.bytes.len().saturating_sub(start));
            // Shown as UTF-8: invalid bytes become U+FFFD, so the span is
            // mapped into the converted text.
            let (text, [s, e]) = lossy_with_offsets(&f.bytes, [start, start + l]);
            span = Some(SourceSpan::new(s.into(), e - s));
            src = Some(NamedSource::new(f.name.clone(), text));
        }
        let chain = self.frame_chain(o.frame);
        DtsError::new(kind, msg, f.name.clone(), o.line, col, chain, src, span)
    }
}

/// `String::from_utf8_lossy` of `b`, with byte offsets into `b` mapped to
/// offsets into the result (an offset inside an invalid sequence maps to its
/// U+FFFD); a non-empty span stays non-empty.
fn lossy_with_offsets(b: &[u8], offs: [usize; 2]) -> (String, [usize; 2]) {
    let mut out = String::with_capacity(b.len());
    let mut mapped: [Option<usize>; 2] = [None; 2];
    let mut at = 0;
    for chunk in b.utf8_chunks() {
        let (v, inv) = (chunk.valid(), chunk.invalid());
        for (m, &o) in mapped.iter_mut().zip(&offs) {
            if m.is_none() && o <= at + v.len() {
                *m = Some(out.len() + (o - at));
            }
        }
        out.push_str(v);
        at += v.len();
        if !inv.is_empty() {
            for (m, &o) in mapped.iter_mut().zip(&offs) {
                if m.is_none() && o < at + inv.len() {
                    *m = Some(out.len());
                }
            }
            out.push(char::REPLACEMENT_CHARACTER);
            at += inv.len();
        }
    }
    let s = mapped[0].unwrap_or(out.len());
    let mut e = mapped[1].unwrap_or(out.len()).max(s);
    if e == s && offs[1] > offs[0] {
        if let Some(c) = out[s..].chars().next() {
            e = s + c.len_utf8();
        }
    }
    (out, [s, e])
}

/// Include chains longer than this are summarised in the help text.
const CHAIN_SHOWN: usize = 6;

/// The "included from" help: every frame, or (when long and not `full`)
/// the innermost few and counts.
fn chain_help(chain: &[(String, u32, u32)], full: bool) -> Option<String> {
    if chain.is_empty() {
        return None;
    }
    let line = |(f, l, c): &(String, u32, u32)| format!("included from {f}:{l}:{c}");
    if full || chain.len() <= CHAIN_SHOWN + 2 {
        return Some(chain.iter().map(line).collect::<Vec<_>>().join("\n"));
    }
    let mut files: Vec<&str> = Vec::new();
    for (f, _, _) in chain {
        if !files.contains(&f.as_str()) {
            files.push(f);
        }
    }
    let named = match files.len() {
        n if n <= 4 => files.join(", "),
        n => format!("{}, ... ({} more)", files[..4].join(", "), n - 4),
    };
    let mut v: Vec<String> = chain[..CHAIN_SHOWN].iter().map(line).collect();
    v.push(format!(
        "... and {} more (an include chain of {} levels through {} files: {named}; \
         --full-include-chain lists every level)",
        chain.len() - CHAIN_SHOWN,
        chain.len(),
        files.len()
    ));
    Some(v.join("\n"))
}

/// What kind of error; lets tests and callers match without parsing text.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Io,
    MissingInclude,
    Preprocessor,
    UnbalancedConditional,
    Syntax,
    UnterminatedString,
    BadLiteral,
    BadExpression,
    DivisionByZero,
    UndefinedLabel,
    DuplicateLabel,
    /// A dtc check at ERROR level (the name is in the message).
    Check(&'static str),
    /// A fixup that cannot be expressed (dtc dies).
    Fatal,
    Dtb,
    Overlay,
}

/// A located error: file, line, column, include chain and what was expected.
/// Boxed so `Result<_, DtsError>` stays small; fields are reached through
/// `Deref` (`e.kind`, `e.file`, `e.line`, `e.col`, `e.included_from`).
#[derive(Debug)]
pub struct DtsError(Box<ErrorDetails>);

/// The fields of a [`DtsError`].
#[derive(Debug)]
pub struct ErrorDetails {
    pub kind: ErrorKind,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// Innermost first: (file, line, col) of each include directive.
    pub included_from: Vec<(String, u32, u32)>,
    src: Option<NamedSource<String>>,
    span: Option<SourceSpan>,
    help: Option<String>,
}

impl std::ops::Deref for DtsError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::fmt::Display for DtsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for DtsError {}

impl Diagnostic for DtsError {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.0.span?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".to_string()), span),
        )))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

impl DtsError {
    #[allow(clippy::too_many_arguments)]
    fn new(
        kind: ErrorKind,
        msg: impl Into<String>,
        file: String,
        line: u32,
        col: u32,
        chain: Vec<(String, u32, u32)>,
        src: Option<NamedSource<String>>,
        span: Option<SourceSpan>,
    ) -> Self {
        let help = chain_help(&chain, false);
        DtsError(Box::new(ErrorDetails {
            kind,
            message: msg.into(),
            file,
            line,
            col,
            included_from: chain,
            src,
            span,
            help,
        }))
    }

    /// The same error with every level of its include chain in the help
    /// (a long chain is otherwise summarised).
    pub fn with_full_include_chain(mut self) -> Self {
        self.0.help = chain_help(&self.0.included_from, true);
        self
    }

    /// An error without a source position (I/O on the top-level file, a
    /// malformed .dtb, an overlay that does not apply).
    pub fn unlocated(kind: ErrorKind, file: impl Into<String>, msg: impl Into<String>) -> Self {
        DtsError::new(kind, msg, file.into(), 0, 0, Vec::new(), None, None)
    }
}

/// Display name for a path: as given, without normalisation.
pub fn display_name(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
