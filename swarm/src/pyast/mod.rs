//! Static analysis of Python with tree-sitter-python: the swarm's AST review (VERIFY), its
//! contract checks (CONTRACT, BUILD) and the gym's `diagnostics` dimension all use it.
//!
//! Findings:
//! - `syntax_error`: the file does not parse;
//! - `unwired_module`: a module nothing imports and that is not an entry point (a file the
//!   commands run, one with an `if __name__ == "__main__"` guard, `__main__.py`,
//!   `conftest.py`, `setup.py`, tests) — built but never wired in;
//! - `stub`: a function whose body is only `pass`, `...`, `raise NotImplementedError` (after
//!   an optional docstring);
//! - `duplicate_definition`: a top-level function or class defined twice in one module;
//! - `call_arity`: a call to a project function (or class) whose arguments cannot bind to
//!   its parameters — too many or too few positional arguments, or an unknown keyword.
//!
//! Signatures ([`signatures`]) are what CONTRACT freezes: every top-level `def` and `class`,
//! and the methods of each class, as normalised text.

pub mod corpus;
mod project;
mod rules;
mod stubs;

use crate::verify::FindingKind;
pub(crate) use rules::{changed_tokens, copied};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
pub use stubs::stub_source;

/// One static finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of problem it is.
    pub kind: FindingKind,
    /// Relative path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// Reported only: it does not fail the review (a name defined twice in one module,
    /// identical copies).
    #[serde(default)]
    pub warning: bool,
}

pub(super) struct Module {
    /// Relative path.
    pub file: String,
    /// Its text.
    pub source: String,
    /// Its tree, when the grammar loaded.
    pub tree: Option<tree_sitter::Tree>,
}

/// A parser for Python, or `None` when the grammar cannot be loaded.
pub fn parser() -> Option<tree_sitter::Parser> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    Some(parser)
}

/// Python files under `dir`, relative, skipping caches and VCS directories.
pub fn python_files(dir: &Path) -> Vec<String> {
    crate::fsutil::project_files(dir)
        .into_iter()
        .filter(|file| file.ends_with(".py"))
        .collect()
}

/// Dotted module name of a relative path (`pkg/util.py` → `pkg.util`, `pkg/__init__.py` → `pkg`).
pub fn module_name(file: &str) -> String {
    let without = file.trim_end_matches(".py");
    let without = without.strip_suffix("/__init__").unwrap_or(without);
    without.replace('/', ".")
}

pub(super) fn text<'a>(node: tree_sitter::Node<'_>, source: &'a str) -> &'a str {
    source.get(node.byte_range()).unwrap_or("")
}

/// Modules this module imports, as dotted names (relative imports resolved).
pub(super) fn imports(module: &Module) -> Vec<String> {
    let Some(tree) = &module.tree else {
        return Vec::new();
    };
    let own = project::import_name(&module.file);
    let own_parts: Vec<&str> = own.split('.').collect();
    let base_package: Vec<&str> = if module.file.ends_with("__init__.py") {
        own_parts.clone()
    } else {
        own_parts[..own_parts.len().saturating_sub(1)].to_vec()
    };
    let mut found = Vec::new();
    let mut literals: Vec<String> = Vec::new();
    let mut loads_by_name = false;
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
                        if child.id() == from.id() || child.kind() == "comment" {
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
            "call" => {
                if let Some(loaded) = dynamic_import(node, module, &base_package) {
                    match loaded {
                        Some(name) => found.push(name),
                        None => loads_by_name = true,
                    }
                }
                for child in node.children(&mut cursor) {
                    stack.push(child);
                }
            }
            "string" => {
                if let Some(literal) = string_literal(node, &module.source) {
                    literals.push(literal);
                }
            }
            _ => {
                for child in node.children(&mut cursor) {
                    stack.push(child);
                }
            }
        }
    }
    // A module that loads modules by a computed name (a plugin table, a setting) may load
    // any module its string literals name.
    if loads_by_name {
        found.extend(literals.into_iter().filter(|l| is_dotted_name(l)));
    }
    found
}

