//! One C file parsed with tree-sitter-c, turned into what the audit reads: the functions as
//! structured statements ([`Stmt`]), the struct definitions, the initialised ops and driver
//! structs, the compatible strings, and every construct the parser could not read.
//!
//! No preprocessor runs: kernel macros are read as calls, and two macro shapes that are not C
//! are recognised by their parse: `scoped_guard(...) { ... }` and the `*for_each*(...) { ... }`
//! loops, which tree-sitter reads as a call statement with a missing `;` followed by a block.
//! Anything else the grammar rejects is kept as an [`Unrecognised`] with its line.

use std::collections::BTreeMap;

use serde::Serialize;
use tree_sitter::{Node, Parser};

use crate::vocab::{classify, Class};

/// A call in a function body.
#[derive(Clone, Debug, Serialize)]
pub struct CallSite {
    /// The callee as written (`drm_bridge_enter`); for `guard(mutex)(&l)` it is `guard`.
    pub name: String,
    pub line: u32,
    /// The argument texts, whitespace collapsed.
    pub args: Vec<String>,
    /// `x` in `x = f(...)` or `T *x = f(...)` (the left side as written).
    pub assigned_to: Option<String>,
    /// The function named by `__free(fn)` on the declaration that holds the result.
    pub free_attr: Option<String>,
    /// Whether the call is the value of a `return`.
    pub returned: bool,
    #[serde(skip)]
    pub class: Class,
}

/// What a condition tests, when the audit needs to know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cond {
    /// `drm_bridge_enter(...)`: `then_entered` is true for `if (drm_bridge_enter())`, false
    /// for `if (!drm_bridge_enter())`.
    Enter { then_entered: bool },
    /// A null or error test of a variable (`!x`, `IS_ERR(x)`, `x == NULL`, `x`): in the then
    /// branch the variable `is_null` (or an error) when the flag is true.
    Null { var: String, then_null: bool },
    /// Anything else: both branches are possible.
    Other,
}

/// A statement, with only what the audit reads.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "stmt")]
pub enum Stmt {
    Call(CallSite),
    /// `lhs = rhs` where rhs is a plain variable (a pointer handed on).
    Store {
        line: u32,
        lhs: String,
        rhs: String,
    },
    /// `lhs = value` where the value is not a variable or a call: a constant (`0`,
    /// `-EINVAL`) or any other expression ([`Val::Unknown`]).
    Set {
        line: u32,
        lhs: String,
        value: Val,
    },
    /// A local declared with `__free(func)`: `func` runs on it at the end of its scope.
    Cleanup {
        line: u32,
        var: String,
        func: String,
    },
    If {
        line: u32,
        cond: Cond,
        then: Vec<Stmt>,
        #[serde(rename = "else")]
        els: Vec<Stmt>,
    },
    /// A loop or a `for_each` macro: the body runs zero or more times.
    Loop {
        line: u32,
        body: Vec<Stmt>,
    },
    /// `scoped_guard(...) { body }`: the body runs once, under the lock.
    Scoped {
        line: u32,
        body: Vec<Stmt>,
    },
    /// A switch: one of the cases runs, or none without a default.
    Switch {
        line: u32,
        cases: Vec<Vec<Stmt>>,
        has_default: bool,
    },
    Return {
        line: u32,
        value: Ret,
    },
    Goto {
        line: u32,
        label: String,
    },
    Label {
        line: u32,
        name: String,
    },
    Break {
        line: u32,
    },
    Continue {
        line: u32,
    },
}

/// A value the path walk tracks in a local (to correlate `ret = -EINVAL; ... if (ret)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Val {
    Zero,
    Error,
    Unknown,
}

/// What a `return` returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ret {
    /// `return;`
    Void,
    /// `return 0;`
    Zero,
    /// A negative errno, `dev_err_probe()`, `PTR_ERR()`, `ERR_PTR()`.
    Error,
    /// A variable or other expression, as written.
    Value(String),
}

/// A function definition.
#[derive(Clone, Debug, Serialize)]
pub struct Function {
    pub name: String,
    pub line: u32,
    pub is_static: bool,
    pub body: Vec<Stmt>,
}

