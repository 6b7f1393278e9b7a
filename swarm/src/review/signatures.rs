//! Contracts for TypeScript and Rust: the signatures a module offers (what CONTRACT freezes and
//! BUILD's merge checks for drift), whether a body is still a placeholder, and a module's
//! stubbed form.
//!
//! - TypeScript: functions (`function f(a: number): string`), classes (their header line),
//!   their methods (`Class.method`), and interfaces, type aliases and enums (whole: they are
//!   the shared schema). A placeholder body only throws a not-implemented error.
//! - Rust: functions (`pub fn f(a: u8) -> String`), methods of `impl` blocks (`Type.method`),
//!   and structs, enums, traits and type aliases (whole). A placeholder body is `todo!()` or
//!   `unimplemented!()`.
//!
//! Texts are whitespace-normalised, so reformatting is not drift; `export` in front of a
//! TypeScript declaration is left out of its text.

use super::{descendants, text};
use crate::pyast::Signature;
use crate::spec::Language;

/// The language a source file is in, by its extension (`None`: not a source the contracts
/// read; `.d.ts` declarations included).
pub fn language_of(file: &str) -> Option<Language> {
    if file.ends_with(".py") {
        Some(Language::Python)
    } else if file.ends_with(".rs") {
        Some(Language::Rust)
    } else if [".ts", ".tsx", ".mts", ".cts"]
        .iter()
        .any(|e| file.ends_with(e))
        && !file.ends_with(".d.ts")
    {
        Some(Language::TypeScript)
    } else {
        None
    }
}

fn parse(file: &str, source: &str) -> Option<tree_sitter::Tree> {
    let grammar: tree_sitter::Language = match language_of(file)? {
        Language::Rust => tree_sitter_rust::LANGUAGE.into(),
        Language::TypeScript if file.ends_with(".tsx") => {
            tree_sitter_typescript::LANGUAGE_TSX.into()
        }
        Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Language::Python => return None,
    };
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&grammar).ok()?;
    parser.parse(source, None)
}

/// The signatures of one module in any language the contracts read (Python through
/// [`crate::pyast`]). `None` when the file is not such a source or its grammar cannot load.
pub fn signatures_of(file: &str, source: &str) -> Option<Vec<Signature>> {
    match language_of(file)? {
        Language::Python => crate::pyast::signatures_of(file, source),
        Language::Rust => Some(rust_signatures(file, source, &parse(file, source)?)),
        Language::TypeScript => Some(typescript_signatures(file, source, &parse(file, source)?)),
    }
}

/// Whether the module parses without errors (`None`: not a source the contracts read).
pub fn parses(file: &str, source: &str) -> Option<bool> {
    match language_of(file)? {
        Language::Python => crate::pyast::parses(source),
        _ => Some(!parse(file, source)?.root_node().has_error()),
    }
}

/// Whether a signature is a function's or method's (which a contract leaves as a stub), not
/// a type's or class's line.
pub fn is_function(signature: &Signature) -> bool {
    let text = signature.text.as_str();
    match language_of(&signature.file) {
        Some(Language::Python) => text.starts_with("def ") || text.starts_with("async def "),
        Some(Language::Rust) => {
            !["struct ", "enum ", "trait ", "type ", "union "]
                .iter()
                .any(|k| text.split_whitespace().any(|w| format!("{w} ") == *k))
                && text.contains("fn ")
        }
        Some(Language::TypeScript) => ![
            "class ",
            "abstract class ",
            "interface ",
            "type ",
            "enum ",
            "const enum ",
            "declare ",
        ]
        .iter()
        .any(|k| text.starts_with(k)),
        None => false,
    }
}

/// `source` with every function body a placeholder (what a contract looks like), keeping
/// types and signatures; `None` when the file is not a source the contracts read.
pub fn stub_source(file: &str, source: &str) -> Option<String> {
    let language = language_of(file)?;
    if language == Language::Python {
        return crate::pyast::stub_source(source);
    }
    let tree = parse(file, source)?;
    let placeholder = match language {
        Language::Rust => "{\n    todo!()\n}",
        _ => "{\n  throw new Error(\"not implemented\");\n}",
    };
    let kinds: &[&str] = match language {
        Language::Rust => &["function_item"],
        _ => &["function_declaration", "method_definition"],
    };
    let mut bodies: Vec<(usize, usize)> = descendants(tree.root_node())
        .into_iter()
        .filter(|n| kinds.contains(&n.kind()))
        .filter_map(|n| n.child_by_field_name("body"))
        .map(|b| (b.start_byte(), b.end_byte()))
        .collect();
    // Outermost bodies only (a function inside a function goes with it).
    bodies.sort();
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for body in bodies {
        if kept.last().is_none_or(|last| body.0 >= last.1) {
            kept.push(body);
        }
    }
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for (start, end) in kept {
        out.push_str(source.get(at..start)?);
        out.push_str(placeholder);
        at = end;
    }
    out.push_str(source.get(at..)?);
    Some(out)
}