/// The module a call loads dynamically: `importlib.import_module(NAME)`, `import_module(NAME)`
/// or `__import__(NAME)`. `Some(Some(name))` for a literal name (a leading `.` is relative to
/// the module's package), `Some(None)` for a computed one, `None` for any other call.
fn dynamic_import(
    call: tree_sitter::Node<'_>,
    module: &Module,
    base_package: &[&str],
) -> Option<Option<String>> {
    let function = text(call.child_by_field_name("function")?, &module.source);
    if !matches!(
        function,
        "importlib.import_module" | "import_module" | "__import__"
    ) {
        return None;
    }
    let arguments = call.child_by_field_name("arguments")?;
    let first = arguments.named_child(0)?;
    let Some(name) = string_literal(first, &module.source) else {
        return Some(None);
    };
    let dots = name.chars().take_while(|c| *c == '.').count();
    if dots == 0 {
        return Some(Some(name));
    }
    let keep = base_package.len().saturating_sub(dots - 1);
    let mut parts: Vec<&str> = base_package[..keep].to_vec();
    let rest = name.trim_start_matches('.');
    if !rest.is_empty() {
        parts.push(rest);
    }
    Some(Some(parts.join(".")))
}

/// The text of a plain string literal (no f-string, no concatenation), without its quotes.
pub(super) fn string_literal(node: tree_sitter::Node<'_>, source: &str) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let mut cursor = node.walk();
    let mut content = String::new();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "string_content" => content.push_str(text(child, source)),
            "string_start" | "string_end" => {}
            _ => return None,
        }
    }
    Some(content)
}

/// `pkg.plugins.csv`-like: dotted identifiers, nothing else.
fn is_dotted_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Whether the source has an `if __name__ == "__main__"` guard.
pub fn has_main_guard(source: &str) -> bool {
    source.lines().any(|line| {
        let line = line.trim();
        line.starts_with("if __name__") && line.contains("__main__")
    })
}

/// Whether a parsed module defines no function and no class anywhere.
fn defines_nothing(module: &Module) -> bool {
    let Some(tree) = &module.tree else {
        return false;
    };
    let mut cursor = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "function_definition" | "class_definition") {
            return false;
        }
        stack.extend(node.children(&mut cursor));
    }
    true
}

/// A module of a package whose dotted path has no private (`_`) part: `pkg/sub/util.py`, not
/// `pkg/_impl.py` nor a top-level script.
fn is_public_module(file: &str) -> bool {
    let name = project::import_name(file);
    name.contains('.') && name.split('.').all(|part| !part.starts_with('_'))
}

/// A test module (or pytest's `conftest.py`): its code serves the tests, not the app.
pub fn is_test_file(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
        || file.starts_with("tests/")
        || file.starts_with("test/")
        || file.contains("/tests/")
        || file.contains("/test/")
}

pub(super) fn is_entry_file(file: &str, source: &str, entry_points: &BTreeSet<String>) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    entry_points.contains(file)
        || has_main_guard(source)
        || matches!(name, "__main__.py" | "conftest.py" | "setup.py")
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || file.starts_with("tests/")
}

/// What a placeholder body holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Placeholder {
    /// `pass`.
    Pass,
    /// `...`.
    Ellipsis,
    /// `raise NotImplementedError`, with its message when it has a literal one.
    Raise(Option<String>),
}

