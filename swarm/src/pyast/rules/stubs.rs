//! `stub` — a function whose body does nothing: only `pass`, `...` or
//! `raise NotImplementedError` (after an optional docstring).
//!
//! Why it matters: a contract's stub that BUILD never filled looks like code and imports
//! cleanly; the app fails only when the path is run.
//!
//! Example: `def load(path):\n    """Read the store."""\n    ...`.

use crate::pyast::{is_stub, text, Finding, Module};
use crate::verify::FindingKind;

/// One finding per function (at any depth) whose body is a placeholder.
pub(super) fn check(modules: &[Module]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for module in modules {
        let Some(tree) = &module.tree else { continue };
        let root = tree.root_node();
        let mut cursor = root.walk();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node.kind() == "function_definition" {
                let name = node.child_by_field_name("name");
                let body = node.child_by_field_name("body");
                if let (Some(name), Some(body)) = (name, body) {
                    if is_stub(body, &module.source) {
                        findings.push(Finding {
                            kind: FindingKind::Stub,
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
    findings
}

#[cfg(test)]
mod tests {
    use super::super::review;

    #[test]
    fn a_placeholder_body_is_found_and_a_real_one_is_not() {
        let stub = "def load(path):\n    \"\"\"Read the store.\"\"\"\n    ...\n";
        let found = review(&[("store.py", stub)], &["store.py"]);
        assert!(
            found.contains(&("stub".into(), "store.py".into(), 1)),
            "{found:?}"
        );
        let real =
            "def load(path):\n    \"\"\"Read the store.\"\"\"\n    return open(path).read()\n";
        let clean = review(&[("store.py", real)], &["store.py"]);
        assert!(clean.iter().all(|f| f.0 != "stub"), "{clean:?}");
    }
}