/// Whitespace collapsed, no space inside brackets, `export` left out.
fn normalised(raw: &str) -> String {
    let joined = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = joined
        .strip_prefix("export default ")
        .or_else(|| joined.strip_prefix("export "))
        .unwrap_or(&joined)
        .to_string();
    joined
        .replace("( ", "(")
        .replace(" )", ")")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(", )", ")")
        .replace(",)", ")")
        .trim_end_matches([';', ','])
        .trim_end()
        .to_string()
}

/// The text of `node` up to its body.
fn header(node: tree_sitter::Node<'_>, source: &str) -> String {
    let end = node
        .child_by_field_name("body")
        .map_or(node.end_byte(), |b| b.start_byte());
    normalised(source.get(node.start_byte()..end).unwrap_or(""))
}

/// Whether a Rust block is only `todo!()` / `unimplemented!()`.
fn rust_placeholder(body: tree_sitter::Node<'_>, source: &str) -> bool {
    let inner = text(body, source)
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim()
        .trim_end_matches(';')
        .trim();
    (inner.starts_with("todo!(") || inner.starts_with("unimplemented!("))
        && inner.ends_with(')')
        && !inner.contains(';')
}

/// The statement a TypeScript block consists of when it only throws a not-implemented error
/// (`throw new Error("not implemented")`, "TODO", "not yet implemented", "unimplemented").
pub(super) fn typescript_placeholder<'t>(
    body: tree_sitter::Node<'t>,
    source: &str,
) -> Option<tree_sitter::Node<'t>> {
    let mut cursor = body.walk();
    let statements: Vec<tree_sitter::Node<'t>> = body
        .named_children(&mut cursor)
        .filter(|n| !n.kind().contains("comment"))
        .collect();
    let [only] = statements.as_slice() else {
        return None;
    };
    let pattern =
        regex::Regex::new(r"(?i)not\s*(yet\s*)?implemented|unimplemented|\btodo\b").ok()?;
    (only.kind() == "throw_statement" && pattern.is_match(text(*only, source))).then_some(*only)
}

