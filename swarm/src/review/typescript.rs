//! The review's rules for a TypeScript app (see the module above for what each finds).
//!
//! Example of the failure it exists for: `src/report.ts` exports a finished `summary()`, but
//! `cli.ts` (what `node dist/cli.js` runs) never imports it — it compiles, its tests pass, and
//! the feature is missing.
//!
//! Entry points: the sources of the files the commands run (`node dist/cli.js` is `cli.ts` or
//! `src/cli.ts`: the output folder of tsconfig.json, else `dist/`, `build/`, `out/` or `lib/`,
//! maps back to its root folder), package.json's `main` and `bin`, and tests (`*.test.ts`,
//! `*.spec.ts`, anything under `test/`, `tests/` or `__tests__/`). When no command names a
//! source of the app, the unwired rule says nothing: it cannot tell what the app is.

use super::{copies, descendants, leaves, line, text, Function, Source};
use crate::pyast::Finding;
use crate::verify::FindingKind;
use std::collections::BTreeSet;
use std::path::Path;

/// TypeScript's keywords: tokens that are never names.
const KEYWORDS: [&str; 44] = [
    "as",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "of",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "while",
];

/// Extensions of compiled or source files a command may run.
const RUNNABLE: [&str; 6] = [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts"];

/// The files a shell command runs that are JavaScript or TypeScript (`node dist/cli.js 2 3`
/// runs `dist/cli.js`), relative to the app.
pub fn sources_run_by(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .map(|word| word.trim_matches(|c| c == '"' || c == '\''))
        .filter(|word| RUNNABLE.iter().any(|ext| word.ends_with(ext)))
        .filter(|word| !word.starts_with('/') && !word.contains(".."))
        .map(|word| word.trim_start_matches("./").to_string())
        .collect()
}

/// Whether `file` is a test.
fn is_test(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    let stem = name.split('.').next().unwrap_or(name);
    name.contains(".test.")
        || name.contains(".spec.")
        || stem.ends_with("_test")
        || file
            .split('/')
            .any(|part| part == "test" || part == "tests" || part == "__tests__")
}

/// The source an output or source path stands for, among `files`.
fn source_of(run: &str, files: &BTreeSet<&str>, out_dirs: &[(String, String)]) -> Option<String> {
    let stem = RUNNABLE
        .iter()
        .find_map(|ext| run.strip_suffix(ext))
        .unwrap_or(run);
    let mut bases = vec![stem.to_string()];
    for (out, root) in out_dirs {
        if let Some(rest) = stem.strip_prefix(&format!("{out}/")) {
            bases.push(if root.is_empty() {
                rest.to_string()
            } else {
                format!("{root}/{rest}")
            });
            bases.push(format!("src/{rest}"));
        }
    }
    bases.iter().find_map(|base| {
        [".ts", ".tsx", ".mts", ".cts"]
            .iter()
            .map(|ext| format!("{base}{ext}"))
            .find(|candidate| files.contains(candidate.as_str()))
    })
}

/// (output folder, its source root): tsconfig.json's `outDir` and `rootDir` when it parses,
/// then the usual output folders.
fn output_folders(dir: &Path) -> Vec<(String, String)> {
    let clean = |p: &str| p.trim_start_matches("./").trim_end_matches('/').to_string();
    let mut folders = Vec::new();
    if let Some(options) =
        crate::toolchain::read_tsconfig(dir).and_then(|v| v.get("compilerOptions").cloned())
    {
        if let Some(out) = options.get("outDir").and_then(|v| v.as_str()) {
            let root = options
                .get("rootDir")
                .and_then(|v| v.as_str())
                .map_or(String::new(), clean);
            folders.push((clean(out), root));
        }
    }
    for out in ["dist", "build", "out", "lib"] {
        folders.push((out.to_string(), String::new()));
    }
    folders
}

/// package.json's `main` and `bin` files.
fn package_entries(dir: &Path) -> Vec<String> {
    let Some(package) = std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        return Vec::new();
    };
    let mut entries: Vec<String> = package
        .get("main")
        .and_then(|v| v.as_str())
        .map(String::from)
        .into_iter()
        .collect();
    match package.get("bin") {
        Some(serde_json::Value::String(bin)) => entries.push(bin.clone()),
        Some(serde_json::Value::Object(bins)) => {
            entries.extend(bins.values().filter_map(|v| v.as_str().map(String::from)))
        }
        _ => {}
    }
    entries
        .iter()
        .map(|e| e.trim_start_matches("./").to_string())
        .collect()
}

