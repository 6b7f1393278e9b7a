//! `stub` — a function whose body does nothing: only `pass`, `...` or
//! `raise NotImplementedError` (after an optional docstring), and that nothing marks as an
//! interface.
//!
//! Why it matters: a contract's stub that BUILD never filled looks like code and imports
//! cleanly; the app fails only when the path is run.
//!
//! Example: `def load(path):\n    """Read the store."""\n    ...`.
//!
//! Not a stub — an interface, written that way on purpose:
//! - any placeholder method of an abstract class (a base `ABC`, `Protocol`, a `metaclass=`
//!   `ABCMeta`) or one decorated `@abstractmethod`;
//! - a placeholder method of a project class that a project subclass overrides (a hook);
//! - a method that only raises `NotImplementedError` in a class other project classes derive
//!   from, or one that overrides a base class's method (a deliberate "not supported" path).

use crate::pyast::{is_stub, text, Finding, Module};
use crate::verify::FindingKind;
use std::collections::{BTreeMap, BTreeSet};

/// What the rule knows of one project class, by its simple name.
#[derive(Debug, Default)]
struct ClassInfo {
    /// Its bases' simple names (`abc.ABC` → `ABC`).
    bases: Vec<String>,
    /// Its methods' names.
    methods: BTreeSet<String>,
    /// It declares itself abstract (a base `ABC`/`Protocol`, or `metaclass=ABCMeta`).
    declared_abstract: bool,
}

/// Base names that make a class an interface.
const ABSTRACT_BASES: [&str; 3] = ["ABC", "Protocol", "ABCMeta"];

/// One finding per function (at any depth) whose body is a placeholder and is no interface.
pub(super) fn check(modules: &[Module]) -> Vec<Finding> {
    let classes = project_classes(modules);
    let overridden = overridden_methods(&classes);
    let interface = Interface {
        classes: &classes,
        overridden: &overridden,
    };
    let mut findings = Vec::new();
    for module in modules {
        for node in nodes_of_kind(module, "function_definition") {
            let name = node.child_by_field_name("name");
            let body = node.child_by_field_name("body");
            let (Some(name), Some(body)) = (name, body) else {
                continue;
            };
            let method = text(name, &module.source);
            if is_stub(body, &module.source) && !interface.holds(node, method, body, &module.source)
            {
                findings.push(Finding {
                    kind: FindingKind::Stub,
                    file: module.file.clone(),
                    line: node.start_position().row + 1,
                    message: format!("`{method}` is a stub: its body does nothing"),
                });
            }
        }
    }
    findings
}

/// Every node of `kind` in the module's tree, at any depth.
fn nodes_of_kind<'t>(module: &'t Module, kind: &str) -> Vec<tree_sitter::Node<'t>> {
    let mut found = Vec::new();
    let Some(tree) = &module.tree else {
        return found;
    };
    let root = tree.root_node();
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.kind() == kind {
            found.push(node);
        }
        stack.extend(node.children(&mut cursor));
    }
    found
}

/// Every class defined anywhere in the project (top level or nested), by simple name.
fn project_classes(modules: &[Module]) -> BTreeMap<String, ClassInfo> {
    let mut classes: BTreeMap<String, ClassInfo> = BTreeMap::new();
    for module in modules {
        for node in nodes_of_kind(module, "class_definition") {
            let Some(name) = node.child_by_field_name("name") else {
                continue;
            };
            let info = class_info(node, &module.source);
            let entry = classes
                .entry(text(name, &module.source).to_string())
                .or_default();
            entry.bases.extend(info.bases);
            entry.methods.extend(info.methods);
            entry.declared_abstract |= info.declared_abstract;
        }
    }
    classes
}

fn class_info(class: tree_sitter::Node<'_>, source: &str) -> ClassInfo {
    let mut info = ClassInfo::default();
    if let Some(arguments) = class.child_by_field_name("superclasses") {
        let mut cursor = arguments.walk();
        for argument in arguments.named_children(&mut cursor) {
            // `metaclass=ABCMeta` is a keyword argument; a base is an expression.
            let value = argument.child_by_field_name("value").unwrap_or(argument);
            let simple = simple_name(text(value, source));
            info.declared_abstract |= ABSTRACT_BASES.contains(&simple.as_str());
            if argument.kind() != "keyword_argument" {
                info.bases.push(simple);
            }
        }
    }
    if let Some(body) = class.child_by_field_name("body") {
        let mut cursor = body.walk();
        for child in body.named_children(&mut cursor) {
            let definition = if child.kind() == "decorated_definition" {
                child.child_by_field_name("definition").unwrap_or(child)
            } else {
                child
            };
            if definition.kind() == "function_definition" {
                if let Some(name) = definition.child_by_field_name("name") {
                    info.methods.insert(text(name, source).to_string());
                }
            }
        }
    }
    info
}

/// `abc.ABC` → `ABC`; `Protocol[T]` → `Protocol`; `Generic[T]` → `Generic`.
fn simple_name(expression: &str) -> String {
    let head = expression.split('[').next().unwrap_or(expression).trim();
    head.rsplit('.').next().unwrap_or(head).to_string()
}

/// For each project class other project classes derive from, the methods some of them
/// redefine (possibly none).
fn overridden_methods(classes: &BTreeMap<String, ClassInfo>) -> BTreeMap<String, BTreeSet<String>> {
    let mut overridden: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for info in classes.values() {
        for base in &info.bases {
            let Some(parent) = classes.get(base) else {
                continue;
            };
            let shared = info.methods.intersection(&parent.methods).cloned();
            overridden.entry(base.clone()).or_default().extend(shared);
        }
    }
    overridden
}