/// A function's or method's signature, named `name`, a stub when `placeholder` says its body
/// is one.
fn callable(
    file: &str,
    name: String,
    node: tree_sitter::Node<'_>,
    source: &str,
    placeholder: fn(tree_sitter::Node<'_>, &str) -> bool,
) -> Signature {
    let stub = node
        .child_by_field_name("body")
        .is_some_and(|b| placeholder(b, source));
    signature(file, name, header(node, source), node, stub)
}

/// The methods (nodes of `kind`) in the body of `owner`'s `impl` block or class, as
/// `Owner.method`.
fn methods(
    file: &str,
    owner: &str,
    container: tree_sitter::Node<'_>,
    kind: &str,
    source: &str,
    placeholder: fn(tree_sitter::Node<'_>, &str) -> bool,
) -> Vec<Signature> {
    let Some(body) = container.child_by_field_name("body") else {
        return Vec::new();
    };
    let mut cursor = body.walk();
    body.named_children(&mut cursor)
        .filter(|member| member.kind() == kind)
        .filter_map(|member| {
            let name = text(member.child_by_field_name("name")?, source);
            Some(callable(
                file,
                format!("{owner}.{name}"),
                member,
                source,
                placeholder,
            ))
        })
        .collect()
}

fn typescript_stub(body: tree_sitter::Node<'_>, source: &str) -> bool {
    typescript_placeholder(body, source).is_some()
}

fn signature(
    file: &str,
    name: String,
    text: String,
    node: tree_sitter::Node<'_>,
    stub: bool,
) -> Signature {
    Signature {
        file: file.to_string(),
        name,
        text,
        line: node.start_position().row + 1,
        stub,
    }
}

fn rust_signatures(file: &str, source: &str, tree: &tree_sitter::Tree) -> Vec<Signature> {
    let mut found = Vec::new();
    let root = tree.root_node();
    let mut cursor = root.walk();
    for item in root.named_children(&mut cursor) {
        let name = item
            .child_by_field_name("name")
            .map(|n| text(n, source).to_string());
        match (item.kind(), name) {
            ("function_item", Some(name)) => {
                found.push(callable(file, name, item, source, rust_placeholder));
            }
            (
                "struct_item" | "enum_item" | "trait_item" | "type_item" | "union_item",
                Some(name),
            ) => {
                found.push(signature(
                    file,
                    name,
                    normalised(text(item, source)),
                    item,
                    false,
                ));
            }
            ("impl_item", _) => {
                if let Some(owner) = item.child_by_field_name("type").map(|t| text(t, source)) {
                    found.extend(methods(
                        file,
                        owner,
                        item,
                        "function_item",
                        source,
                        rust_placeholder,
                    ));
                }
            }
            _ => {}
        }
    }
    found
}

fn typescript_signatures(file: &str, source: &str, tree: &tree_sitter::Tree) -> Vec<Signature> {
    let mut found = Vec::new();
    let root = tree.root_node();
    let mut cursor = root.walk();
    for child in root.named_children(&mut cursor) {
        // `export function f` is an export statement around the declaration.
        let item = if child.kind() == "export_statement" {
            match child.child_by_field_name("declaration") {
                Some(declaration) => declaration,
                None => continue,
            }
        } else {
            child
        };
        let Some(name) = item
            .child_by_field_name("name")
            .map(|n| text(n, source).to_string())
        else {
            continue;
        };
        match item.kind() {
            "function_declaration" | "generator_function_declaration" => {
                found.push(callable(file, name, item, source, typescript_stub));
            }
            "class_declaration" | "abstract_class_declaration" => {
                let header = header(item, source);
                found.push(signature(file, name.clone(), header, item, false));
                found.extend(methods(
                    file,
                    &name,
                    item,
                    "method_definition",
                    source,
                    typescript_stub,
                ));
            }
            "interface_declaration" | "type_alias_declaration" | "enum_declaration" => {
                found.push(signature(
                    file,
                    name,
                    normalised(text(item, source)),
                    item,
                    false,
                ));
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(file: &str, source: &str) -> Vec<(String, String, bool)> {
        signatures_of(file, source)
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.text, s.stub))
            .collect()
    }

    #[test]
    fn rust_contracts_are_functions_methods_and_whole_types() {
        let source = "pub struct Entry {\n    pub name: String,\n    pub cents: i64,\n}\n\npub fn total(entries: &[Entry]) -> i64 {\n    todo!()\n}\n\nimpl Entry {\n    pub fn new(name: &str,\n               cents: i64) -> Self {\n        unimplemented!()\n    }\n    fn label(&self) -> String { format!(\"{}\", self.name) }\n}\n";
        assert_eq!(
            outline("src/ledger.rs", source),
            vec![
                (
                    "Entry".into(),
                    "pub struct Entry { pub name: String, pub cents: i64, }".into(),
                    false
                ),
                (
                    "total".into(),
                    "pub fn total(entries: &[Entry]) -> i64".into(),
                    true
                ),
                (
                    "Entry.new".into(),
                    "pub fn new(name: &str, cents: i64) -> Self".into(),
                    true
                ),
                (
                    "Entry.label".into(),
                    "fn label(&self) -> String".into(),
                    false
                ),
            ]
        );
        let signatures = signatures_of("src/ledger.rs", source).unwrap();
        let functions: Vec<bool> = signatures.iter().map(is_function).collect();
        assert_eq!(functions, vec![false, true, true, true]);
        assert_eq!(parses("src/ledger.rs", source), Some(true));
        assert_eq!(parses("src/ledger.rs", "pub fn (x"), Some(false));
    }

    #[test]
    fn typescript_contracts_are_functions_classes_methods_and_types() {
        let source = "export interface Entry {\n  name: string;\n  cents: number;\n}\n\nexport function total(entries: Entry[]): number {\n  throw new Error(\"not implemented\");\n}\n\nexport class Ledger {\n  add(entry: Entry): void {\n    throw new Error(\"TODO\");\n  }\n  size(): number {\n    return 0;\n  }\n}\n\ntype Cents = number;\n";
        assert_eq!(
            outline("src/ledger.ts", source),
            vec![
                (
                    "Entry".into(),
                    "interface Entry { name: string; cents: number; }".into(),
                    false
                ),
                (
                    "total".into(),
                    "function total(entries: Entry[]): number".into(),
                    true
                ),
                ("Ledger".into(), "class Ledger".into(), false),
                ("Ledger.add".into(), "add(entry: Entry): void".into(), true),
                ("Ledger.size".into(), "size(): number".into(), false),
                ("Cents".into(), "type Cents = number".into(), false),
            ]
        );
        let functions: Vec<bool> = signatures_of("src/ledger.ts", source)
            .unwrap()
            .iter()
            .map(is_function)
            .collect();
        assert_eq!(functions, vec![false, true, false, true, true, false]);
        assert_eq!(signatures_of("types.d.ts", source), None);
    }

    #[test]
    fn stubbing_keeps_signatures_and_types_and_empties_every_body() {
        let rust = "pub struct A { pub x: u8 }\npub fn f(a: &A) -> u8 {\n    let y = a.x;\n    y + 1\n}\nimpl A {\n    pub fn g(&self) -> u8 { self.x }\n}\n";
        let stubbed = stub_source("src/a.rs", rust).unwrap();
        let before = signatures_of("src/a.rs", rust).unwrap();
        let after = signatures_of("src/a.rs", &stubbed).unwrap();
        assert_eq!(
            before.iter().map(|s| &s.text).collect::<Vec<_>>(),
            after.iter().map(|s| &s.text).collect::<Vec<_>>()
        );
        assert!(
            after.iter().filter(|s| is_function(s)).all(|s| s.stub),
            "{stubbed}"
        );
        let ts = "export function f(a: number): number {\n  return a + 1;\n}\nexport class C {\n  m(): string {\n    return \"x\";\n  }\n}\n";
        let stubbed = stub_source("cli.ts", ts).unwrap();
        let after = signatures_of("cli.ts", &stubbed).unwrap();
        assert!(
            after.iter().filter(|s| is_function(s)).all(|s| s.stub),
            "{stubbed}"
        );
        assert_eq!(parses("cli.ts", &stubbed), Some(true));
    }
}