/// The relative module specifiers a source imports, re-exports or requires.
fn specifiers(source: &Source) -> Vec<&str> {
    let unquote = |node: tree_sitter::Node<'_>| {
        let raw = text(node, &source.text);
        raw.trim_matches(|c| c == '"' || c == '\'' || c == '`')
    };
    let mut found = Vec::new();
    for node in descendants(source.tree.root_node()) {
        match node.kind() {
            "import_statement" | "export_statement" => {
                if let Some(from) = node.child_by_field_name("source") {
                    found.push(unquote(from));
                }
            }
            // `import x = require("./x")`
            "import_require_clause" | "call_expression" => {
                let callee = node
                    .child_by_field_name("function")
                    .map(|f| text(f, &source.text));
                let is_loader = node.kind() == "import_require_clause"
                    || matches!(callee, Some("require" | "import"));
                if !is_loader {
                    continue;
                }
                let argument = descendants(node)
                    .into_iter()
                    .skip(1)
                    .find(|n| n.kind() == "string");
                if let Some(argument) = argument {
                    found.push(unquote(argument));
                }
            }
            _ => {}
        }
    }
    found.into_iter().filter(|s| s.starts_with('.')).collect()
}

/// The source file a relative specifier in `from` names, among `files`.
fn resolve(from: &str, specifier: &str, files: &BTreeSet<&str>) -> Option<String> {
    let folder = from.rsplit_once('/').map_or("", |(f, _)| f);
    let joined = super::rust_modules::normalise(&format!("{folder}/{specifier}"));
    let stem = [".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"]
        .iter()
        .find_map(|ext| joined.strip_suffix(ext))
        .unwrap_or(&joined);
    [".ts", ".tsx", ".mts", ".cts", "/index.ts", "/index.tsx"]
        .iter()
        .map(|ext| format!("{stem}{ext}"))
        .find(|candidate| files.contains(candidate.as_str()))
}