/// A struct member of a struct definition.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub name: String,
    /// The type as written, without the member name (`struct drm_bridge *`).
    pub ty: String,
    pub line: u32,
}

/// `static const struct T var = { .member = value, ... }`.
#[derive(Clone, Debug, Serialize)]
pub struct Initialised {
    pub ty: String,
    pub var: String,
    pub line: u32,
    /// Designated members whose value is an identifier (`.attach = foo_attach`), nested
    /// initialisers flattened (`.driver.of_match_table`).
    pub members: Vec<(String, String, u32)>,
    /// `.compatible = "..."` strings anywhere in the initialiser.
    pub compatibles: Vec<String>,
}

/// A construct the parser could not read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Unrecognised {
    pub line: u32,
    pub what: String,
}

/// A parsed file.
#[derive(Debug, Default)]
pub struct CFile {
    pub functions: BTreeMap<String, Function>,
    pub structs: BTreeMap<String, (u32, Vec<Member>)>,
    pub initialised: Vec<Initialised>,
    pub unrecognised: Vec<Unrecognised>,
}

/// Parse C source text.
pub fn parse(src: &str) -> CFile {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_c::LANGUAGE.into())
        .expect("the tree-sitter-c grammar matches the tree-sitter library");
    let mut out = CFile::default();
    let Some(tree) = parser.parse(src, None) else {
        out.unrecognised.push(Unrecognised {
            line: 1,
            what: "the parser gave up on this file".into(),
        });
        return out;
    };
    let root = tree.root_node();
    // First the names of the functions defined here, so calls to them classify as internal.
    let mut defined = Vec::new();
    collect_function_names(root, src, &mut defined);
    let b = Builder {
        src,
        defined: &defined,
    };
    b.top(root, &mut out);
    out.unrecognised.sort_by_key(|u| u.line);
    out.unrecognised.dedup();
    out
}

fn line(n: Node) -> u32 {
    n.start_position().row as u32 + 1
}

fn collect_function_names(n: Node, src: &str, out: &mut Vec<String>) {
    let mut c = n.walk();
    for ch in n.named_children(&mut c) {
        match ch.kind() {
            "function_definition" => {
                if let Some(name) = function_name(ch, src) {
                    out.push(name);
                }
            }
            "preproc_if" | "preproc_ifdef" | "preproc_else" | "preproc_elif" => {
                collect_function_names(ch, src, out)
            }
            _ => {}
        }
    }
}

/// The declared name of a function definition.
fn function_name(f: Node, src: &str) -> Option<String> {
    let mut d = f.child_by_field_name("declarator")?;
    loop {
        match d.kind() {
            "function_declarator" => {
                let id = d.child_by_field_name("declarator")?;
                return (id.kind() == "identifier").then(|| text(id, src).to_string());
            }
            _ => d = d.child_by_field_name("declarator")?,
        }
    }
}

fn text<'s>(n: Node, src: &'s str) -> &'s str {
    &src[n.byte_range()]
}

/// Whitespace collapsed, for argument texts.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Macros that take a type as an argument (read as an ERROR node by the C grammar).
const TYPE_MACROS: &[&str] = &[
    "container_of",
    "container_of_const",
    "devm_drm_bridge_alloc",
    "devm_drm_panel_alloc",
    "devm_drm_dev_alloc",
    "drmm_encoder_alloc",
    "offsetof",
    "list_entry",
    "list_first_entry",
    "list_last_entry",
    "list_first_entry_or_null",
    "list_last_entry_or_null",
    "hlist_entry",
    "sizeof_field",
    "typeof",
    "DEFINE_FREE",
    "va_arg",
];

struct Builder<'a> {
    src: &'a str,
    defined: &'a [String],
}

