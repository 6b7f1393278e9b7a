//! `duplicate_implementation` — the same top-level function or class implemented in two
//! modules of the app, as copies (identical, or alike enough that one was copied from the
//! other and then changed).
//!
//! Why it matters: callers in one module reach one copy and callers in another reach the
//! other; when one copy is wrong (a constant mistyped, a branch dropped) the app runs the wrong
//! one on some paths while the right one sits unused — a fault running, tests and a reader
//! all miss. Both places are reported, with who imports each.
//!
//! Example: `def parse_date(text)` in `util.py` and an altered copy in `cli/dates.py`.
//!
//! Copies that differ fail the review (one of them is probably wrong); identical copies are
//! a warning (duplicated code that still behaves alike).
//!
//! Not reported: tests (fixtures are often alike), bodies too short to be a copy rather than
//! an idiom (fewer than [`MIN_TOKENS`] tokens), same-named definitions whose bodies differ
//! (two functions that share a name, not a copy), and variants that differ only in the names
//! they use (a plugin's version of a class wired to its own collaborators). A copy whose
//! literals, operators or keywords changed is reported: that is how a corrupted copy looks.

use crate::pyast::project::{import_name, Project};
use crate::pyast::{definitions, is_test_file, text, Finding, Module};
use crate::verify::FindingKind;
use std::collections::{BTreeMap, BTreeSet};

/// Bodies shorter than this many tokens are idioms, not copies.
pub(super) const MIN_TOKENS: usize = 40;
/// How alike two bodies must be (shared token trigrams over all of them) to be one copied.
pub(super) const ALIKE: f64 = 0.75;

struct Definition<'m> {
    module: &'m Module,
    name: String,
    line: usize,
    tokens: Vec<&'m str>,
}

/// One finding per pair of modules implementing the same name as copies.
pub(super) fn check(modules: &[Module]) -> Vec<Finding> {
    let mut by_name: BTreeMap<String, Vec<Definition<'_>>> = BTreeMap::new();
    for module in modules {
        if is_test_file(&module.file) {
            continue;
        }
        let Some(tree) = &module.tree else { continue };
        for definition in definitions(tree.root_node()) {
            let (Some(name), Some(body)) = (
                definition.child_by_field_name("name"),
                definition.child_by_field_name("body"),
            ) else {
                continue;
            };
            let mut tokens = Vec::new();
            leaves(body, &module.source, &mut tokens);
            if tokens.len() < MIN_TOKENS {
                continue;
            }
            let name = text(name, &module.source).to_string();
            by_name.entry(name.clone()).or_default().push(Definition {
                module,
                name,
                line: definition.start_position().row + 1,
                tokens,
            });
        }
    }
    let project = Project::new(modules);
    let mut findings = Vec::new();
    for definitions in by_name.values() {
        for (i, first) in definitions.iter().enumerate() {
            for second in &definitions[i + 1..] {
                if first.module.file == second.module.file {
                    continue;
                }
                let Some((identical, how)) = copied(&first.tokens, &second.tokens, &KEYWORDS)
                else {
                    continue;
                };
                let users = |d: &Definition<'_>| {
                    let importers = project.importers_of(&import_name(&d.module.file), &d.name);
                    if importers.is_empty() {
                        "imported by no other module".to_string()
                    } else {
                        format!(
                            "imported by {}",
                            importers.into_iter().collect::<Vec<_>>().join(", ")
                        )
                    }
                };
                findings.push(Finding {
                    kind: FindingKind::DuplicateImplementation,
                    file: second.module.file.clone(),
                    line: second.line,
                    message: format!(
                        "`{}` is implemented twice, {how}: {}:{} ({}) and {}:{} ({})",
                        second.name,
                        first.module.file,
                        first.line,
                        users(first),
                        second.module.file,
                        second.line,
                        users(second)
                    ),
                    warning: identical,
                });
            }
        }
    }
    findings
}

/// The leaf tokens of a node in source order (comments and docstrings left out).
fn leaves<'s>(node: tree_sitter::Node<'_>, source: &'s str, out: &mut Vec<&'s str>) {
    // An explicit stack: generated code can nest deeper than the thread's stack.
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.kind() == "comment" {
            continue;
        }
        if node.kind() == "expression_statement"
            && node.named_child_count() == 1
            && node.named_child(0).is_some_and(|c| c.kind() == "string")
        {
            continue;
        }
        if node.child_count() == 0 || node.kind() == "string" {
            let token = source.get(node.byte_range()).unwrap_or("");
            if !token.trim().is_empty() {
                out.push(token);
            }
            continue;
        }
        let mut cursor = node.walk();
        let children: Vec<tree_sitter::Node<'_>> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
}