/// Whether a placeholder method is an interface (see the module docs).
struct Interface<'a> {
    classes: &'a BTreeMap<String, ClassInfo>,
    overridden: &'a BTreeMap<String, BTreeSet<String>>,
}

impl Interface<'_> {
    fn holds(
        &self,
        function: tree_sitter::Node<'_>,
        method: &str,
        body: tree_sitter::Node<'_>,
        source: &str,
    ) -> bool {
        let (decorators, owner) = enclosing(function);
        if decorators
            .iter()
            .any(|d| text(*d, source).contains("abstractmethod"))
        {
            return true;
        }
        let Some(class) = owner.and_then(|c| c.child_by_field_name("name")) else {
            return false;
        };
        let class = text(class, source);
        let Some(info) = self.classes.get(class) else {
            return false;
        };
        // `overridden` has an entry for every class a project class derives from.
        let is_base = self.overridden.contains_key(class);
        let overrides = info.bases.iter().any(|base| {
            self.classes
                .get(base)
                .is_some_and(|parent| parent.methods.contains(method))
        });
        let raises = text(body, source).contains("NotImplementedError");
        info.declared_abstract
            || self
                .overridden
                .get(class)
                .is_some_and(|methods| methods.contains(method))
            || (raises && (is_base || overrides))
    }
}

/// The decorators of a function and the class it is a method of, if any.
fn enclosing(
    function: tree_sitter::Node<'_>,
) -> (Vec<tree_sitter::Node<'_>>, Option<tree_sitter::Node<'_>>) {
    let mut decorators = Vec::new();
    let mut node = function;
    if let Some(decorated) = function
        .parent()
        .filter(|p| p.kind() == "decorated_definition")
    {
        let mut cursor = decorated.walk();
        decorators.extend(
            decorated
                .named_children(&mut cursor)
                .filter(|c| c.kind() == "decorator"),
        );
        node = decorated;
    }
    let owner = node
        .parent()
        .filter(|p| p.kind() == "block")
        .and_then(|block| block.parent())
        .filter(|p| p.kind() == "class_definition");
    (decorators, owner)
}

#[cfg(test)]
mod tests {
    use super::super::review;

    fn stubs(files: &[(&str, &str)]) -> Vec<(String, usize)> {
        review(files, &["app.py"])
            .into_iter()
            .filter(|f| f.0 == "stub")
            .map(|f| (f.1, f.2))
            .collect()
    }

    #[test]
    fn a_placeholder_body_is_found_and_a_real_one_is_not() {
        let stub = "def load(path):\n    \"\"\"Read the store.\"\"\"\n    ...\n";
        assert_eq!(stubs(&[("app.py", stub)]), vec![("app.py".into(), 1)]);
        let real =
            "def load(path):\n    \"\"\"Read the store.\"\"\"\n    return open(path).read()\n";
        assert_eq!(stubs(&[("app.py", real)]), vec![]);
    }

    #[test]
    fn interface_methods_are_not_stubs() {
        // A base class whose method raises NotImplementedError, overridden by a subclass.
        let base = "class Exporter:\n    def export(self, rows):\n        raise NotImplementedError(\"subclasses export\")\n";
        let sub = "from exporter import Exporter\n\n\nclass Csv(Exporter):\n    def export(self, rows):\n        return ','.join(rows)\n";
        let app = "import csvout\nprint(csvout.Csv().export(['a']))\n";
        assert_eq!(
            stubs(&[("exporter.py", base), ("csvout.py", sub), ("app.py", app)]),
            vec![]
        );
        // ABC and Protocol members, and @abstractmethod, whatever their placeholder.
        let abstract_ = "from abc import ABC, abstractmethod\nfrom typing import Protocol\n\n\nclass Store(ABC):\n    @abstractmethod\n    def load(self):\n        ...\n\n    def close(self):\n        pass\n\n\nclass Reader(Protocol):\n    def read(self) -> str: ...\n\n\nprint(Store, Reader)\n";
        assert_eq!(stubs(&[("app.py", abstract_)]), vec![]);
        // A deliberate "not supported" override.
        let unsupported = "class Base:\n    def seek(self, n):\n        return n\n\n\nclass Stream(Base):\n    def seek(self, n):\n        raise NotImplementedError('streams cannot seek')\n\n\nprint(Stream)\n";
        assert_eq!(stubs(&[("app.py", unsupported)]), vec![]);
    }

    #[test]
    fn a_placeholder_nothing_marks_as_an_interface_is_still_a_stub() {
        // A lone class (no subclass, not abstract): its NotImplementedError is work left.
        let lone = "class Report:\n    def render(self):\n        raise NotImplementedError\n\n\nprint(Report().render())\n";
        assert_eq!(stubs(&[("app.py", lone)]), vec![("app.py".into(), 2)]);
        // A module-level function that raises it is a stub too.
        let function = "def total(rows):\n    raise NotImplementedError\n";
        assert_eq!(stubs(&[("app.py", function)]), vec![("app.py".into(), 1)]);
        // A `pass` method of a class others derive from but do not override: still a stub.
        let base = "class Base:\n    def run(self):\n        pass\n\n\nclass Job(Base):\n    def other(self):\n        return 1\n\n\nprint(Job)\n";
        assert_eq!(stubs(&[("app.py", base)]), vec![("app.py".into(), 2)]);
    }
}
