//! `import_error` (from the review) — `from m import name` where `m` is a module of the
//! project and binds no `name` (and has no submodule of that name): the import fails the
//! first time the module loads.
//!
//! Why it matters: a weak model imports the name it expected a sibling module to define,
//! not the one the sibling defines; nothing fails until that module is imported.
//!
//! Example: `from .store import load_items` while `store.py` defines `load`.
//!
//! Left alone (inconclusive): imports inside a `try` (an optional dependency or a fallback),
//! modules outside the project, and modules whose names cannot all be known (a star import,
//! a module `__getattr__`, `globals()` writes).

use crate::pyast::project::{absolute, Project};
use crate::pyast::{text, Finding, Module};
use crate::verify::FindingKind;

/// One finding per imported name the project module does not have.
pub(super) fn check(modules: &[Module]) -> Vec<Finding> {
    let project = Project::new(modules);
    let mut findings = Vec::new();
    for module in modules {
        let Some(tree) = &module.tree else { continue };
        let source = &module.source;
        let root = tree.root_node();
        let mut cursor = root.walk();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node.kind() == "try_statement" {
                continue;
            }
            if node.kind() != "import_from_statement" {
                stack.extend(node.children(&mut cursor));
                continue;
            }
            let Some(from) = node.child_by_field_name("module_name") else {
                continue;
            };
            let base = absolute(&module.file, text(from, source));
            let mut names = node.walk();
            for child in node.named_children(&mut names) {
                if child.id() == from.id() || matches!(child.kind(), "wildcard_import" | "comment")
                {
                    continue;
                }
                let name_node = child.child_by_field_name("name").unwrap_or(child);
                let name = text(name_node, source);
                if project.has_name(&base, name) == Some(false) {
                    findings.push(Finding {
                        kind: FindingKind::ImportError,
                        file: module.file.clone(),
                        line: child.start_position().row + 1,
                        message: format!(
                            "imports `{name}` from `{base}`, which neither defines it nor has a submodule of that name"
                        ),
                        warning: false,
                    });
                }
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::review;

    #[test]
    fn a_name_the_module_does_not_have_is_found_and_real_or_guarded_ones_are_not() {
        let store = (
            "pkg/store.py",
            "LIMIT = 3\n\n\ndef load():\n    return []\n",
        );
        let init = ("pkg/__init__.py", "");
        let helpers = ("pkg/helpers/__init__.py", "");
        let cli = (
            "pkg/cli.py",
            "from .store import (  # noqa: F401\n    load, LIMIT, __doc__,  # the loader\n)\nfrom . import helpers, store\nfrom .store import load_items\nimport json\nfrom json import nothing_checked\n\ntry:\n    from .store import fast_load\nexcept ImportError:\n    fast_load = load\n\n\ndef main():\n    from pkg.store import missing\n    return missing\n",
        );
        let found: Vec<(String, usize)> = review(&[store, init, helpers, cli], &["pkg/cli.py"])
            .into_iter()
            .filter(|f| f.0 == "import_error")
            .map(|f| (f.1, f.2))
            .collect();
        assert_eq!(
            found,
            vec![("pkg/cli.py".into(), 5), ("pkg/cli.py".into(), 16)]
        );
    }
}
