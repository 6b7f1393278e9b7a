//! The `diagnostics` dimension: static findings over the produced Python, from
//! tree-sitter-python syntax trees (no code is run).
//!
//! - `syntax_error`: the file does not parse;
//! - `unwired_module`: a module nothing imports and that is not an entry point (a file the
//!   task's commands run, one with an `if __name__ == "__main__"` guard, `__main__.py`,
//!   `conftest.py`, `setup.py`, tests) — built but never wired in;
//! - `stub`: a function whose body is only `pass`, `...`, `raise NotImplementedError` (after
//!   an optional docstring);
//! - `duplicate_definition`: a top-level function or class defined twice in one module.
//!
//! Score: 10 − 3 × syntax errors − 2 × unwired modules − 1 × stubs − 1 × duplicates,
//! floored at 0; a project with no Python file scores 0.

use crate::score::DimensionScore;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One static finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// syntax_error, unwired_module, stub, duplicate_definition.
    pub kind: String,
    /// Relative path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

struct Module {
    file: String,
    source: String,
    tree: Option<tree_sitter::Tree>,
}

fn parser() -> Option<tree_sitter::Parser> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    Some(parser)
}

/// Python files under `dir`, relative, skipping caches and VCS directories.
fn python_files(dir: &Path) -> Vec<String> {
    crate::fsutil::project_files(dir)
        .into_iter()
        .filter(|file| file.ends_with(".py"))
        .collect()
}

/// Dotted module name of a relative path (`pkg/util.py` → `pkg.util`, `pkg/__init__.py` → `pkg`).
fn module_name(file: &str) -> String {
    let without = file.trim_end_matches(".py");
    let without = without.strip_suffix("/__init__").unwrap_or(without);
    without.replace('/', ".")
}

fn text<'a>(node: tree_sitter::Node<'_>, source: &'a str) -> &'a str {
    source.get(node.byte_range()).unwrap_or("")
}

/// Modules this module imports, as dotted names (relative imports resolved).
fn imports(module: &Module) -> Vec<String> {
    let Some(tree) = &module.tree else {
        return Vec::new();
    };
    let own = module_name(&module.file);
    let own_parts: Vec<&str> = own.split('.').collect();
    let base_package: Vec<&str> = if module.file.ends_with("__init__.py") {
        own_parts.clone()
    } else {
        own_parts[..own_parts.len().saturating_sub(1)].to_vec()
    };
    let mut found = Vec::new();
    let mut cursor = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "import_statement" => {
                for index in 0..node.named_child_count() {
                    if let Some(child) = node.named_child(index as u32) {
                        let name = child.child_by_field_name("name").unwrap_or(child);
                        found.push(text(name, &module.source).to_string());
                    }
                }
            }
            "import_from_statement" => {
                let Some(from) = node.child_by_field_name("module_name") else {
                    continue;
                };
                let raw = text(from, &module.source);
                let dots = raw.chars().take_while(|c| *c == '.').count();
                let rest = raw.trim_start_matches('.');
                let base: String = if dots == 0 {
                    rest.to_string()
                } else {
                    let keep = base_package.len().saturating_sub(dots - 1);
                    let mut parts: Vec<&str> = base_package[..keep].to_vec();
                    if !rest.is_empty() {
                        parts.push(rest);
                    }
                    parts.join(".")
                };
                found.push(base.clone());
                // `from pkg import util` may import the module pkg.util.
                for index in 0..node.named_child_count() {
                    if let Some(child) = node.named_child(index as u32) {
                        if child.id() == from.id() {
                            continue;
                        }
                        let name = child.child_by_field_name("name").unwrap_or(child);
                        let imported = text(name, &module.source);
                        if !imported.is_empty() {
                            found.push(if base.is_empty() {
                                imported.to_string()
                            } else {
                                format!("{base}.{imported}")
                            });
                        }
                    }
                }
            }
            _ => {
                for child in node.children(&mut cursor) {
                    stack.push(child);
                }
            }
        }
    }
    found
}

fn has_main_guard(source: &str) -> bool {
    source.lines().any(|line| {
        let line = line.trim();
        line.starts_with("if __name__") && line.contains("__main__")
    })
}

fn is_entry_file(file: &str, source: &str, entry_points: &BTreeSet<String>) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    entry_points.contains(file)
        || has_main_guard(source)
        || matches!(name, "__main__.py" | "conftest.py" | "setup.py")
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || file.starts_with("tests/")
}

/// Is this function body a stub?
fn is_stub(body: tree_sitter::Node<'_>, source: &str) -> bool {
    let mut statements = Vec::new();
    for index in 0..body.named_child_count() {
        if let Some(child) = body.named_child(index as u32) {
            if child.kind() != "comment" {
                statements.push(child);
            }
        }
    }
    // A leading docstring does not count.
    if statements.len() > 1
        && statements[0].kind() == "expression_statement"
        && statements[0]
            .named_child(0)
            .is_some_and(|c| c.kind() == "string")
    {
        statements.remove(0);
    }
    if statements.len() != 1 {
        return false;
    }
    let statement = statements[0];
    let content = text(statement, source).trim();
    statement.kind() == "pass_statement"
        || content == "..."
        || (statement.kind() == "raise_statement" && content.contains("NotImplementedError"))
}

