//! The review of TypeScript and Rust apps: the same kinds of finding as the Python review of
//! [`crate::pyast`], one rule per kind, read with tree-sitter-typescript and tree-sitter-rust.
//!
//! - `unwired_module`: a module the app never reaches. TypeScript: a source no other
//!   (non-test) source imports and that no command runs. Rust: a file under `src/` that no
//!   `mod` declaration reaches from a crate root, so cargo never compiles it; a module
//!   declared but never used by path from anywhere else is a warning.
//! - `stub`: work left undone. TypeScript: a function whose whole body throws a
//!   not-implemented error. Rust: `todo!()` anywhere outside tests, or a function whose whole
//!   body is `unimplemented!()`.
//! - `duplicate_implementation`: the same function implemented in two modules as copies
//!   (compared as Python's are: identical copies warn, altered copies fail).
//!
//! Syntax and call arity are left to each language's compiler, which the smoke gate runs: its
//! first error is the finding, at its file and line. A grammar older than the compiler would
//! otherwise call correct new syntax an error.

mod rust;
mod rust_modules;
mod signatures;
mod ts_arity;
mod typescript;

use crate::pyast::Finding;
use crate::spec::Language;
use std::collections::BTreeSet;
use std::path::Path;

pub use signatures::{is_function, language_of, parses, signatures_of, stub_source};
pub use typescript::sources_run_by;

/// Most files a review reads.
const FILE_LIMIT: usize = 20_000;

/// A parsed source file.
struct Source {
    /// Relative path.
    file: String,
    /// Its text.
    text: String,
    /// Its tree.
    tree: tree_sitter::Tree,
}

/// The findings for the `language` app in `dir`, with the files the commands run
/// (`entry_points`, as the commands name them); `None` when the grammar cannot be loaded or
/// the language is not one this module reads. Sorted by file and line.
pub fn review(
    language: Language,
    dir: &Path,
    entry_points: &BTreeSet<String>,
) -> Option<(usize, Vec<Finding>)> {
    let (grammar, sources): (tree_sitter::Language, Vec<String>) = match language {
        Language::TypeScript => (
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            crate::toolchain::typescript_sources(dir, FILE_LIMIT),
        ),
        Language::Rust => (
            tree_sitter_rust::LANGUAGE.into(),
            rust_modules::rust_files(dir),
        ),
        Language::Python => return None,
    };
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&grammar).ok()?;
    let mut tsx = tree_sitter::Parser::new();
    tsx.set_language(&tree_sitter_typescript::LANGUAGE_TSX.into())
        .ok()?;
    let parsed: Vec<Source> = sources
        .into_iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(dir.join(&file)).ok()?;
            let parser = if file.ends_with(".tsx") {
                &mut tsx
            } else {
                &mut parser
            };
            let tree = parser.parse(&text, None)?;
            Some(Source { file, text, tree })
        })
        .collect();
    let mut findings = match language {
        Language::TypeScript => typescript::rules(&parsed, dir, entry_points),
        _ => rust::rules(&parsed, dir),
    };
    findings.sort_by(|a, b| (&a.file, a.line, &a.kind).cmp(&(&b.file, b.line, &b.kind)));
    Some((parsed.len(), findings))
}

/// The text of `node`.
fn text<'s>(node: tree_sitter::Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// 1-based line of `node`.
fn line(node: tree_sitter::Node<'_>) -> usize {
    node.start_position().row + 1
}

/// Every node under `root` (itself included), in source order, without recursion.
fn descendants(root: tree_sitter::Node<'_>) -> Vec<tree_sitter::Node<'_>> {
    let mut all = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        all.push(node);
        let mut cursor = node.walk();
        let children: Vec<tree_sitter::Node<'_>> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    all
}

/// The leaf tokens of `node` in source order, comments left out (string literals whole).
fn leaves<'s>(node: tree_sitter::Node<'_>, source: &'s str) -> Vec<&'s str> {
    descendants(node)
        .into_iter()
        .filter(|n| !n.kind().contains("comment"))
        .filter(|n| {
            let whole_string = n.kind().contains("string") && !n.kind().contains("fragment");
            (n.child_count() == 0 || whole_string)
                && !n
                    .parent()
                    .is_some_and(|p| p.kind().contains("string") && !p.kind().contains("fragment"))
        })
        .map(|n| text(n, source))
        .filter(|t| !t.trim().is_empty())
        .collect()
}

/// A function of some module, for the copy rule: its name, where, and its body's tokens.
struct Function<'s> {
    file: &'s str,
    name: String,
    line: usize,
    tokens: Vec<&'s str>,
}

/// `duplicate_implementation` over functions of several modules (tests left out by the
/// caller), compared as the Python rule compares them.
fn copies(functions: &[Function<'_>], keywords: &[&str]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, first) in functions.iter().enumerate() {
        for second in &functions[i + 1..] {
            if first.name != second.name || first.file == second.file {
                continue;
            }
            let Some((identical, how)) =
                crate::pyast::copied(&first.tokens, &second.tokens, keywords)
            else {
                continue;
            };
            // A copy whose literals or operators changed is how a corrupted copy looks (one is
            // probably wrong): it fails. One whose types and names changed is the same code
            // written for another type (`&str` and `&[u8]` versions): duplicated, said only.
            let corrupted = crate::pyast::changed_tokens(&first.tokens, &second.tokens)
                .iter()
                .any(|token| is_literal_or_operator(token));
            findings.push(Finding {
                kind: crate::verify::FindingKind::DuplicateImplementation,
                file: second.file.to_string(),
                line: second.line,
                message: format!(
                    "`{}` is implemented twice, {how}: {}:{} and {}:{}",
                    second.name, first.file, first.line, second.file, second.line
                ),
                warning: identical || !corrupted,
            });
        }
    }
    findings
}

/// A number, a string or character literal, or an arithmetic or comparison operator.
fn is_literal_or_operator(token: &str) -> bool {
    const OPERATORS: [&str; 16] = [
        "+", "-", "*", "/", "%", "<", ">", "<=", ">=", "==", "!=", "===", "!==", "&&", "||", "!",
    ];
    token.starts_with(|c: char| c.is_ascii_digit() || c == '"' || c == '\'' || c == '`')
        || OPERATORS.contains(&token)
        || token.starts_with("b\"")
}
