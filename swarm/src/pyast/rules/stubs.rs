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

use crate::pyast::{placeholder, text, Finding, Module, Placeholder};
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

/// One finding per function (at any depth) whose body is a placeholder left to fill: one the
/// contract froze to be filled (`to_fill`), or one that is neither an interface nor a
/// deliberate no-op.
pub(super) fn check(modules: &[Module], to_fill: &BTreeSet<(String, String)>) -> Vec<Finding> {
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
            let Some(kind) = placeholder(body, &module.source) else {
                continue;
            };
            let method = text(name, &module.source);
            let source = &module.source;
            if interface.holds(node, method, body, source) {
                continue;
            }
            let (_, owner) = enclosing(node);
            let qualified = match owner.and_then(|c| c.child_by_field_name("name")) {
                Some(class) => format!("{}.{method}", text(class, source)),
                None => method.to_string(),
            };
            let message = if to_fill.contains(&(module.file.clone(), qualified.clone())) {
                format!("`{qualified}` was frozen by the contract to be filled and is still a placeholder")
            } else if interface
                .deliberate(node, method, &kind, &module.file, source)
                .is_some()
            {
                continue;
            } else {
                format!("`{qualified}` is a stub: its body does nothing")
            };
            findings.push(Finding {
                kind: FindingKind::Stub,
                file: module.file.clone(),
                line: node.start_position().row + 1,
                message,
                warning: false,
            });
        }
    }
    findings
}

/// Words of a `NotImplementedError` message that say the work is left to do.
const LEFT_TO_DO: [&str; 10] = [
    "todo",
    "fixme",
    "stub",
    "placeholder",
    "implement me",
    "to be implemented",
    "not yet implemented",
    "not implemented yet",
    "fill in",
    "write me",
];

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
    /// Whether a class or one of its project ancestors declares itself abstract (a subclass
    /// of a `Protocol` is a protocol too).
    fn is_abstract(&self, class: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut queue = vec![class.to_string()];
        while let Some(current) = queue.pop() {
            if !seen.insert(current.clone()) {
                continue;
            }
            let Some(info) = self.classes.get(&current) else {
                continue;
            };
            if info.declared_abstract {
                return true;
            }
            queue.extend(info.bases.iter().cloned());
        }
        false
    }

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
        self.is_abstract(class)
            || self
                .overridden
                .get(class)
                .is_some_and(|methods| methods.contains(method))
            || (raises && (is_base || overrides))
    }
}

