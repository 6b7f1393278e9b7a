//! Call arity where the TypeScript compiler cannot check it: a module loaded with `require`
//! has type `any`, so `const store = require("./store"); store.load(path, extra)` or
//! `const { load } = require("./store"); load()` compiles whatever the arguments are.
//!
//! The callee is resolved to a function the required module of the app exports
//! (`export function`, or `export const name = (…) => …`); its parameters give the fewest and
//! most arguments (`?`, a default value and `...rest` count as optional). Too few is a failing
//! finding (the missing parameters are `undefined`); too many is a warning (JavaScript drops
//! them, which is how interfaces drift silently). Calls with a spread argument, names bound
//! again elsewhere in the file, and modules outside the app are left alone.

use super::{descendants, line, text, Source};
use crate::pyast::Finding;
use crate::verify::FindingKind;
use std::collections::{BTreeMap, BTreeSet};

/// An exported function's accepted argument counts and where it is defined.
#[derive(Debug, Clone)]
struct Accepts {
    fewest: usize,
    most: Option<usize>,
    file: String,
    line: usize,
}

/// How calls reach a required module: through its namespace (`store.load(…)`) or a name
/// taken out of it (`load(…)`, from `const { load } = require(…)`).
enum Binding {
    Namespace,
    Taken(String),
}

