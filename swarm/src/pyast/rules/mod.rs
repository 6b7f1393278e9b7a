//! The review's rules, one per file. Each says what it finds, why it matters and shows an
//! example; each has its fixture (a test with a project that has the problem and one that
//! does not). [`all`] runs them in order over the parsed project.

pub(super) mod arity;
mod copies;
pub(crate) use copies::{changed_tokens, copied};
mod duplicates;
mod imports;
pub(super) mod sql;
mod stubs;
mod syntax;
mod unwired;

use super::{Finding, Module, ReviewScope};

/// The fewest tokens a body needs for the copy rule to compare it.
pub(super) fn copies_min_tokens() -> usize {
    copies::MIN_TOKENS
}

/// Every rule's findings over `modules`.
pub(super) fn all(modules: &[Module], scope: &ReviewScope, dir: &std::path::Path) -> Vec<Finding> {
    use rayon::prelude::*;
    // The rules only read the parsed modules: they run at once, and their findings are
    // joined in this order whatever finishes first.
    type Rule<'a> = Box<dyn Fn() -> Vec<Finding> + Send + Sync + 'a>;
    let rules: Vec<Rule<'_>> = vec![
        Box::new(|| syntax::check(modules)),
        Box::new(|| unwired::check(modules, &scope.entry_points)),
        Box::new(|| imports::check(modules)),
        Box::new(|| duplicates::check(modules)),
        Box::new(|| copies::check(modules)),
        Box::new(|| stubs::check(modules, &scope.to_fill)),
        Box::new(|| arity::call_arity(modules)),
        Box::new(|| sql::check(modules, sql::schema_of(dir).as_ref())),
    ];
    rules
        .par_iter()
        .map(|rule| rule())
        .collect::<Vec<_>>()
        .concat()
}

/// A fixture: the project `files` (path, source) written to a temporary directory and
/// reviewed, as (kind name, file, line) of each finding.
#[cfg(test)]
pub(super) fn review(
    files: &[(&str, &str)],
    entry_points: &[&str],
) -> Vec<(String, String, usize)> {
    let Ok(dir) = tempfile::tempdir() else {
        return Vec::new();
    };
    for (path, source) in files {
        let _ = crate::fsutil::write_inside(dir.path(), path, source.as_bytes());
    }
    let scope = ReviewScope {
        entry_points: entry_points.iter().map(|e| e.to_string()).collect(),
        ..ReviewScope::default()
    };
    review_in(files, &scope)
}

/// [`review`] knowing more of the project (a contract).
#[cfg(test)]
pub(super) fn review_in(
    files: &[(&str, &str)],
    scope: &ReviewScope,
) -> Vec<(String, String, usize)> {
    let Ok(dir) = tempfile::tempdir() else {
        return Vec::new();
    };
    for (path, source) in files {
        let _ = crate::fsutil::write_inside(dir.path(), path, source.as_bytes());
    }
    super::review_project(dir.path(), scope)
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.kind.name().to_string(), f.file, f.line))
        .collect()
}

#[cfg(test)]
mod hostile {
    #[test]
    fn deeply_nested_code_is_reviewed_without_overflowing_the_stack() {
        // Generated code can nest far deeper than any thread's stack allows recursion.
        let depth = 100_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let a = format!(
            "x = {}1{}\n\n\ndef f(a):\n    return {nested}\n",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let b = format!("def f(a):\n    return {nested}\n");
        let found = super::review(&[("a.py", &a), ("b.py", &b)], &["a.py", "b.py"]);
        assert!(
            found.iter().any(|f| f.0 == "duplicate_implementation"),
            "{found:?}"
        );
    }
}