/// The placeholder a function body is (after an optional docstring and comments), if it is one.
pub(super) fn placeholder(body: tree_sitter::Node<'_>, source: &str) -> Option<Placeholder> {
    let mut statements = Vec::new();
    let mut cursor = body.walk();
    for child in body.named_children(&mut cursor) {
        if child.kind() != "comment" {
            statements.push(child);
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
    let [statement] = statements.as_slice() else {
        return None;
    };
    let content = text(*statement, source).trim();
    if statement.kind() == "pass_statement" {
        return Some(Placeholder::Pass);
    }
    if content == "..." {
        return Some(Placeholder::Ellipsis);
    }
    if statement.kind() != "raise_statement" || !content.contains("NotImplementedError") {
        return None;
    }
    let message = statement
        .named_child(0)
        .filter(|raised| raised.kind() == "call")
        .and_then(|call| call.child_by_field_name("arguments"))
        .and_then(|arguments| arguments.named_child(0))
        .and_then(|first| string_literal(first, source));
    Some(Placeholder::Raise(message))
}

/// Is this function body a stub (a placeholder of any kind)?
pub fn is_stub(body: tree_sitter::Node<'_>, source: &str) -> bool {
    placeholder(body, source).is_some()
}

pub(super) fn first_error_line(node: tree_sitter::Node<'_>) -> usize {
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

/// What the review knows of a project besides its code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewScope {
    /// Files the commands run directly (relative).
    pub entry_points: BTreeSet<String>,
    /// Functions the contract froze as placeholders to be filled: (file, `name` or
    /// `Class.method`). A placeholder still there is a stub whatever else it looks like.
    pub to_fill: BTreeSet<(String, String)>,
}

/// All findings for the project in `dir`; `entry_points` are files the task runs directly.
pub fn find_issues(dir: &Path, entry_points: &BTreeSet<String>) -> Option<Vec<Finding>> {
    review_project(
        dir,
        &ReviewScope {
            entry_points: entry_points.clone(),
            ..ReviewScope::default()
        },
    )
}

/// All findings for the project in `dir`, knowing `scope`. `None` when the grammar cannot
/// be loaded.
pub fn review_project(dir: &Path, scope: &ReviewScope) -> Option<Vec<Finding>> {
    use rayon::prelude::*;
    // The grammar must load; then files are read and parsed on every core, a parser per thread.
    parser()?;
    let modules: Vec<Module> = python_files(dir)
        .into_par_iter()
        .map_init(parser, |parser, file| {
            let source = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
            let tree = parser.as_mut().and_then(|p| p.parse(&source, None));
            Module { file, source, tree }
        })
        .collect();
    let mut scope = scope.clone();
    scope
        .entry_points
        .extend(declared_entry_files(dir, &modules));
    if is_distribution(dir) {
        // A library's public modules are its interface: its users import them.
        scope.entry_points.extend(
            modules
                .iter()
                .filter(|m| is_public_module(&m.file) && !is_test_file(&m.file))
                .map(|m| m.file.clone()),
        );
        // A module that defines nothing (imports and names only) is a compatibility alias
        // its users may still import (`pkg/_old_name.py` re-exporting the new module).
        scope.entry_points.extend(
            modules
                .iter()
                .filter(|m| defines_nothing(m))
                .map(|m| m.file.clone()),
        );
    }
    let mut findings = rules::all(&modules, &scope, dir);
    findings.sort_by(|a, b| (&a.file, a.line, &a.kind).cmp(&(&b.file, b.line, &b.kind)));
    Some(findings)
}

/// The installed-package metadata folders at the top of `dir` (`*.dist-info`, `*.egg-info`).
fn metadata_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".dist-info") || n.ends_with(".egg-info"))
        })
        .collect()
}

/// Whether `dir` is a distribution (a library others install): it has packaging metadata
/// (pyproject.toml with a `[project]` or `[tool.poetry]` table, setup.py, setup.cfg, or an
/// installed package's `*.dist-info` / `*.egg-info`).
pub(super) fn is_distribution(dir: &Path) -> bool {
    let pyproject = std::fs::read_to_string(dir.join("pyproject.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|t| {
            t.contains_key("project") || t.get("tool").and_then(|t| t.get("poetry")).is_some()
        });
    pyproject
        || dir.join("setup.py").is_file()
        || dir.join("setup.cfg").is_file()
        || !metadata_dirs(dir).is_empty()
}