pub(super) fn arity(
    sources: &[Source],
    resolve: &dyn Fn(&str, &str) -> Option<String>,
) -> Vec<Finding> {
    let exported: BTreeMap<&str, BTreeMap<String, Accepts>> = sources
        .iter()
        .map(|s| (s.file.as_str(), exported_functions(s)))
        .collect();
    let mut findings = Vec::new();
    for source in sources {
        let bound_twice = names_bound_more_than_once(source);
        for (local, module, binding) in required(source) {
            if bound_twice.contains(&local) {
                continue;
            }
            let Some(functions) =
                resolve(&source.file, &module).and_then(|m| exported.get(m.as_str()))
            else {
                continue;
            };
            for call in descendants(source.tree.root_node()) {
                if call.kind() != "call_expression" {
                    continue;
                }
                let Some(callee) = call.child_by_field_name("function") else {
                    continue;
                };
                let name = match (&binding, callee.kind()) {
                    (Binding::Taken(name), "identifier") if text(callee, &source.text) == local => {
                        name.clone()
                    }
                    (Binding::Namespace, "member_expression") => {
                        let object = callee.child_by_field_name("object");
                        let property = callee.child_by_field_name("property");
                        match (object, property) {
                            (Some(o), Some(p)) if text(o, &source.text) == local => {
                                text(p, &source.text).to_string()
                            }
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                let Some(accepts) = functions.get(&name) else {
                    continue;
                };
                let Some(arguments) = call.child_by_field_name("arguments") else {
                    continue;
                };
                let mut cursor = arguments.walk();
                let given: Vec<_> = arguments
                    .named_children(&mut cursor)
                    .filter(|a| a.kind() != "comment")
                    .collect();
                if given.iter().any(|a| a.kind() == "spread_element") {
                    continue;
                }
                let count = given.len();
                let too_few = count < accepts.fewest;
                let too_many = accepts.most.is_some_and(|most| count > most);
                if !too_few && !too_many {
                    continue;
                }
                let takes = match accepts.most {
                    Some(most) if most == accepts.fewest => format!("{most}"),
                    Some(most) => format!("{} to {most}", accepts.fewest),
                    None => format!("at least {}", accepts.fewest),
                };
                findings.push(Finding {
                    kind: FindingKind::CallArity,
                    file: source.file.clone(),
                    line: line(call),
                    message: format!(
                        "`{}` passes {count} argument(s) where `{name}` takes {takes} (defined at {}:{}); `require` gives it type `any`, so the compiler does not check this call{}",
                        text(callee, &source.text),
                        accepts.file,
                        accepts.line,
                        if too_few { "" } else { " (JavaScript drops the extra ones)" }
                    ),
                    warning: !too_few,
                });
            }
        }
    }
    findings
}

/// (local name, module specifier, binding) for each top-level `require` of a relative module.
fn required(source: &Source) -> Vec<(String, String, Binding)> {
    let mut found = Vec::new();
    let root = source.tree.root_node();
    let mut cursor = root.walk();
    for statement in root.named_children(&mut cursor) {
        if !matches!(
            statement.kind(),
            "lexical_declaration" | "variable_declaration"
        ) {
            continue;
        }
        let mut inner = statement.walk();
        for declarator in statement.named_children(&mut inner) {
            let (Some(pattern), Some(value)) = (
                declarator.child_by_field_name("name"),
                declarator.child_by_field_name("value"),
            ) else {
                continue;
            };
            let Some(module) = required_module(value, &source.text) else {
                continue;
            };
            match pattern.kind() {
                "identifier" => {
                    let local = text(pattern, &source.text).to_string();
                    found.push((local, module, Binding::Namespace));
                }
                "object_pattern" => {
                    let mut fields = pattern.walk();
                    for field in pattern.named_children(&mut fields) {
                        let (exported, local) = match field.kind() {
                            "shorthand_property_identifier_pattern" => {
                                let name = text(field, &source.text).to_string();
                                (name.clone(), name)
                            }
                            "pair_pattern" => match (
                                field.child_by_field_name("key"),
                                field.child_by_field_name("value"),
                            ) {
                                (Some(k), Some(v)) if v.kind() == "identifier" => (
                                    text(k, &source.text).to_string(),
                                    text(v, &source.text).to_string(),
                                ),
                                _ => continue,
                            },
                            _ => continue,
                        };
                        found.push((local, module.clone(), Binding::Taken(exported)));
                    }
                }
                _ => {}
            }
        }
    }
    found
}

/// The relative module `require("./m")` loads, when `value` is that call.
fn required_module(value: tree_sitter::Node<'_>, source: &str) -> Option<String> {
    if value.kind() != "call_expression" {
        return None;
    }
    let callee = value.child_by_field_name("function")?;
    if text(callee, source) != "require" {
        return None;
    }
    let arguments = value.child_by_field_name("arguments")?;
    let mut cursor = arguments.walk();
    let only: Vec<_> = arguments.named_children(&mut cursor).collect();
    let [argument] = only.as_slice() else {
        return None;
    };
    if argument.kind() != "string" {
        return None;
    }
    let module = text(*argument, source).trim_matches(|c| c == '"' || c == '\'');
    module.starts_with('.').then(|| module.to_string())
}

/// Names a file binds more than once (parameters, declarations, functions, imports): a call
/// through such a name may not reach the required module.
fn names_bound_more_than_once(source: &Source) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for node in descendants(source.tree.root_node()) {
        let binding = match node.kind() {
            "variable_declarator" | "function_declaration" | "class_declaration" => {
                node.child_by_field_name("name")
            }
            "required_parameter" | "optional_parameter" => node.child_by_field_name("pattern"),
            "import_specifier" | "namespace_import" => Some(node),
            _ => None,
        };
        let Some(binding) = binding else { continue };
        for leaf in descendants(binding) {
            if matches!(
                leaf.kind(),
                "identifier" | "shorthand_property_identifier_pattern"
            ) {
                *seen
                    .entry(text(leaf, &source.text).to_string())
                    .or_default() += 1;
            }
        }
    }
    seen.into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(name, _)| name)
        .collect()
}

/// The functions a module exports with what they accept: `export function f(…)` and
/// `export const f = (…) => …` / `function (…) {…}`.
fn exported_functions(source: &Source) -> BTreeMap<String, Accepts> {
    let mut functions = BTreeMap::new();
    let root = source.tree.root_node();
    let mut cursor = root.walk();
    for statement in root.named_children(&mut cursor) {
        if statement.kind() != "export_statement" {
            continue;
        }
        let Some(declaration) = statement.child_by_field_name("declaration") else {
            continue;
        };
        let mut found = Vec::new();
        match declaration.kind() {
            "function_declaration" => found.push((declaration, declaration)),
            "lexical_declaration" | "variable_declaration" => {
                let mut inner = declaration.walk();
                for declarator in declaration.named_children(&mut inner) {
                    if let Some(value) = declarator.child_by_field_name("value").filter(|v| {
                        matches!(
                            v.kind(),
                            "arrow_function" | "function_expression" | "function"
                        )
                    }) {
                        found.push((declarator, value));
                    }
                }
            }
            _ => {}
        }
        for (named, function) in found {
            let (Some(name), Some(parameters)) = (
                named.child_by_field_name("name"),
                function.child_by_field_name("parameters"),
            ) else {
                continue;
            };
            let (fewest, most) = accepted(parameters, &source.text);
            functions.insert(
                text(name, &source.text).to_string(),
                Accepts {
                    fewest,
                    most,
                    file: source.file.clone(),
                    line: line(named),
                },
            );
        }
    }
    functions
}

/// (fewest, most) arguments `formal_parameters` accept; `most` is `None` with a rest
/// parameter. A `this` parameter is not an argument; a parameter without `?` or a default
/// must be passed, and so must every one before it.
fn accepted(parameters: tree_sitter::Node<'_>, source: &str) -> (usize, Option<usize>) {
    let mut fewest = 0;
    let mut most: Option<usize> = Some(0);
    let mut cursor = parameters.walk();
    for parameter in parameters.named_children(&mut cursor) {
        let pattern = parameter.child_by_field_name("pattern");
        if pattern.is_some_and(|p| text(p, source) == "this") {
            continue;
        }
        match parameter.kind() {
            "required_parameter" if pattern.is_some_and(|p| p.kind() == "rest_pattern") => {
                most = None;
            }
            "required_parameter" => {
                most = most.map(|m| m + 1);
                if parameter.child_by_field_name("value").is_none() {
                    fewest = most.unwrap_or(fewest);
                }
            }
            "optional_parameter" => most = most.map(|m| m + 1),
            _ => {}
        }
    }
    (fewest, most)
}

#[cfg(test)]
mod tests {
    use crate::spec::Language;

    /// (file, line, warning) of each call-arity finding, and the messages.
    fn arity(files: &[(&str, &str)]) -> (Vec<(String, usize, bool)>, String) {
        let dir = tempfile::tempdir().unwrap();
        for (path, source) in files {
            crate::fsutil::write_inside(dir.path(), path, source.as_bytes()).unwrap();
        }
        let entries = ["node dist/cli.js".to_string()].into_iter().collect();
        let (_, findings) =
            super::super::review(Language::TypeScript, dir.path(), &entries).unwrap();
        let arity: Vec<_> = findings
            .iter()
            .filter(|f| f.kind == crate::verify::FindingKind::CallArity)
            .collect();
        (
            arity
                .iter()
                .map(|f| (f.file.clone(), f.line, f.warning))
                .collect(),
            arity
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    const STORE: &str = "export function load(path: string, strict?: boolean): string[] {\n  return [path];\n}\nexport const save = (path: string, rows: string[], mode = \"w\") => rows.length;\nexport function log(this: unknown, ...parts: string[]) {}\n";

    #[test]
    fn calls_through_require_are_checked_against_the_exported_function() {
        let cli = "const store = require(\"./store\");\nconst { save, load: read } = require(\"./store.js\");\nstore.load();\nstore.load(\"a\", true, 3);\nread(\"a\");\nsave(\"a\");\nsave(\"a\", [], \"w\");\nstore.log();\nstore.log(\"a\", \"b\", \"c\");\nsave(...args);\n";
        let (found, said) = arity(&[("src/cli.ts", cli), ("src/store.ts", STORE)]);
        assert_eq!(
            found,
            [
                ("src/cli.ts".to_string(), 3, false),
                ("src/cli.ts".to_string(), 4, true),
                ("src/cli.ts".to_string(), 6, false),
            ],
            "{said}"
        );
        assert!(
            said.contains("`store.load` passes 0 argument(s) where `load` takes 1 to 2 (defined at src/store.ts:1)")
                && said.contains("`save` passes 1 argument(s) where `save` takes 2 to 3")
                && said.contains("the compiler does not check this call"),
            "{said}"
        );
    }

    #[test]
    fn typed_imports_shadowed_names_and_outside_modules_are_left_to_the_compiler() {
        let cli = "import { load } from \"./store.js\";\nimport * as s from \"./store.js\";\nconst fs = require(\"fs\");\nconst { save } = require(\"./store\");\nload();\ns.load();\nfs.readFileSync();\nfunction later(save: (x: number) => void) {\n  save(1);\n}\n";
        let (found, said) = arity(&[("src/cli.ts", cli), ("src/store.ts", STORE)]);
        assert!(found.is_empty(), "{said}");
    }
}