pub(super) fn rules(
    sources: &[Source],
    dir: &Path,
    entry_points: &BTreeSet<String>,
) -> Vec<Finding> {
    let mut findings = unwired(sources, dir, entry_points);
    findings.extend(stubs(sources));
    let files: BTreeSet<&str> = sources.iter().map(|s| s.file.as_str()).collect();
    findings.extend(super::ts_arity::arity(sources, &|from, specifier| {
        resolve(from, specifier, &files)
    }));
    let functions: Vec<Function<'_>> = sources
        .iter()
        .filter(|s| !is_test(&s.file))
        .flat_map(|source| {
            descendants(source.tree.root_node())
                .into_iter()
                .filter(|n| n.kind() == "function_declaration")
                .filter(|n| {
                    n.parent().is_some_and(|p| {
                        p.kind() == "program"
                            || (p.kind() == "export_statement"
                                && p.parent().is_some_and(|g| g.kind() == "program"))
                    })
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

/// Sources no other non-test source imports and that no command runs.
fn unwired(sources: &[Source], dir: &Path, entry_points: &BTreeSet<String>) -> Vec<Finding> {
    let files: BTreeSet<&str> = sources.iter().map(|s| s.file.as_str()).collect();
    let out_dirs = output_folders(dir);
    let runs: BTreeSet<String> = entry_points
        .iter()
        .cloned()
        .chain(package_entries(dir))
        .filter_map(|run| source_of(&run, &files, &out_dirs))
        .collect();
    let application: Vec<&Source> = sources.iter().filter(|s| !is_test(&s.file)).collect();
    if runs.is_empty() || application.len() <= 1 {
        return Vec::new();
    }
    // Imports by tests do not wire a module into the app.
    let imported: BTreeSet<String> = application
        .iter()
        .flat_map(|source| {
            specifiers(source)
                .into_iter()
                .filter_map(|s| resolve(&source.file, s, &files))
                .filter(|target| *target != source.file)
                .collect::<Vec<_>>()
        })
        .collect();
    let tested: BTreeSet<String> = sources
        .iter()
        .filter(|s| is_test(&s.file))
        .flat_map(|source| {
            specifiers(source)
                .into_iter()
                .filter_map(|s| resolve(&source.file, s, &files))
                .collect::<Vec<_>>()
        })
        .collect();
    application
        .iter()
        .filter(|s| !runs.contains(&s.file) && !imported.contains(&s.file))
        .map(|source| Finding {
            kind: FindingKind::UnwiredModule,
            file: source.file.clone(),
            line: 1,
            message: format!(
                "{} is never imported by the app ({}){}: nothing in it runs",
                source.file,
                format_runs(&runs),
                if tested.contains(&source.file) {
                    "; only tests import it"
                } else {
                    ""
                }
            ),
            warning: false,
        })
        .collect()
}

fn format_runs(runs: &BTreeSet<String>) -> String {
    let names: Vec<&str> = runs.iter().map(String::as_str).collect();
    format!("which runs from {}", names.join(", "))
}

/// Functions and methods whose whole body throws a not-implemented error.
fn stubs(sources: &[Source]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for source in sources.iter().filter(|s| !is_test(&s.file)) {
        for node in descendants(source.tree.root_node()) {
            let function = matches!(
                node.kind(),
                "function_declaration"
                    | "method_definition"
                    | "function_expression"
                    | "arrow_function"
                    | "generator_function_declaration"
            );
            let Some(only) = node
                .child_by_field_name("body")
                .filter(|b| function && b.kind() == "statement_block")
                .and_then(|body| super::signatures::typescript_placeholder(body, &source.text))
            else {
                continue;
            };
            let name = node
                .child_by_field_name("name")
                .map_or("a function".to_string(), |n| {
                    format!("`{}`", text(n, &source.text))
                });
            findings.push(Finding {
                kind: FindingKind::Stub,
                file: source.file.clone(),
                line: line(node),
                message: format!(
                    "{name} is not implemented: its whole body throws `{}`",
                    text(only, &source.text).trim().trim_end_matches(';')
                ),
                warning: false,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use crate::spec::Language;

    fn review(files: &[(&str, &str)], runs: &[&str]) -> Vec<(String, String, usize, bool)> {
        let dir = tempfile::tempdir().unwrap();
        for (path, source) in files {
            crate::fsutil::write_inside(dir.path(), path, source.as_bytes()).unwrap();
        }
        let entries = runs.iter().map(|r| r.to_string()).collect();
        let (_, findings) =
            super::super::review(Language::TypeScript, dir.path(), &entries).unwrap();
        findings
            .into_iter()
            .map(|f| (f.kind.name().to_string(), f.file, f.line, f.warning))
            .collect()
    }

    #[test]
    fn commands_name_the_files_they_run() {
        assert_eq!(
            super::sources_run_by("node dist/cli.js add \"x y\""),
            vec!["dist/cli.js"]
        );
        assert_eq!(
            super::sources_run_by("node /etc/x.js ../y.js"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_module_only_tests_import_is_unwired_and_imported_ones_are_not() {
        let found = review(
            &[
                (
                    "src/cli.ts",
                    "import { load } from \"./store.js\";\nimport * as fmt from './format';\nconst { x } = require(\"./legacy\");\nexport async function main() { const m = await import(\"./lazy.js\"); }\n",
                ),
                ("src/store.ts", "export function load() { return 1; }\n"),
                ("src/format/index.ts", "export const a = 1;\n"),
                ("src/legacy.ts", "export const x = 1;\n"),
                ("src/lazy.ts", "export const y = 1;\n"),
                ("src/report.ts", "export function summary(): number { return 3; }\n"),
                ("src/report.test.ts", "import { summary } from \"./report.js\";\n"),
                ("types.d.ts", "declare const z: number;\n"),
            ],
            &["dist/cli.js"],
        );
        assert_eq!(
            found,
            vec![("unwired_module".into(), "src/report.ts".into(), 1, false)]
        );
        // No command naming a source: the rule cannot tell what the app is, and says nothing.
        let unknown = review(
            &[
                ("a.ts", "export const a = 1;\n"),
                ("b.ts", "export const b = 1;\n"),
            ],
            &[],
        );
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn a_body_that_only_throws_not_implemented_is_a_stub() {
        let found = review(
            &[(
                "cli.ts",
                "export function total(xs: number[]): number {\n  throw new Error(\"not implemented\");\n}\nclass Store {\n  load(): string {\n    // filled in later\n    throw new Error(\"TODO: load\");\n  }\n  save(): void {\n    throw new Error(\"disk full\");\n  }\n}\nconst parse = (s: string): number => {\n  throw new Error(\"Not yet implemented\");\n};\nfunction check(x: number): number {\n  if (x < 0) throw new Error(\"not implemented for negatives\");\n  return x;\n}\n",
            )],
            &["dist/cli.js"],
        );
        assert_eq!(
            found,
            vec![
                ("stub".into(), "cli.ts".into(), 1, false),
                ("stub".into(), "cli.ts".into(), 5, false),
                ("stub".into(), "cli.ts".into(), 13, false),
            ]
        );
    }

    #[test]
    fn an_altered_copy_in_another_module_fails_and_an_identical_one_warns() {
        let body = "export function parseDate(text: string): [number, number, number] {\n  const parts = text.trim().split(\"-\").map(Number);\n  if (parts.length !== 3 || parts.some((p) => Number.isNaN(p))) {\n    throw new Error(`expected YYYY-MM-DD, got ${text}`);\n  }\n  const [year, month, day] = parts;\n  if (month < 1 || month > 12) {\n    throw new Error(\"month out of range\");\n  }\n  return [year, month, day];\n}\n";
        let cli = (
            "cli.ts",
            "import { parseDate } from \"./dates.js\";\nimport * as u from \"./util.js\";\nconsole.log(parseDate(\"\"), u.parseDate(\"\"));\n",
        );
        let altered = body.replace("month > 12", "month > 13");
        let found = review(
            &[cli, ("dates.ts", body), ("util.ts", &altered)],
            &["dist/cli.js"],
        );
        assert_eq!(
            found,
            vec![(
                "duplicate_implementation".into(),
                "util.ts".into(),
                1,
                false
            )]
        );
        let same = review(
            &[cli, ("dates.ts", body), ("util.ts", body)],
            &["dist/cli.js"],
        );
        assert_eq!(
            same,
            vec![("duplicate_implementation".into(), "util.ts".into(), 1, true)]
        );
    }
}