/// The project files a packaging file declares as entry points (`[project.scripts]`,
/// `[project.gui-scripts]`, `[project.entry-points.*]` and `[tool.poetry.scripts]` of
/// pyproject.toml; `name = module:function` lines of setup.cfg and setup.py): the installed
/// commands and plugins run them, so they are wired.
fn declared_entry_files(dir: &Path, modules: &[Module]) -> BTreeSet<String> {
    let mut targets: Vec<String> = Vec::new();
    if let Some(table) = std::fs::read_to_string(dir.join("pyproject.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    {
        let project = table.get("project");
        let tables = [
            project.and_then(|p| p.get("scripts")),
            project.and_then(|p| p.get("gui-scripts")),
            table
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("scripts")),
        ];
        let groups = project
            .and_then(|p| p.get("entry-points"))
            .and_then(|e| e.as_table())
            .map(|groups| groups.values().collect::<Vec<_>>())
            .unwrap_or_default();
        for table in tables.into_iter().flatten().chain(groups) {
            if let Some(table) = table.as_table() {
                targets.extend(table.values().filter_map(|v| v.as_str()).map(String::from));
            }
        }
    }
    if let Ok(pattern) = regex::Regex::new(r"=\s*([A-Za-z_][\w.]*)\s*:\s*[A-Za-z_]") {
        let mut files: Vec<std::path::PathBuf> = vec![dir.join("setup.cfg"), dir.join("setup.py")];
        files.extend(
            metadata_dirs(dir)
                .into_iter()
                .map(|d| d.join("entry_points.txt")),
        );
        for file in files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            targets.extend(pattern.captures_iter(&text).map(|c| c[1].to_string()));
        }
    }
    let files: BTreeSet<&str> = modules.iter().map(|m| m.file.as_str()).collect();
    targets
        .iter()
        .filter_map(|target| {
            let module = target.split(':').next()?.trim().replace('.', "/");
            [
                format!("{module}.py"),
                format!("{module}/__init__.py"),
                format!("src/{module}.py"),
                format!("src/{module}/__init__.py"),
            ]
            .into_iter()
            .find(|candidate| files.contains(candidate.as_str()))
        })
        .collect()
}

/// One frozen signature.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signature {
    /// Relative path of the module.
    pub file: String,
    /// `name`, or `Class.method`, or `Class` for the class line itself.
    pub name: String,
    /// The definition line, whitespace normalised (`def f(a, b=1) -> int`).
    pub text: String,
    /// 1-based line.
    pub line: usize,
    /// Whether the body is a stub.
    pub stub: bool,
}

fn header_text(node: tree_sitter::Node<'_>, source: &str) -> String {
    let end = node
        .child_by_field_name("body")
        .map(|b| b.start_byte())
        .unwrap_or(node.end_byte());
    let raw = source.get(node.start_byte()..end).unwrap_or("");
    let joined = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = joined.trim_end_matches(':').trim_end().to_string();
    // Normalise spacing around brackets and commas, so reformatting is not drift.
    joined
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(", )", ")")
        .replace(",)", ")")
}

pub(super) fn definitions<'t>(root: tree_sitter::Node<'t>) -> Vec<tree_sitter::Node<'t>> {
    let mut found = Vec::new();
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
            found.push(definition);
        }
    }
    found
}