impl Interface<'_> {
    /// Why a placeholder nothing froze is deliberate, if it is: in a test (a test double),
    /// decorated (the decorator gives it its behaviour: an overload, a command group), a
    /// dunder (a protocol no-op), a `NotImplementedError` whose message explains it (a "not
    /// supported" path), a method of a class deriving from one outside the project (it may
    /// override a no-op there), or a `pass` method promising no value (a null object's
    /// no-op). A module-level function, or a method whose annotation promises a value, that
    /// does nothing is still a stub.
    fn deliberate(
        &self,
        function: tree_sitter::Node<'_>,
        method: &str,
        kind: &Placeholder,
        file: &str,
        source: &str,
    ) -> Option<&'static str> {
        let (decorators, owner) = enclosing(function);
        if crate::pyast::is_test_file(file) {
            return Some("a test double");
        }
        let decorated = decorators.iter().any(|d| {
            let name = text(*d, source).trim_start_matches('@');
            !matches!(name.trim(), "staticmethod" | "classmethod")
        });
        if decorated {
            return Some("decorated");
        }
        if method.starts_with("__") && method.ends_with("__") && method.len() > 4 {
            return Some("a protocol method");
        }
        // Up to its scope: defined under `if`/`try`/`except` (a platform fallback, a
        // typing-only declaration), or inside another function (a no-op callback).
        let mut parent = function.parent();
        while let Some(node) = parent {
            match node.kind() {
                "if_statement" | "try_statement" | "except_clause" | "else_clause"
                | "elif_clause" => return Some("a conditional definition"),
                "function_definition" if *kind == Placeholder::Pass => {
                    return Some("a nested no-op callback")
                }
                "function_definition" | "class_definition" | "module" => break,
                _ => {}
            }
            parent = node.parent();
        }
        if let Placeholder::Raise(Some(message)) = kind {
            let lower = message.to_lowercase();
            if !lower.trim().is_empty() && !LEFT_TO_DO.iter().any(|w| lower.contains(w)) {
                return Some("an explained error path");
            }
        }
        let class = owner?;
        let name = class.child_by_field_name("name").map(|n| text(n, source))?;
        let info = self.classes.get(name)?;
        if info
            .bases
            .iter()
            .any(|b| b != "object" && !self.classes.contains_key(b))
        {
            return Some("an override of a class outside the project");
        }
        let promises_value = function
            .child_by_field_name("return_type")
            .is_some_and(|r| !matches!(text(r, source).trim(), "None" | "\"None\""));
        (*kind == Placeholder::Pass && !promises_value).then_some("a no-op method")
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
        // A method whose annotation promises a value, and a message that says work is left.
        let promised = "class Report:\n    def render(self) -> str:\n        pass\n\n    def rows(self):\n        raise NotImplementedError('TODO: rows')\n\n\nprint(Report)\n";
        assert_eq!(
            stubs(&[("app.py", promised)]),
            vec![("app.py".into(), 2), ("app.py".into(), 5)]
        );
    }

    #[test]
    fn deliberate_no_ops_are_not_stubs_unless_the_contract_froze_them() {
        // A decorated body (an overload, a command group), a dunder, an explained
        // NotImplementedError, a method of a class deriving from one outside the project, a
        // null object's `pass` method, a test double.
        let deliberate = "import typing\nimport click\n\n\n@typing.overload\ndef get(key: int) -> int: ...\n\n\n@click.group()\ndef cli():\n    pass\n\n\nclass View:\n    def __exit__(self, *exc):\n        pass\n\n    def enable_fts(self, *args):\n        raise NotImplementedError('views cannot be indexed')\n\n\nclass Memo(dict):\n    def get(self, *args): ...\n\n\nclass NullBar:\n    def update(self, value):\n        pass\n\n\nprint(get, cli, View, Memo, NullBar)\n";
        let test = ("tests/test_app.py", "def fake_loader(path):\n    pass\n");
        assert_eq!(stubs(&[("app.py", deliberate), test]), vec![]);
        // The same no-op, frozen by the contract as a body to fill, is a stub.
        let scope = crate::pyast::ReviewScope {
            entry_points: ["app.py".to_string()].into(),
            to_fill: [("app.py".to_string(), "NullBar.update".to_string())].into(),
        };
        let found: Vec<(String, usize)> =
            super::super::review_in(&[("app.py", deliberate)], &scope)
                .into_iter()
                .filter(|f| f.0 == "stub")
                .map(|f| (f.1, f.2))
                .collect();
        assert_eq!(found, vec![("app.py".into(), 27)]);
    }

    #[test]
    fn fallbacks_callbacks_and_protocol_subclasses_are_not_stubs() {
        let code = "import typing\n\ntry:\n    import fcntl\nexcept ImportError:\n    def set_cloexec(fd):\n        \"Without fcntl there is nothing to set.\"\n        pass\n\n\ndef cached(func, log=None):\n    if log is None:\n        def log(message):\n            pass\n    return func, log\n\n\nclass Basic(typing.Protocol):\n    def gettext(self, message: str) -> str: ...\n\n\nclass Context(Basic):\n    def pgettext(self, context: str, message: str) -> str: ...\n\n\nprint(cached, Context)\n";
        assert_eq!(stubs(&[("app.py", code)]), vec![]);
    }
}