impl Builder<'_> {
    fn top(&self, n: Node, out: &mut CFile) {
        let mut c = n.walk();
        for ch in n.named_children(&mut c) {
            match ch.kind() {
                "function_definition" => {
                    if let Some(name) = function_name(ch, self.src) {
                        let is_static = text(ch, self.src).trim_start().starts_with("static");
                        let mut body = Vec::new();
                        if let Some(b) = ch.child_by_field_name("body") {
                            self.block(b, &mut body, out);
                        }
                        out.functions.insert(
                            name.clone(),
                            Function {
                                name,
                                line: line(ch),
                                is_static,
                                body,
                            },
                        );
                    } else {
                        self.unrecognised(ch, "a function definition whose name is not read", out);
                    }
                }
                "declaration" => self.declaration(ch, out),
                "struct_specifier" => self.struct_def(ch, out),
                "type_definition" => {
                    if let Some(t) = ch.child_by_field_name("type") {
                        if t.kind() == "struct_specifier" {
                            self.struct_def(t, out);
                        }
                    }
                }
                "preproc_if" | "preproc_ifdef" | "preproc_else" | "preproc_elif" => {
                    self.top(ch, out)
                }
                "ERROR" => self.unrecognised(ch, "top-level text the C grammar rejects", out),
                _ => {}
            }
        }
    }

    fn unrecognised(&self, n: Node, why: &str, out: &mut CFile) {
        let t: String = squash(text(n, self.src)).chars().take(60).collect();
        out.unrecognised.push(Unrecognised {
            line: line(n),
            what: format!("{why}: `{t}`"),
        });
    }

    fn struct_def(&self, s: Node, out: &mut CFile) {
        let (Some(name), Some(body)) =
            (s.child_by_field_name("name"), s.child_by_field_name("body"))
        else {
            return;
        };
        let mut members = Vec::new();
        let mut c = body.walk();
        for f in body.named_children(&mut c) {
            if f.kind() != "field_declaration" {
                continue;
            }
            let Some(ty) = f.child_by_field_name("type") else {
                continue;
            };
            let mut dc = f.walk();
            for d in f.children_by_field_name("declarator", &mut dc) {
                let (id, ptrs) = declarator_name(d, self.src);
                if let Some(id) = id {
                    members.push(Member {
                        name: id,
                        ty: format!("{}{}", squash(text(ty, self.src)), " *".repeat(ptrs)),
                        line: line(f),
                    });
                }
            }
        }
        out.structs
            .insert(text(name, self.src).to_string(), (line(s), members));
    }

    fn declaration(&self, d: Node, out: &mut CFile) {
        let Some(ty) = d.child_by_field_name("type") else {
            return;
        };
        let ty_name = match ty.kind() {
            "struct_specifier" => {
                if ty.child_by_field_name("body").is_some() {
                    self.struct_def(ty, out);
                }
                ty.child_by_field_name("name")
                    .map(|n| text(n, self.src).to_string())
            }
            _ => Some(text(ty, self.src).to_string()),
        };
        let Some(ty_name) = ty_name else { return };
        let mut c = d.walk();
        for init in d.children_by_field_name("declarator", &mut c) {
            if init.kind() != "init_declarator" {
                continue;
            }
            let (Some(decl), Some(value)) = (
                init.child_by_field_name("declarator"),
                init.child_by_field_name("value"),
            ) else {
                continue;
            };
            if value.kind() != "initializer_list" {
                continue;
            }
            let (var, _) = declarator_name(decl, self.src);
            let mut members = Vec::new();
            let mut compatibles = Vec::new();
            self.initialiser(value, "", &mut members, &mut compatibles);
            out.initialised.push(Initialised {
                ty: ty_name.clone(),
                var: var.unwrap_or_default(),
                line: line(d),
                members,
                compatibles,
            });
        }
    }

    fn initialiser(
        &self,
        list: Node,
        prefix: &str,
        members: &mut Vec<(String, String, u32)>,
        compatibles: &mut Vec<String>,
    ) {
        let mut c = list.walk();
        for p in list.named_children(&mut c) {
            match p.kind() {
                "initializer_pair" => {
                    let mut dc = p.walk();
                    let path: Vec<String> = p
                        .children_by_field_name("designator", &mut dc)
                        .filter(|d| d.kind() == "field_designator")
                        .filter_map(|d| d.named_child(0).map(|i| text(i, self.src).to_string()))
                        .collect();
                    let Some(v) = p.child_by_field_name("value") else {
                        continue;
                    };
                    let name = format!("{prefix}{}", path.join("."));
                    match v.kind() {
                        "identifier" => {
                            members.push((name, text(v, self.src).to_string(), line(p)))
                        }
                        "pointer_expression" => {
                            if let Some(a) = v.child_by_field_name("argument") {
                                members.push((name, text(a, self.src).to_string(), line(p)))
                            }
                        }
                        "string_literal" | "concatenated_string"
                            if name.ends_with("compatible") =>
                        {
                            compatibles.push(string_value(v, self.src))
                        }
                        "initializer_list" => {
                            self.initialiser(v, &format!("{name}."), members, compatibles)
                        }
                        _ => {}
                    }
                }
                "initializer_list" => self.initialiser(p, prefix, members, compatibles),
                _ => {}
            }
        }
    }

    /// The statements of a compound statement (or of one statement).
    fn block(&self, n: Node, out_stmts: &mut Vec<Stmt>, file: &mut CFile) {
        if n.kind() != "compound_statement" {
            self.stmt(n, out_stmts, file);
            return;
        }
        let mut c = n.walk();
        let kids: Vec<Node> = n.named_children(&mut c).collect();
        let mut i = 0;
        while i < kids.len() {
            let k = kids[i];
            // `macro(args) { body }`: a call statement with a missing `;` and a block after it.
            if let Some((name, call)) = self.macro_block_head(k) {
                if let Some(next) = kids.get(i + 1) {
                    let mut body = Vec::new();
                    self.block(*next, &mut body, file);
                    let mut pre = Vec::new();
                    self.calls_in_args(call, &mut pre, file);
                    out_stmts.extend(pre);
                    if name == "scoped_guard" {
                        out_stmts.push(Stmt::Call(self.call_site(call, &name, file)));
                        out_stmts.push(Stmt::Scoped {
                            line: line(k),
                            body,
                        });
                    } else {
                        out_stmts.push(Stmt::Loop {
                            line: line(k),
                            body,
                        });
                    }
                    i += 2;
                    continue;
                }
            }
            // `T *x __free(f) = v;` can parse as a declaration with a missing `;` and the
            // statement `__free(f) = v;`.
            if let Some((f, value)) = kids.get(i + 1).and_then(|n| self.free_tail(k, *n)) {
                let var = k
                    .child_by_field_name("declarator")
                    .and_then(|d| declarator_name(d, self.src).0);
                if let Some(var) = var {
                    out_stmts.push(Stmt::Cleanup {
                        line: line(k),
                        var: var.clone(),
                        func: f.clone(),
                    });
                    let before = out_stmts.len();
                    self.expr(value, out_stmts, Some(&var), file);
                    if out_stmts.len() == before {
                        out_stmts.push(Stmt::Set {
                            line: line(k),
                            lhs: var,
                            value: const_val(text(value, self.src)),
                        });
                    } else if let Some(Stmt::Call(cs)) = out_stmts.last_mut() {
                        cs.free_attr = Some(f);
                    }
                    i += 2;
                    continue;
                }
            }
            self.stmt(k, out_stmts, file);
            i += 1;
        }
    }

    /// For a declaration with a missing `;` followed by `__free(f) = value;`: `f` and the
    /// value.
    fn free_tail<'t>(&self, decl: Node<'t>, next: Node<'t>) -> Option<(String, Node<'t>)> {
        if decl.kind() != "declaration" || next.kind() != "expression_statement" {
            return None;
        }
        let missing = (0..decl.child_count())
            .filter_map(|i| decl.child(i))
            .any(|c| c.is_missing());
        if !missing {
            return None;
        }
        let a = next
            .named_child(0)
            .filter(|a| a.kind() == "assignment_expression")?;
        let l = a
            .child_by_field_name("left")
            .filter(|l| l.kind() == "call_expression")?;
        let f = l.child_by_field_name("function")?;
        if text(f, self.src) != "__free" {
            return None;
        }
        let arg = l.child_by_field_name("arguments")?.named_child(0)?;
        Some((
            text(arg, self.src).to_string(),
            a.child_by_field_name("right")?,
        ))
    }

    /// `scoped_guard(...)` or `*for_each*(...)` read as a call statement with a missing `;`.
    fn macro_block_head<'t>(&self, n: Node<'t>) -> Option<(String, Node<'t>)> {
        if n.kind() != "expression_statement" {
            return None;
        }
        let missing_semi = (0..n.child_count())
            .filter_map(|i| n.child(i))
            .any(|c| c.is_missing() && c.kind() == ";");
        if !missing_semi {
            return None;
        }
        let call = n.named_child(0).filter(|c| c.kind() == "call_expression")?;
        let f = call.child_by_field_name("function")?;
        let name = text(f, self.src);
        (name == "scoped_guard" || name.contains("for_each")).then(|| (name.to_string(), call))
    }

    fn stmt(&self, n: Node, out: &mut Vec<Stmt>, file: &mut CFile) {
        let ln = line(n);
        match n.kind() {
            "compound_statement" => self.block(n, out, file),
            "expression_statement" => {
                if let Some(e) = n.named_child(0) {
                    self.expr(e, out, None, file);
                }
            }
            "declaration" => self.local_declaration(n, out, file),
            "if_statement" => {
                let cond_node = n.child_by_field_name("condition");
                let mut cond = Cond::Other;
                if let Some(c) = cond_node {
                    self.expr(c, out, None, file);
                    cond = self.cond(c);
                }
                let mut then = Vec::new();
                if let Some(t) = n.child_by_field_name("consequence") {
                    self.block(t, &mut then, file);
                }
                let mut els = Vec::new();
                if let Some(e) = n.child_by_field_name("alternative") {
                    // else_clause wraps the statement.
                    let mut c = e.walk();
                    for s in e.named_children(&mut c) {
                        self.block(s, &mut els, file);
                    }
                }
                out.push(Stmt::If {
                    line: ln,
                    cond,
                    then,
                    els,
                });
            }
            "for_statement" | "while_statement" | "do_statement" => {
                // The header's calls run at least once (evaluated before the body here).
                let mut pre = Vec::new();
                for f in ["initializer", "condition", "update"] {
                    if let Some(x) = n.child_by_field_name(f) {
                        self.expr(x, &mut pre, None, file);
                    }
                }
                out.extend(pre);
                let mut body = Vec::new();
                if let Some(b) = n.child_by_field_name("body") {
                    self.block(b, &mut body, file);
                }
                out.push(Stmt::Loop { line: ln, body });
            }
            "switch_statement" => {
                if let Some(c) = n.child_by_field_name("condition") {
                    self.expr(c, out, None, file);
                }
                let mut cases = Vec::new();
                let mut has_default = false;
                if let Some(b) = n.child_by_field_name("body") {
                    let mut c = b.walk();
                    for case in b.named_children(&mut c) {
                        if case.kind() != "case_statement" {
                            continue;
                        }
                        if case.child_by_field_name("value").is_none() {
                            has_default = true;
                        }
                        let mut body = Vec::new();
                        let mut cc = case.walk();
                        for s in case.named_children(&mut cc) {
                            if Some(s) == case.child_by_field_name("value") {
                                continue;
                            }
                            self.stmt(s, &mut body, file);
                        }
                        cases.push(body);
                    }
                }
                out.push(Stmt::Switch {
                    line: ln,
                    cases,
                    has_default,
                });
            }
            "return_statement" => {
                let value = match n.named_child(0) {
                    None => Ret::Void,
                    Some(v) => {
                        let mut calls = Vec::new();
                        self.expr(v, &mut calls, None, file);
                        for s in &mut calls {
                            if let Stmt::Call(c) = s {
                                c.returned = true;
                            }
                        }
                        out.extend(calls);
                        self.ret_value(v)
                    }
                };
                out.push(Stmt::Return { line: ln, value });
            }
            "goto_statement" => {
                if let Some(l) = n.child_by_field_name("label") {
                    out.push(Stmt::Goto {
                        line: ln,
                        label: text(l, self.src).to_string(),
                    });
                }
            }
            "labeled_statement" => {
                if let Some(l) = n.child_by_field_name("label") {
                    out.push(Stmt::Label {
                        line: ln,
                        name: text(l, self.src).to_string(),
                    });
                }
                let mut c = n.walk();
                for s in n.named_children(&mut c) {
                    if Some(s) != n.child_by_field_name("label") {
                        self.stmt(s, out, file);
                    }
                }
            }
            "break_statement" => out.push(Stmt::Break { line: ln }),
            "continue_statement" => out.push(Stmt::Continue { line: ln }),
            "ERROR" => {
                self.unrecognised(n, "a statement the C grammar rejects", file);
                // Still read the calls inside it, so none is lost.
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    self.expr(ch, out, None, file);
                }
            }
            "comment" | "preproc_call" | "type_definition" | ";" => {}
            "preproc_if" | "preproc_ifdef" | "preproc_else" | "preproc_elif" => {
                let mut c = n.walk();
                for s in n.named_children(&mut c) {
                    if s.kind().starts_with("preproc_") || s.kind() == "identifier" {
                        continue;
                    }
                    self.stmt(s, out, file);
                }
            }
            _ => self.expr(n, out, None, file),
        }
    }

    fn local_declaration(&self, d: Node, out: &mut Vec<Stmt>, file: &mut CFile) {
        let dtext = text(d, self.src);
        let free_attr = dtext.find("__free(").map(|i| {
            let rest = &dtext[i + "__free(".len()..];
            rest[..rest.find(')').unwrap_or(rest.len())]
                .trim()
                .to_string()
        });
        let mut c = d.walk();
        for init in d.children_by_field_name("declarator", &mut c) {
            if init.kind() != "init_declarator" {
                continue;
            }
            let Some(decl) = init.child_by_field_name("declarator") else {
                continue;
            };
            let (var, _) = declarator_name(decl, self.src);
            if let (Some(v), Some(f)) = (&var, &free_attr) {
                out.push(Stmt::Cleanup {
                    line: line(init),
                    var: v.clone(),
                    func: f.clone(),
                });
            }
            if let Some(v) = init.child_by_field_name("value") {
                let before = out.len();
                self.expr(v, out, var.as_deref(), file);
                if let Some(Stmt::Call(cs)) = out[before..].last_mut() {
                    if v.kind() == "call_expression" {
                        cs.free_attr = free_attr.clone();
                    }
                }
                if let Some(var) = var {
                    if out.len() == before
                        && v.kind() == "identifier"
                        && text(v, self.src) != "NULL"
                    {
                        out.push(Stmt::Store {
                            line: line(init),
                            lhs: var,
                            rhs: text(v, self.src).to_string(),
                        });
                    } else if out.len() == before {
                        out.push(Stmt::Set {
                            line: line(init),
                            lhs: var,
                            value: const_val(text(v, self.src)),
                        });
                    }
                }
            }
        }
    }

    /// Emit the calls of an expression in evaluation order (arguments first). `assigned` is
    /// the variable the expression's value goes to, for its outermost call.
    fn expr(&self, n: Node, out: &mut Vec<Stmt>, assigned: Option<&str>, file: &mut CFile) {
        match n.kind() {
            "call_expression" => {
                let Some(f) = n.child_by_field_name("function") else {
                    return;
                };
                // guard(mutex)(&lock): the inner call names the construct.
                let name = if f.kind() == "call_expression" {
                    f.child_by_field_name("function")
                        .map(|g| text(g, self.src).to_string())
                        .unwrap_or_default()
                } else if f.kind() == "identifier" {
                    text(f, self.src).to_string()
                } else {
                    // A call through a pointer (`ops->foo(...)`): read its arguments only.
                    self.calls_in_args(n, out, file);
                    return;
                };
                self.calls_in_args(n, out, file);
                let mut cs = self.call_site(n, &name, file);
                cs.assigned_to = assigned.map(str::to_string);
                out.push(Stmt::Call(cs));
            }
            "assignment_expression" => {
                let lhs = n
                    .child_by_field_name("left")
                    .map(|l| squash(text(l, self.src)));
                if let Some(r) = n.child_by_field_name("right") {
                    let before = out.len();
                    self.expr(r, out, lhs.as_deref(), file);
                    if let Some(lhs) = lhs {
                        if out.len() == before
                            && r.kind() == "identifier"
                            && text(r, self.src) != "NULL"
                        {
                            out.push(Stmt::Store {
                                line: line(n),
                                lhs,
                                rhs: text(r, self.src).to_string(),
                            });
                        } else if out.len() == before {
                            out.push(Stmt::Set {
                                line: line(n),
                                lhs,
                                value: const_val(text(r, self.src)),
                            });
                        }
                    }
                }
            }
            "parenthesized_expression" | "cast_expression" => {
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    self.expr(ch, out, assigned, file);
                }
            }
            "ERROR" => {
                self.unrecognised(n, "an expression the C grammar rejects", file);
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    self.expr(ch, out, None, file);
                }
            }
            _ => {
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    self.expr(ch, out, None, file);
                }
            }
        }
    }

    fn calls_in_args(&self, call: Node, out: &mut Vec<Stmt>, file: &mut CFile) {
        if let Some(f) = call.child_by_field_name("function") {
            if f.kind() == "call_expression" {
                self.calls_in_args(f, out, file);
            } else if f.kind() != "identifier" {
                self.expr(f, out, None, file);
            }
        }
        let name = call
            .child_by_field_name("function")
            .map(|f| text(f, self.src))
            .unwrap_or("");
        let takes_type = TYPE_MACROS.contains(&name);
        if let Some(a) = call.child_by_field_name("arguments") {
            let mut c = a.walk();
            for ch in a.named_children(&mut c) {
                // `container_of(p, struct foo, member)`: the type argument is not an
                // expression, and the grammar says so; the macro is known.
                if takes_type && ch.kind() == "ERROR" {
                    continue;
                }
                self.expr(ch, out, None, file);
            }
        }
    }

    fn call_site(&self, call: Node, name: &str, _file: &mut CFile) -> CallSite {
        let mut args = Vec::new();
        if let Some(a) = call.child_by_field_name("arguments") {
            let mut c = a.walk();
            for ch in a.named_children(&mut c) {
                if ch.kind() != "comment" {
                    args.push(squash(text(ch, self.src)));
                }
            }
        }
        let internal = self.defined.iter().any(|d| d == name);
        CallSite {
            name: name.to_string(),
            line: line(call),
            args,
            assigned_to: None,
            free_attr: None,
            returned: false,
            class: classify(name, internal),
        }
    }

    fn cond(&self, c: Node) -> Cond {
        let mut n = c;
        let mut negated = false;
        loop {
            match n.kind() {
                "parenthesized_expression" => match n.named_child(0) {
                    Some(x) => n = x,
                    None => return Cond::Other,
                },
                "unary_expression" if n.child(0).is_some_and(|o| o.kind() == "!") => {
                    negated = !negated;
                    match n.child_by_field_name("argument") {
                        Some(x) => n = x,
                        None => return Cond::Other,
                    }
                }
                _ => break,
            }
        }
        match n.kind() {
            "call_expression" => {
                let name = n
                    .child_by_field_name("function")
                    .map(|f| text(f, self.src))
                    .unwrap_or("");
                if name == "drm_bridge_enter" {
                    return Cond::Enter {
                        then_entered: !negated,
                    };
                }
                if name == "IS_ERR" || name == "IS_ERR_OR_NULL" {
                    if let Some(a) = n
                        .child_by_field_name("arguments")
                        .and_then(|a| a.named_child(0))
                    {
                        return Cond::Null {
                            var: squash(text(a, self.src)),
                            then_null: !negated,
                        };
                    }
                }
                Cond::Other
            }
            "identifier" | "field_expression" => Cond::Null {
                var: squash(text(n, self.src)),
                then_null: negated,
            },
            "binary_expression" => {
                let op = n.child_by_field_name("operator").map(|o| text(o, self.src));
                let (l, r) = (
                    n.child_by_field_name("left"),
                    n.child_by_field_name("right"),
                );
                if let (Some(op @ ("==" | "!=")), Some(l), Some(r)) = (op, l, r) {
                    if text(r, self.src) == "NULL" {
                        return Cond::Null {
                            var: squash(text(l, self.src)),
                            then_null: (op == "==") != negated,
                        };
                    }
                }
                Cond::Other
            }
            _ => Cond::Other,
        }
    }

    fn ret_value(&self, v: Node) -> Ret {
        let t = squash(text(v, self.src));
        if t == "0" {
            return Ret::Zero;
        }
        if t.starts_with("-E") || t.starts_with("-ENO") {
            return Ret::Error;
        }
        if v.kind() == "call_expression" {
            let name = v
                .child_by_field_name("function")
                .map(|f| text(f, self.src))
                .unwrap_or("");
            if matches!(name, "dev_err_probe" | "PTR_ERR" | "ERR_PTR" | "ERR_CAST") {
                return Ret::Error;
            }
        }
        Ret::Value(t)
    }
}

