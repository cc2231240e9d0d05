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
    let mut v = vec![0];
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
        let off = (pos.off as usize).min(b.bytes.len());
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
            let l = len.max(1).min(f.bytes.len().saturating_sub(start)).max(0);
            span = Some(SourceSpan::new(start.into(), l));
            src = Some(NamedSource::new(
                f.name.clone(),
                String::from_utf8_lossy(&f.bytes).into_owned(),
            ));
        }
        let chain = self.frame_chain(o.frame);
        DtsError::new(kind, msg, f.name.clone(), o.line, col, chain, src, span)
    }
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
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{col}: {message}")]
pub struct DtsError {
    pub kind: ErrorKind,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// Innermost first: (file, line, col) of each include directive.
    pub included_from: Vec<(String, u32, u32)>,
    #[source_code]
    src: Option<NamedSource<String>>,
    #[label("here")]
    span: Option<SourceSpan>,
    #[help]
    help: Option<String>,
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
        let help = (!chain.is_empty()).then(|| {
            chain
                .iter()
                .map(|(f, l, c)| format!("included from {f}:{l}:{c}"))
                .collect::<Vec<_>>()
                .join("\n")
        });
        DtsError {
            kind,
            message: msg.into(),
            file,
            line,
            col,
            included_from: chain,
            src,
            span,
            help,
        }
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