fn first_error_line(node: tree_sitter::Node<'_>) -> usize {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        if current.is_error() || current.is_missing() {
            return current.start_position().row + 1;
        }
        for child in current.children(&mut cursor) {
            if child.has_error() {
                stack.push(child);
            }
        }
    }
    node.start_position().row + 1
}

/// All findings for the project in `dir`; `entry_points` are files the task runs directly.
pub fn find_issues(dir: &Path, entry_points: &BTreeSet<String>) -> Option<Vec<Finding>> {
    let mut parser = parser()?;
    let modules: Vec<Module> = python_files(dir)
        .into_iter()
        .map(|file| {
            let source = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
            let tree = parser.parse(&source, None);
            Module { file, source, tree }
        })
        .collect();
    let mut findings = Vec::new();
    let imported: BTreeSet<String> = modules.iter().flat_map(imports).collect();
    let application_modules: Vec<&Module> = modules
        .iter()
        .filter(|m| !is_entry_file(&m.file, "", &BTreeSet::new()) || entry_points.contains(&m.file))
        .collect();
    for module in &modules {
        let Some(tree) = &module.tree else { continue };
        let root = tree.root_node();
        if root.has_error() {
            findings.push(Finding {
                kind: "syntax_error".into(),
                file: module.file.clone(),
                line: first_error_line(root),
                message: "the file does not parse as Python".into(),
            });
        }
        let name = module_name(&module.file);
        let wired = imported
            .iter()
            .any(|i| i == &name || i.starts_with(&format!("{name}.")))
            || is_entry_file(&module.file, &module.source, entry_points)
            || module.file.ends_with("__init__.py")
            || application_modules.len() <= 1;
        if !wired {
            findings.push(Finding {
                kind: "unwired_module".into(),
                file: module.file.clone(),
                line: 1,
                message: format!(
                    "`{name}` is never imported and is not an entry point: built but not wired in"
                ),
            });
        }
        let mut top_level: BTreeMap<String, usize> = BTreeMap::new();
        for index in 0..root.named_child_count() {
            let Some(child) = root.named_child(index as u32) else {
                continue;
            };
            let definition = if child.kind() == "decorated_definition" {
                child.child_by_field_name("definition").unwrap_or(child)
            } else {
                child
            };
            if matches!(
                definition.kind(),
                "function_definition" | "class_definition"
            ) {
                if let Some(name) = definition.child_by_field_name("name") {
                    let name = text(name, &module.source).to_string();
                    let line = definition.start_position().row + 1;
                    if let Some(first) = top_level.insert(name.clone(), line) {
                        findings.push(Finding {
                            kind: "duplicate_definition".into(),
                            file: module.file.clone(),
                            line,
                            message: format!("`{name}` is defined again (first on line {first}); the later one wins"),
                        });
                    }
                }
            }
        }
        let mut cursor = root.walk();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node.kind() == "function_definition" {
                if let (Some(name), Some(body)) = (
                    node.child_by_field_name("name"),
                    node.child_by_field_name("body"),
                ) {
                    if is_stub(body, &module.source) {
                        findings.push(Finding {
                            kind: "stub".into(),
                            file: module.file.clone(),
                            line: node.start_position().row + 1,
                            message: format!(
                                "`{}` is a stub: its body does nothing",
                                text(name, &module.source)
                            ),
                        });
                    }
                }
            }
            for child in node.children(&mut cursor) {
                stack.push(child);
            }
        }
    }
    findings.sort_by(|a, b| (&a.file, a.line, &a.kind).cmp(&(&b.file, b.line, &b.kind)));
    Some(findings)
}

/// The `diagnostics` dimension and its findings.
pub fn diagnostics_score(
    dir: &Path,
    entry_points: &BTreeSet<String>,
) -> (DimensionScore, Vec<Finding>) {
    if python_files(dir).is_empty() {
        return (
            DimensionScore::scored("diagnostics", 0.0, "no Python file was produced"),
            Vec::new(),
        );
    }
    let Some(findings) = find_issues(dir, entry_points) else {
        return (
            DimensionScore::missing("diagnostics", "the Python grammar could not be loaded"),
            Vec::new(),
        );
    };
    let count = |kind: &str| findings.iter().filter(|f| f.kind == kind).count() as f64;
    let score = 10.0
        - 3.0 * count("syntax_error")
        - 2.0 * count("unwired_module")
        - count("stub")
        - count("duplicate_definition");
    let mut evidence = format!(
        "{} syntax error(s), {} unwired module(s), {} stub(s), {} duplicate definition(s)",
        count("syntax_error"),
        count("unwired_module"),
        count("stub"),
        count("duplicate_definition")
    );
    for finding in findings.iter().take(8) {
        evidence.push_str(&format!(
            "; {}:{} {}",
            finding.file, finding.line, finding.message
        ));
    }
    (
        DimensionScore::scored("diagnostics", score, evidence),
        findings,
    )
}