/// The signatures of one module's source (`file` is its relative path). `None` when the
/// grammar cannot be loaded; a file with syntax errors yields what parses.
pub fn signatures_of(file: &str, source: &str) -> Option<Vec<Signature>> {
    let mut parser = parser()?;
    let tree = parser.parse(source, None)?;
    let mut found = Vec::new();
    for definition in definitions(tree.root_node()) {
        let Some(name_node) = definition.child_by_field_name("name") else {
            continue;
        };
        let name = text(name_node, source).to_string();
        let stub = definition.kind() == "function_definition"
            && definition
                .child_by_field_name("body")
                .is_some_and(|body| is_stub(body, source));
        found.push(Signature {
            file: file.to_string(),
            name: name.clone(),
            text: header_text(definition, source),
            line: definition.start_position().row + 1,
            stub,
        });
        if definition.kind() == "class_definition" {
            if let Some(body) = definition.child_by_field_name("body") {
                for method in definitions(body) {
                    if method.kind() != "function_definition" {
                        continue;
                    }
                    let Some(method_name) = method.child_by_field_name("name") else {
                        continue;
                    };
                    found.push(Signature {
                        file: file.to_string(),
                        name: format!("{name}.{}", text(method_name, source)),
                        text: header_text(method, source),
                        line: method.start_position().row + 1,
                        stub: method
                            .child_by_field_name("body")
                            .is_some_and(|body| is_stub(body, source)),
                    });
                }
            }
        }
    }
    Some(found)
}

/// Whether `source` parses as Python without errors (`None`: grammar unavailable).
pub fn parses(source: &str) -> Option<bool> {
    let mut parser = parser()?;
    Some(
        parser
            .parse(source, None)
            .is_some_and(|t| !t.root_node().has_error()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (path, content) in files {
            std::fs::write(dir.join(path), content).unwrap();
        }
    }

    #[test]
    fn calls_that_cannot_bind_are_found_and_good_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("util.py", "def total(items, rate, *, rounding=2):\n    return 1\n\nclass Box:\n    def __init__(self, size):\n        self.size = size\n"),
                (
                    "app.py",
                    "import util\nfrom util import total as t, Box\n\nif __name__ == '__main__':\n    util.total([1])\n    t([1], 0.2, rounding=3)\n    t([1], 0.2, 5)\n    t(items=[1], rate=2)\n    t([1], 2, colour=1)\n    Box(1)\n    Box()\n    t(*[1, 2])\n",
                ),
            ],
        );
        let findings = find_issues(dir.path(), &BTreeSet::new()).unwrap();
        let arity: Vec<(usize, &str)> = findings
            .iter()
            .filter(|f| f.kind == FindingKind::CallArity)
            .map(|f| (f.line, f.message.as_str()))
            .collect();
        let lines: Vec<usize> = arity.iter().map(|a| a.0).collect();
        assert_eq!(lines, vec![5, 7, 9, 11], "{arity:#?}");
        assert!(
            arity[0].1.contains("leaves `rate` without a value"),
            "{}",
            arity[0].1
        );
        assert!(arity[0].1.contains("util.py:1"), "{}", arity[0].1);
        assert!(
            arity[1]
                .1
                .contains("3 positional argument(s) where at most 2"),
            "{}",
            arity[1].1
        );
        assert!(arity[2].1.contains("`colour`"), "{}", arity[2].1);
    }

    #[test]
    fn signatures_are_normalised_and_mark_stubs() {
        let source = "class Store:\n    def __init__(self, path):\n        \"\"\"Open.\"\"\"\n        ...\n\n    def add(self,  item ,\n            qty: int = 1) -> None:\n        self.items.append(item)\n\n\ndef load(path: str) -> 'Store':\n    raise NotImplementedError\n";
        let found = signatures_of("store.py", source).unwrap();
        let view: Vec<(&str, &str, bool)> = found
            .iter()
            .map(|s| (s.name.as_str(), s.text.as_str(), s.stub))
            .collect();
        assert_eq!(
            view,
            vec![
                ("Store", "class Store", false),
                ("Store.__init__", "def __init__(self, path)", true),
                (
                    "Store.add",
                    "def add(self, item , qty: int = 1) -> None",
                    false
                ),
                ("load", "def load(path: str) -> 'Store'", true),
            ]
        );
        assert_eq!(parses("def f(:\n"), Some(false));
        assert_eq!(parses(source), Some(true));
    }
}
