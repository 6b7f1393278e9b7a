//! `duplicate_definition` — a top-level function or class defined twice in one module.
//!
//! Why it matters: Python keeps the later one silently; a model that rewrites a function by
//! appending a new copy leaves the reader (and the next model) looking at the wrong one.
//!
//! Example: `def total(rows): ...` on line 1 and again on line 9 of `report.py`, reported at
//! line 9 with the first line named.

use crate::pyast::{definitions, text, Finding, Module};
use crate::verify::FindingKind;
use std::collections::BTreeMap;

/// One finding per repeated top-level `def` or `class` name, at the repetition.
pub(super) fn check(modules: &[Module]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for module in modules {
        let Some(tree) = &module.tree else { continue };
        // name → (line of the last definition, whether it was a `@typing.overload`)
        let mut top_level: BTreeMap<String, (usize, bool)> = BTreeMap::new();
        for definition in definitions(tree.root_node()) {
            let Some(name) = definition.child_by_field_name("name") else {
                continue;
            };
            let name = text(name, &module.source).to_string();
            let line = definition.start_position().row + 1;
            let overload = is_overload(definition, &module.source);
            // Overloads declare one function's signatures; the implementation follows them.
            let earlier = top_level.insert(name.clone(), (line, overload));
            if let Some((first, false)) = earlier.filter(|_| !overload) {
                findings.push(Finding {
                    kind: FindingKind::DuplicateDefinition,
                    file: module.file.clone(),
                    line,
                    message: format!(
                        "`{name}` is defined again (first on line {first}); the later one wins"
                    ),
                    warning: true,
                });
            }
        }
    }
    findings
}

/// Whether a definition is decorated `@overload` / `@typing.overload`.
fn is_overload(definition: tree_sitter::Node<'_>, source: &str) -> bool {
    definition
        .parent()
        .filter(|p| p.kind() == "decorated_definition")
        .is_some_and(|decorated| {
            let mut cursor = decorated.walk();
            let found = decorated
                .named_children(&mut cursor)
                .filter(|c| c.kind() == "decorator")
                .any(|d| text(d, source).trim_end().ends_with("overload"));
            found
        })
}

#[cfg(test)]
mod tests {
    use super::super::review;

    #[test]
    fn a_second_top_level_definition_is_found_and_a_method_of_the_same_name_is_not() {
        let twice = "def total(rows):\n    return 0\n\n\ndef total(rows):\n    return sum(rows)\n";
        let found = review(&[("report.py", twice)], &["report.py"]);
        assert!(
            found.contains(&("duplicate_definition".into(), "report.py".into(), 5)),
            "{found:?}"
        );
        let method = "def total(rows):\n    return sum(rows)\n\n\nclass Sheet:\n    def total(self):\n        return 1\n";
        let clean = review(&[("report.py", method)], &["report.py"]);
        assert!(
            clean.iter().all(|f| f.0 != "duplicate_definition"),
            "{clean:?}"
        );
        let overloads = "import typing\n\n\n@typing.overload\ndef get(key: int) -> int: ...\n\n\n@typing.overload\ndef get(key: str) -> str: ...\n\n\ndef get(key):\n    return key\n";
        let clean = review(&[("report.py", overloads)], &["report.py"]);
        assert!(
            clean.iter().all(|f| f.0 != "duplicate_definition"),
            "{clean:?}"
        );
    }
}