/// Whether one of two same-named bodies (leaf tokens, in any language whose `keywords` are
/// given) is a copy of the other: at least [`MIN_TOKENS`] long, [`ALIKE`] alike, and not
/// merely the same shape with other names. Then (identical, how they compare in words):
/// identical copies behave alike (a warning), copies that differ mean one of them is
/// probably wrong.
pub(crate) fn copied(a: &[&str], b: &[&str], keywords: &[&str]) -> Option<(bool, String)> {
    if a.len() < MIN_TOKENS || b.len() < MIN_TOKENS {
        return None;
    }
    let alike = similarity(a, b);
    if alike < ALIKE || only_names_differ(a, b, keywords) {
        return None;
    }
    Some(if a == b {
        (true, "identical copies".to_string())
    } else {
        (
            false,
            format!("copies {:.0}% alike that differ", alike * 100.0),
        )
    })
}

/// Python's keywords: tokens that are never names.
const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Whether every token that differs between two bodies is a name: the same shape wired to
/// different collaborators (a plugin's variant of a class), not a copy that was altered.
fn only_names_differ(a: &[&str], b: &[&str], keywords: &[&str]) -> bool {
    a != b
        && changed_tokens(a, b)
            .iter()
            .all(|token| is_name(token, keywords))
}

/// The tokens two bodies do not share (both sides of every change).
pub(crate) fn changed_tokens<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<&'t str> {
    let mut changed: Vec<&str> = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, a, b) {
        let (old, new) = (op.old_range(), op.new_range());
        if matches!(op.tag(), similar::DiffTag::Equal) {
            continue;
        }
        changed.extend(a[old].iter().copied());
        changed.extend(b[new].iter().copied());
    }
    changed
}

/// An identifier that is not a keyword.
fn is_name(token: &str, keywords: &[&str]) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && token.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !keywords.contains(&token)
}

/// Shared token trigrams over all trigrams of the two bodies (Jaccard, as multisets).
fn similarity(a: &[&str], b: &[&str]) -> f64 {
    fn grams<'a>(tokens: &'a [&'a str]) -> BTreeMap<&'a [&'a str], usize> {
        let mut counts = BTreeMap::new();
        for gram in tokens.windows(3) {
            *counts.entry(gram).or_insert(0) += 1;
        }
        counts
    }
    let (left, right) = (grams(a), grams(b));
    let keys: BTreeSet<&&[&str]> = left.keys().chain(right.keys()).collect();
    let (mut shared, mut all) = (0usize, 0usize);
    for key in keys {
        let (l, r) = (
            left.get(*key).copied().unwrap_or(0),
            right.get(*key).copied().unwrap_or(0),
        );
        shared += l.min(r);
        all += l.max(r);
    }
    if all == 0 {
        0.0
    } else {
        shared as f64 / all as f64
    }
}

#[cfg(test)]
mod tests {
    use super::super::review;

    const PARSE: &str = "def parse_date(text):\n    parts = text.strip().split('-')\n    if len(parts) != 3:\n        raise ValueError('expected YYYY-MM-DD, got ' + text)\n    year, month, day = (int(p) for p in parts)\n    if not 1 <= month <= 12:\n        raise ValueError('month out of range')\n    return (year, month, day)\n";

    #[test]
    fn a_corrupted_copy_in_another_module_is_found_with_both_places() {
        let util = ("util.py", PARSE);
        let corrupted = PARSE.replace("<= 12", "<= 13");
        let dates = ("cli/dates.py", corrupted.as_str());
        let app = (
            "app.py",
            "from cli.dates import parse_date\nprint(parse_date('2024-01-02'))\n",
        );
        let found = review(&[util, dates, app, ("cli/__init__.py", "")], &["app.py"]);
        let copies: Vec<&(String, String, usize)> = found
            .iter()
            .filter(|f| f.0 == "duplicate_implementation")
            .collect();
        assert_eq!(copies.len(), 1, "{found:?}");
        let dir = tempfile::tempdir().unwrap();
        for (path, source) in [util, dates, app, ("cli/__init__.py", "")] {
            crate::fsutil::write_inside(dir.path(), path, source.as_bytes()).unwrap();
        }
        let entries = ["app.py".to_string()].into();
        let all = crate::pyast::find_issues(dir.path(), &entries).unwrap();
        let finding = all
            .iter()
            .find(|f| f.kind.name() == "duplicate_implementation")
            .unwrap();
        assert!(
            finding
                .message
                .contains("util.py:1 (imported by no other module)"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("cli/dates.py:1 (imported by app)"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("alike that differ"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn different_bodies_short_idioms_variants_and_tests_are_not_copies() {
        let util = ("util.py", PARSE);
        let other = ("other.py", "def parse_date(text):\n    import datetime\n    value = datetime.date.fromisoformat(text)\n    return (value.year, value.month, value.day)\n");
        let short_a = ("a.py", "def main():\n    print('a')\n");
        let short_b = ("b.py", "def main():\n    print('a')\n");
        let test = ("tests/test_util.py", PARSE);
        // A variant wired to another collaborator (only a name differs).
        let variant = PARSE.replace("ValueError('month", "RangeError('month");
        let variant = ("strict.py", variant.as_str());
        let found = review(
            &[util, other, short_a, short_b, test, variant],
            &["a.py", "b.py"],
        );
        assert!(
            found.iter().all(|f| f.0 != "duplicate_implementation"),
            "{found:?}"
        );
    }
}