/// The identifier a declarator declares, and how many `*` it has.
fn declarator_name(d: Node, src: &str) -> (Option<String>, usize) {
    let mut n = d;
    let mut ptrs = 0;
    loop {
        match n.kind() {
            "identifier" | "field_identifier" => return (Some(text(n, src).to_string()), ptrs),
            "pointer_declarator" => {
                ptrs += 1;
                // `*b __free(x)` parses with the name in an ERROR child.
                let mut c = n.walk();
                if let Some(e) = n.named_children(&mut c).find(|c| c.kind() == "ERROR") {
                    if let Some(id) = e.named_child(0) {
                        return (Some(text(id, src).to_string()), ptrs);
                    }
                }
                match n.child_by_field_name("declarator") {
                    Some(x) => n = x,
                    None => return (None, ptrs),
                }
            }
            "array_declarator"
            | "init_declarator"
            | "attributed_declarator"
            | "parenthesized_declarator" => match n
                .child_by_field_name("declarator")
                .or_else(|| n.named_child(0))
            {
                Some(x) => n = x,
                None => return (None, ptrs),
            },
            _ => return (None, ptrs),
        }
    }
}

/// The value of a constant right-hand side.
fn const_val(t: &str) -> Val {
    let t = t.trim();
    if t == "0" || t == "NULL" || t == "false" {
        Val::Zero
    } else if t.starts_with("-E") {
        Val::Error
    } else {
        Val::Unknown
    }
}

