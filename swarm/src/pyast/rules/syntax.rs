//! `syntax_error` — a Python file that does not parse.
//!
//! Why it matters: nothing in it can be imported or run, and every other rule sees only the
//! fragments tree-sitter could recover.
//!
//! Example: `def add(a, b:\n    return a + b` (an unclosed parameter list), reported at the
//! first line with an error.

use crate::pyast::{first_error_line, Finding, Module};
use crate::verify::FindingKind;

/// One finding per file whose tree has an error, at its first error.
pub(super) fn check(modules: &[Module]) -> Vec<Finding> {
    modules
        .iter()
        .filter_map(|module| {
            let root = module.tree.as_ref()?.root_node();
            root.has_error().then(|| Finding {
                kind: FindingKind::SyntaxError,
                file: module.file.clone(),
                line: first_error_line(root),
                message: "the file does not parse as Python".into(),
                warning: false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::review;

    #[test]
    fn an_unclosed_parameter_list_is_found_and_valid_code_is_not() {
        let found = review(
            &[("app.py", "x = 1\ndef add(a, b:\n    return a + b\n")],
            &["app.py"],
        );
        assert!(
            found
                .iter()
                .any(|f| f.0 == "syntax_error" && f.1 == "app.py"),
            "{found:?}"
        );
        let clean = review(
            &[("app.py", "def add(a, b):\n    return a + b\n")],
            &["app.py"],
        );
        assert!(clean.iter().all(|f| f.0 != "syntax_error"), "{clean:?}");
    }
}
