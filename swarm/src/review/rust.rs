//! The review's rules for a Rust crate (see the module above for what each finds).
//!
//! The module tree it reads is in `rust_modules.rs`.
//!
//! Example of the failure it exists for: `src/report.rs` holds a finished `summary()`, but
//! `src/main.rs` never says `mod report;` — cargo does not even compile the file, the tests
//! pass, and the feature is missing.

use super::rust_modules::{
    attributes, crate_roots, declarations, in_test_code, included, loosely_reached, mod_line,
    normalise,
};
use super::{copies, descendants, leaves, line, text, Function, Source};
use crate::pyast::Finding;
use crate::verify::FindingKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Rust's keywords: tokens that are never names.
const KEYWORDS: [&str; 38] = [
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];

pub(super) fn rules(sources: &[Source], dir: &Path) -> Vec<Finding> {
    let mut findings = unwired(sources, dir);
    findings.extend(stubs(sources));
    // Copies within the crate's own modules: examples, benches, tests and binaries are
    // programs of their own, and alike by design; so are implementations chosen by target or
    // feature (`#[cfg(...)]` on the function or on the module that holds it).
    let gated = cfg_gated_files(sources);
    let functions: Vec<Function<'_>> = sources
        .iter()
        .filter(|s| s.file.starts_with("src/") && !s.file.starts_with("src/bin/"))
        .filter(|s| !is_test_file(&s.file) && !gated.contains(s.file.as_str()))
        .flat_map(|source| {
            descendants(source.tree.root_node())
                .into_iter()
                .filter(|n| n.kind() == "function_item")
                .filter(|n| n.parent().is_some_and(|p| p.kind() == "source_file"))
                .filter(|n| !in_test_code(*n, &source.text))
                .filter(|n| {
                    !attributes(*n, &source.text)
                        .iter()
                        .any(|a| a.contains("cfg") || a.contains("target_feature"))
                })
                .filter_map(|n| {
                    Some(Function {
                        file: &source.file,
                        name: text(n.child_by_field_name("name")?, &source.text).to_string(),
                        line: line(n),
                        tokens: leaves(n.child_by_field_name("body")?, &source.text),
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect();
    findings.extend(copies(&functions, &KEYWORDS));
    findings
}

/// Files whose module is declared under a `#[cfg(...)]` or `#[cfg_attr(...)]`, or brought in
/// only from inside a macro (`cfg_if!`), and the files below them.
fn cfg_gated_files(sources: &[Source]) -> BTreeSet<String> {
    let mut gated: BTreeSet<String> = BTreeSet::new();
    let Some(declared) = mod_line() else {
        return gated;
    };
    for source in sources {
        for declaration in declarations(source, false)
            .into_iter()
            .chain(declarations(source, true))
        {
            if declaration.attributes.iter().any(|a| a.contains("cfg")) {
                gated.extend(
                    declaration
                        .candidates
                        .iter()
                        .map(|c| c.trim_end_matches(".rs").to_string()),
                );
            }
        }
        // `mod x;` inside a macro: both places it may live.
        let folder = source.file.rsplit_once('/').map_or("", |(f, _)| f);
        let stem = source.file.trim_end_matches(".rs");
        for node in descendants(source.tree.root_node()) {
            if node.kind() != "macro_invocation" {
                continue;
            }
            for found in declared.captures_iter(text(node, &source.text)) {
                gated.insert(normalise(&format!("{folder}/{}", &found[1])));
                gated.insert(normalise(&format!("{stem}/{}", &found[1])));
            }
        }
    }
    sources
        .iter()
        .filter(|s| {
            let stem = s.file.trim_end_matches(".rs").trim_end_matches("/mod");
            gated
                .iter()
                .any(|g| stem == g || (!g.is_empty() && stem.starts_with(&format!("{g}/"))))
        })
        .map(|s| s.file.clone())
        .collect()
}

/// Files under `src/` no `mod` reaches from a crate root (fail), and modules declared but
/// used by path nowhere else (warning).
fn unwired(sources: &[Source], dir: &Path) -> Vec<Finding> {
    let files: BTreeSet<&str> = sources.iter().map(|s| s.file.as_str()).collect();
    let by_file: BTreeMap<&str, &Source> = sources.iter().map(|s| (s.file.as_str(), s)).collect();
    let roots = crate_roots(&files, dir);
    // Files named by `include!` are compiled too, wherever they are.
    let mut reached: BTreeSet<String> = roots.clone();
    let mut queue: Vec<String> = roots.iter().cloned().collect();
    let mut findings = Vec::new();
    let binary_only = !files.contains("src/lib.rs");
    while let Some(file) = queue.pop() {
        let Some(source) = by_file.get(file.as_str()) else {
            continue;
        };
        // `include!("x.rs")` pastes a file in: it is compiled, and its `mod` lines count.
        for target in included(source) {
            if files.contains(target.as_str()) && reached.insert(target.clone()) {
                queue.push(target);
            }
        }
        for target in loosely_reached(source, &files) {
            if reached.insert(target.to_string()) {
                queue.push(target.to_string());
            }
        }
        for declaration in declarations(source, roots.contains(&file)) {
            let Some(found) = declaration
                .candidates
                .iter()
                .find(|c| files.contains(c.as_str()))
            else {
                continue;
            };
            if reached.insert(found.clone()) {
                queue.push(found.clone());
            }
            let special = declaration
                .attributes
                .iter()
                .any(|a| a.contains("cfg(test)") || a.contains("macro_use"));
            if !binary_only || declaration.public || special || declaration.name == "tests" {
                continue;
            }
            let used = sources
                .iter()
                .any(|other| other.file != *found && uses_path(&other.text, declaration.name));
            // A module of trait impls is wired without any path naming it.
            let has_impls = by_file
                .get(found.as_str())
                .is_some_and(|m| m.text.contains("impl "));
            if !used && !has_impls {
                findings.push(Finding {
                    kind: FindingKind::UnwiredModule,
                    file: found.clone(),
                    line: 1,
                    message: format!(
                        "module `{}` is declared ({}:{}) but nothing uses it: no path names `{}::`",
                        declaration.name, file, declaration.line, declaration.name
                    ),
                    warning: true,
                });
            }
        }
    }
    if roots.is_empty() {
        return findings;
    }
    for file in &files {
        let stem = file
            .rsplit('/')
            .next()
            .unwrap_or(file)
            .trim_end_matches(".rs");
        // `eq.expected.rs` or `apple-other.rs` cannot be a module by its name: data, or a
        // file only `#[path]` or `include!` can bring in.
        let nameable = stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !file.starts_with("src/") || reached.contains(*file) || !nameable {
            continue;
        }
        let name = if stem == "mod" {
            file.trim_end_matches("/mod.rs")
                .rsplit('/')
                .next()
                .unwrap_or(stem)
        } else {
            stem
        };
        findings.push(Finding {
            kind: FindingKind::UnwiredModule,
            file: file.to_string(),
            line: 1,
            message: format!(
                "{file} is never declared (no `mod {name};` reaches it from a crate root): cargo does not compile it, so nothing in it runs"
            ),
            warning: false,
        });
    }
    findings
}

/// Whether `text` names `module` as the start of a path (`report::summary`,
/// `use crate::report`, `use super::{report, ...}`).
fn uses_path(text: &str, module: &str) -> bool {
    let Ok(pattern) = regex::Regex::new(&format!(
        r"(\b{m}\s*::)|(\buse\s[^;]*\b{m}\b)",
        m = regex::escape(module)
    )) else {
        return true;
    };
    pattern.is_match(text)
}

/// Whether `file` holds tests: under a `tests/` folder, or a module named `tests` or `test`.
fn is_test_file(file: &str) -> bool {
    let stem = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs");
    file.split('/').any(|part| part == "tests") || stem == "tests" || stem == "test"
}

/// Whether `node` lies in a trait (a default method) or an `impl Trait for Type` block: there
/// a method whose body is `unimplemented!()` is one the type never supports, an idiom.
fn in_trait(node: tree_sitter::Node<'_>) -> bool {
    let mut current = node.parent();
    while let Some(n) = current {
        match n.kind() {
            "trait_item" => return true,
            "impl_item" => return n.child_by_field_name("trait").is_some(),
            _ => current = n.parent(),
        }
    }
    false
}

/// `todo!()` outside tests, and functions whose whole body is `unimplemented!()` (outside
/// trait impls).
fn stubs(sources: &[Source]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for source in sources.iter().filter(|s| !is_test_file(&s.file)) {
        for node in descendants(source.tree.root_node()) {
            if node.kind() != "macro_invocation" || in_test_code(node, &source.text) {
                continue;
            }
            let Some(name) = node
                .child_by_field_name("macro")
                .map(|m| text(m, &source.text))
            else {
                continue;
            };
            let function = enclosing_function(node, &source.text);
            let whole_body = node
                .parent()
                .filter(|p| p.kind() == "expression_statement" || p.kind() == "block")
                .and_then(|p| {
                    if p.kind() == "block" {
                        Some(p)
                    } else {
                        p.parent()
                    }
                })
                .is_some_and(|block| {
                    block.kind() == "block"
                        && block.named_child_count() == 1
                        && block.parent().is_some_and(|f| f.kind() == "function_item")
                });
            // A function built only for some targets or features may stand in for the others.
            let gated = enclosing(node, "function_item").is_some_and(|f| {
                attributes(f, &source.text)
                    .iter()
                    .any(|a| a.contains("cfg"))
            });
            let (message, warning) = match name {
                "todo" if whole_body => (
                    format!("{function} is not implemented: its whole body is `todo!()`"),
                    false,
                ),
                // One path left to do in a function that otherwise works: said, not failed.
                "todo" => (
                    format!("`todo!()` left in {function}: it panics when reached"),
                    true,
                ),
                "unimplemented" if whole_body && !in_trait(node) && !gated => (
                    format!("{function} is not implemented: its whole body is `unimplemented!()`"),
                    false,
                ),
                _ => continue,
            };
            findings.push(Finding {
                kind: FindingKind::Stub,
                file: source.file.clone(),
                line: line(node),
                message,
                warning,
            });
        }
    }
    findings
}

/// The nearest ancestor of `node` of `kind`.
fn enclosing<'t>(node: tree_sitter::Node<'t>, kind: &str) -> Option<tree_sitter::Node<'t>> {
    let mut current = node.parent();
    while let Some(n) = current {
        if n.kind() == kind {
            return Some(n);
        }
        current = n.parent();
    }
    None
}

/// "`fn name`" for the function around `node`, or "the crate".
fn enclosing_function(node: tree_sitter::Node<'_>, source: &str) -> String {
    let mut current = node.parent();
    while let Some(n) = current {
        if n.kind() == "function_item" {
            if let Some(name) = n.child_by_field_name("name") {
                return format!("`fn {}`", text(name, source));
            }
        }
        current = n.parent();
    }
    "the crate".into()
}

#[cfg(test)]
mod tests {
    use crate::spec::Language;

    fn review(files: &[(&str, &str)]) -> Vec<(String, String, usize, bool)> {
        let dir = tempfile::tempdir().unwrap();
        for (path, source) in files {
            crate::fsutil::write_inside(dir.path(), path, source.as_bytes()).unwrap();
        }
        let (_, findings) =
            super::super::review(Language::Rust, dir.path(), &Default::default()).unwrap();
        findings
            .into_iter()
            .map(|f| (f.kind.name().to_string(), f.file, f.line, f.warning))
            .collect()
    }

    const MANIFEST: (&str, &str) = (
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );

    #[test]
    fn a_file_no_mod_declares_is_unwired_and_declared_ones_are_not() {
        let found = review(&[
            MANIFEST,
            (
                "src/main.rs",
                "mod store;\nmod cli;\nfn main() { store::open(); cli::run(); }\n",
            ),
            ("src/store.rs", "pub fn open() {}\nmod disk;\n"),
            ("src/store/disk.rs", "pub fn write() {}\n"),
            ("src/cli/mod.rs", "pub fn run() {}\n"),
            ("src/report.rs", "pub fn summary() -> u32 { 3 }\n"),
            ("src/bin/tool.rs", "fn main() {}\n"),
            ("tests/it.rs", "#[test]\nfn t() {}\n"),
        ]);
        let failing: Vec<_> = found.iter().filter(|f| !f.3).collect();
        assert_eq!(
            failing,
            vec![&("unwired_module".into(), "src/report.rs".into(), 1, false)],
            "{found:?}"
        );
    }

    #[test]
    fn a_declared_module_nothing_uses_is_a_warning_unless_it_holds_impls() {
        let found = review(&[
            MANIFEST,
            (
                "src/main.rs",
                "mod report;\nmod display;\n#[cfg(test)]\nmod tests;\nuse crate::display as _;\nfn main() {}\n",
            ),
            ("src/report.rs", "pub fn summary() -> u32 { 3 }\n"),
            ("src/display.rs", "pub fn show() {}\n"),
            ("src/tests.rs", "#[test]\nfn t() {}\n"),
        ]);
        assert_eq!(
            found,
            vec![("unwired_module".into(), "src/report.rs".into(), 1, true)]
        );
        let with_impls = review(&[
            MANIFEST,
            ("src/main.rs", "mod fmt_impls;\nstruct A;\nfn main() {}\n"),
            ("src/fmt_impls.rs", "impl std::fmt::Display for crate::A {\n    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) }\n}\n"),
        ]);
        assert!(with_impls.is_empty(), "{with_impls:?}");
    }

    #[test]
    fn todo_and_a_body_of_unimplemented_are_stubs_outside_tests() {
        let found = review(&[
            MANIFEST,
            (
                "src/main.rs",
                "fn total() -> u32 {\n    todo!()\n}\nfn parse(x: u8) -> u8 {\n    unimplemented!(\"later\")\n}\nfn pick(x: u8) -> u8 {\n    match x {\n        0 => 1,\n        _ => unimplemented!(),\n    }\n}\ntrait Shape {\n    fn area(&self) -> f64 {\n        unimplemented!()\n    }\n    fn side(&self) -> u8 { match 0 { 0 => 1, _ => todo!() } }\n}\n#[cfg(not(unix))]\nfn home() -> u8 {\n    unimplemented!()\n}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { todo!() }\n}\nfn main() { total(); parse(1); pick(0); }\n",
            ),
        ]);
        assert_eq!(
            found,
            vec![
                ("stub".into(), "src/main.rs".into(), 2, false),
                ("stub".into(), "src/main.rs".into(), 5, false),
                ("stub".into(), "src/main.rs".into(), 17, true),
            ]
        );
    }

    #[test]
    fn an_altered_copy_of_a_function_in_another_module_fails() {
        let body = "pub fn parse_date(text: &str) -> Option<(u32, u32, u32)> {\n    let parts: Vec<&str> = text.trim().split('-').collect();\n    if parts.len() != 3 {\n        return None;\n    }\n    let year = parts[0].parse().ok()?;\n    let month = parts[1].parse().ok()?;\n    let day = parts[2].parse().ok()?;\n    if !(1..=12).contains(&month) {\n        return None;\n    }\n    Some((year, month, day))\n}\n";
        let altered = body.replace("1..=12", "1..=13");
        let found = review(&[
            MANIFEST,
            ("src/main.rs", "mod dates;\nmod util;\nfn main() { dates::parse_date(\"\"); util::parse_date(\"\"); }\n"),
            ("src/dates.rs", body),
            ("src/util.rs", &altered),
        ]);
        assert_eq!(
            found,
            vec![(
                "duplicate_implementation".into(),
                "src/util.rs".into(),
                1,
                false
            )]
        );
        let same = review(&[
            MANIFEST,
            ("src/main.rs", "mod dates;\nmod util;\nfn main() { dates::parse_date(\"\"); util::parse_date(\"\"); }\n"),
            ("src/dates.rs", body),
            ("src/util.rs", body),
        ]);
        assert_eq!(
            same,
            vec![(
                "duplicate_implementation".into(),
                "src/util.rs".into(),
                1,
                true
            )]
        );
    }
}