fn string_value(s: Node, src: &str) -> String {
    let t = text(s, src);
    t.trim().trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_condition_and_free_attribute() {
        let f = parse(
            "static void w(struct work_struct *ws)\n{\n\tstruct drm_bridge *b __free(drm_bridge_put) = of_drm_find_and_get_bridge(np);\n\tif (!drm_bridge_enter(&ctx->bridge, &idx))\n\t\treturn;\n\tdrm_bridge_exit(idx);\n}\n",
        );
        let w = &f.functions["w"];
        assert!(
            matches!(&w.body[0], Stmt::Cleanup { var, func, .. } if var == "b" && func == "drm_bridge_put")
        );
        let Stmt::Call(c) = &w.body[1] else {
            panic!("{:?}", w.body)
        };
        assert_eq!(c.assigned_to.as_deref(), Some("b"));
        assert_eq!(c.free_attr.as_deref(), Some("drm_bridge_put"));
        assert!(w.body.iter().any(|s| matches!(
            s,
            Stmt::If {
                cond: Cond::Enter {
                    then_entered: false
                },
                ..
            }
        )));
    }

    #[test]
    fn macro_blocks_and_ops() {
        let f = parse(
            "static int f(void)\n{\n\tscoped_guard(mutex, &l) {\n\t\tx();\n\t}\n\tlist_for_each_entry(p, &h, n) {\n\t\ty(p);\n\t}\n\treturn 0;\n}\nstatic const struct drm_bridge_funcs fx = {\n\t.attach = f,\n};\n",
        );
        let body = &f.functions["f"].body;
        assert!(matches!(body[1], Stmt::Scoped { .. }), "{body:?}");
        assert!(matches!(body[2], Stmt::Loop { .. }), "{body:?}");
        assert!(f.unrecognised.is_empty(), "{:?}", f.unrecognised);
        assert_eq!(f.initialised[0].ty, "drm_bridge_funcs");
        assert_eq!(f.initialised[0].members[0].0, "attach");
    }

    #[test]
    fn rejected_text_is_listed_with_its_line() {
        let f = parse("static int f(void)\n{\n\tfoo(;\n\treturn 0;\n}\n");
        assert!(!f.unrecognised.is_empty());
        assert_eq!(f.unrecognised[0].line, 3, "{:?}", f.unrecognised);
    }
}
