//! The review's proof on real code: a corpus of published, pure-Python packages (fetched at
//! pinned versions by `swarm/review-corpus/fetch.py`, never vendored), each reviewed clean
//! and then with one defect planted at a time, of every kind the review claims to find.
//!
//! A plant is chosen generically from the package's own code (the first eligible site in
//! file order), never written for a package: a cross-module call given one argument too
//! many (interface drift), a new module nothing imports (unwired), a new module only a test
//! imports, a called function whose body is replaced by `raise NotImplementedError` (a stub
//! left), an imported name renamed to one the module lacks (a broken import), a copy of an
//! imported function with one constant changed that the importer now uses (a corrupted copy
//! on the default path), and a query naming a table the schema lacks.
//!
//! Scored: the verdict (clean: no failing finding; planted: a failing one), must-find (the
//! planted defect reported at its place), false alarms (any finding on a clean package),
//! collateral (other new findings a plant caused, shown, not hidden) and seconds per package.
//! Where pyflakes or vulture are installed they answer as oracles and their disagreement with
//! the review is shown; where they are not, the comparison is inconclusive.

use super::project::import_name;
use super::rules::arity::resolved_calls;
use super::{
    definitions, is_test_file, parser, python_files, review_project, text, Finding, Module,
    ReviewScope,
};
use crate::verify::FindingKind;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The pinned corpus list (name, version, sha256, style).
pub const PACKAGES: &str = include_str!("../../review-corpus/packages.txt");

/// Findings on clean packages a reader checked and found true.
pub const KNOWN_FINDINGS: &str = include_str!("../../review-corpus/known-findings.txt");

/// One known, true finding on a clean package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownFinding {
    pub package: String,
    pub kind: String,
    pub file: String,
    pub line: usize,
    pub why: String,
}

/// The known findings of `known-findings.txt`.
pub fn known_findings() -> Vec<KnownFinding> {
    KNOWN_FINDINGS
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let package = words.next()?.to_string();
            let kind = words.next()?.to_string();
            let (file, line_number) = words.next()?.rsplit_once(':')?;
            Some(KnownFinding {
                package,
                kind,
                file: file.to_string(),
                line: line_number.parse().ok()?,
                why: words.collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

impl KnownFinding {
    fn matches(&self, package: &str, finding: &Finding) -> bool {
        self.package == package
            && self.kind == finding.kind.name()
            && self.file == finding.file
            && self.line == finding.line
    }
}

/// One package of the corpus list.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusPackage {
    pub name: String,
    pub version: String,
    pub style: String,
}

/// The corpus list's packages, in order.
pub fn corpus_packages() -> Vec<CorpusPackage> {
    PACKAGES
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [name, version, _sha, style] => Some(CorpusPackage {
                    name: name.to_string(),
                    version: version.to_string(),
                    style: style.to_string(),
                }),
                _ => None,
            }
        })
        .collect()
}

/// The kinds of planted defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlantKind {
    InterfaceDrift,
    UnwiredModule,
    TestOnlyModule,
    StubLeft,
    BrokenImport,
    CorruptedCopy,
    SqlName,
}

impl PlantKind {
    /// Every kind, in the scorecard's column order.
    pub const ALL: [PlantKind; 7] = [
        PlantKind::InterfaceDrift,
        PlantKind::UnwiredModule,
        PlantKind::TestOnlyModule,
        PlantKind::StubLeft,
        PlantKind::BrokenImport,
        PlantKind::CorruptedCopy,
        PlantKind::SqlName,
    ];

    /// A short column name.
    pub fn name(self) -> &'static str {
        match self {
            PlantKind::InterfaceDrift => "drift",
            PlantKind::UnwiredModule => "unwired",
            PlantKind::TestOnlyModule => "test-only",
            PlantKind::StubLeft => "stub",
            PlantKind::BrokenImport => "import",
            PlantKind::CorruptedCopy => "copy",
            PlantKind::SqlName => "sql",
        }
    }

    /// The finding that must report it.
    pub fn expected(self) -> FindingKind {
        match self {
            PlantKind::InterfaceDrift => FindingKind::CallArity,
            PlantKind::UnwiredModule | PlantKind::TestOnlyModule => FindingKind::UnwiredModule,
            PlantKind::StubLeft => FindingKind::Stub,
            PlantKind::BrokenImport => FindingKind::ImportError,
            PlantKind::CorruptedCopy => FindingKind::DuplicateImplementation,
            PlantKind::SqlName => FindingKind::SqlSchemaMismatch,
        }
    }
}

/// A defect planted in a copy of a package.
#[derive(Debug, Clone, Serialize)]
pub struct Plant {
    pub kind: PlantKind,
    /// Where the finding must point (relative file, 1-based line).
    pub file: String,
    pub line: usize,
    /// What was done.
    pub description: String,
}

/// An oracle's answer about one planted site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleAnswer {
    /// It reported something at the planted place.
    Flagged,
    /// It reported nothing there.
    Silent,
    /// Not installed, or it failed to run.
    Inconclusive,
}

/// One planted variant's result.
#[derive(Debug, Clone, Serialize)]
pub struct PlantResult {
    pub kind: PlantKind,
    /// `None`: the package has no site for this kind (not counted).
    pub plant: Option<Plant>,
    /// The planted defect was reported at its place.
    pub found: bool,
    /// The review's verdict on the variant was fail.
    pub verdict_fail: bool,
    /// Other findings the plant caused.
    pub collateral: Vec<Finding>,
    /// pyflakes's and vulture's answers about the planted place.
    pub pyflakes: OracleAnswer,
    pub vulture: OracleAnswer,
}

/// One package's scorecard row.
#[derive(Debug, Clone, Serialize)]
pub struct PackageScore {
    pub name: String,
    pub version: String,
    pub style: String,
    /// Python files reviewed.
    pub files: usize,
    /// Seconds the clean review took.
    pub seconds: f64,
    /// Findings on the clean package that `known-findings.txt` does not list: false alarms.
    pub clean_findings: Vec<Finding>,
    /// Findings on the clean package a reader checked and found true.
    pub known_findings: Vec<Finding>,
    /// Known findings the review no longer reports (counted as missed).
    pub known_missing: Vec<KnownFinding>,
    /// What the oracles report on the clean package (counts; not the review's claims).
    pub pyflakes_clean: Option<usize>,
    pub vulture_clean: Option<usize>,
    pub plants: Vec<PlantResult>,
}

impl PackageScore {
    /// The verdict on the clean package was right: fail only when a known true finding
    /// fails it.
    pub fn clean_verdict_right(&self) -> bool {
        let expected = self.known_findings.iter().any(fails) || !self.known_missing.is_empty();
        let actual = self
            .clean_findings
            .iter()
            .chain(&self.known_findings)
            .any(fails);
        expected == actual
    }
}

/// Whether a finding fails the review's verdict (as VERIFY's review gate counts it).
pub fn fails(finding: &Finding) -> bool {
    !finding.warning
}

/// Scores one unpacked package at `dir`; with `keep`, each planted variant is also copied
/// to `keep/<package>/<kind>/` for a reader to diff against the clean package.
pub fn score_package(
    package: &CorpusPackage,
    dir: &Path,
    keep: Option<&Path>,
) -> std::io::Result<PackageScore> {
    let started = Instant::now();
    let clean = review_project(dir, &ReviewScope::default()).unwrap_or_default();
    let seconds = started.elapsed().as_secs_f64();
    let files = python_files(dir).len();
    let mut plants = Vec::new();
    for kind in PlantKind::ALL {
        let work = tempfile::Builder::new()
            .prefix("swarm-review-corpus-")
            .tempdir()?;
        crate::fsutil::copy_tree(dir, work.path())?;
        let Some(plant) = plant(kind, work.path())? else {
            plants.push(PlantResult {
                kind,
                plant: None,
                found: false,
                verdict_fail: false,
                collateral: Vec::new(),
                pyflakes: OracleAnswer::Inconclusive,
                vulture: OracleAnswer::Inconclusive,
            });
            continue;
        };
        if let Some(keep) = keep {
            let target = keep.join(&package.name).join(kind.name());
            std::fs::create_dir_all(&target)?;
            crate::fsutil::copy_tree(work.path(), &target)?;
        }
        let findings = review_project(work.path(), &ReviewScope::default()).unwrap_or_default();
        let hits = |f: &Finding| {
            f.kind == plant.kind.expected()
                && (f.file == plant.file || f.message.contains(&plant.file))
                && (plant.kind == PlantKind::CorruptedCopy
                    || f.line == plant.line
                    || f.file != plant.file)
        };
        let found = findings.iter().any(hits);
        let verdict_fail = findings.iter().any(fails);
        let collateral = findings
            .iter()
            .filter(|f| !hits(f))
            .filter(|f| {
                !clean
                    .iter()
                    .any(|c| c.kind == f.kind && c.file == f.file && c.message == f.message)
            })
            .cloned()
            .collect();
        let pyflakes = oracle_at(&["-m", "pyflakes", "."], work.path(), &plant);
        let vulture = oracle_at(
            &["-m", "vulture", ".", "--min-confidence", "60"],
            work.path(),
            &plant,
        );
        plants.push(PlantResult {
            kind,
            plant: Some(plant),
            found,
            verdict_fail,
            collateral,
            pyflakes,
            vulture,
        });
    }
    let known: Vec<KnownFinding> = known_findings()
        .into_iter()
        .filter(|k| k.package == package.name)
        .collect();
    let (known_findings, clean_findings): (Vec<Finding>, Vec<Finding>) = clean
        .into_iter()
        .partition(|f| known.iter().any(|k| k.matches(&package.name, f)));
    let known_missing = known
        .into_iter()
        .filter(|k| !known_findings.iter().any(|f| k.matches(&package.name, f)))
        .collect();
    Ok(PackageScore {
        name: package.name.clone(),
        version: package.version.clone(),
        style: package.style.clone(),
        files,
        seconds,
        clean_findings,
        known_findings,
        known_missing,
        pyflakes_clean: oracle_count(&["-m", "pyflakes", "."], dir),
        vulture_clean: oracle_count(&["-m", "vulture", ".", "--min-confidence", "60"], dir),
        plants,
    })
}

/// Runs `python3 ARGS` in `dir`: its report lines, or `None` when the tool is not installed.
fn oracle_lines(args: &[&str], dir: &Path) -> Option<Vec<String>> {
    let output = std::process::Command::new("python3")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named") {
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| l.trim_start_matches("./").to_string())
            .filter(|l| !l.is_empty())
            .collect(),
    )
}

fn oracle_count(args: &[&str], dir: &Path) -> Option<usize> {
    oracle_lines(args, dir).map(|lines| lines.len())
}

/// Whether an oracle reports something at the planted place (`file:line:`; for a planted
/// module, anywhere in it).
fn oracle_at(args: &[&str], dir: &Path, plant: &Plant) -> OracleAnswer {
    let Some(lines) = oracle_lines(args, dir) else {
        return OracleAnswer::Inconclusive;
    };
    let whole_file = matches!(
        plant.kind,
        PlantKind::UnwiredModule | PlantKind::TestOnlyModule | PlantKind::CorruptedCopy
    );
    let at = format!("{}:{}:", plant.file, plant.line);
    let in_file = format!("{}:", plant.file);
    let flagged = lines
        .iter()
        .any(|l| l.starts_with(&at) || (whole_file && l.starts_with(&in_file)));
    if flagged {
        OracleAnswer::Flagged
    } else {
        OracleAnswer::Silent
    }
}

/// The parsed modules of `dir`.
fn load(dir: &Path) -> Vec<Module> {
    let Some(mut parser) = parser() else {
        return Vec::new();
    };
    python_files(dir)
        .into_iter()
        .map(|file| {
            let source = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
            let tree = parser.parse(&source, None);
            Module { file, source, tree }
        })
        .collect()
}

/// Replaces `range` of `file` (under `dir`) with `with`.
fn edit(dir: &Path, file: &str, range: std::ops::Range<usize>, with: &str) -> std::io::Result<()> {
    let path = dir.join(file);
    let mut source = std::fs::read_to_string(&path)?;
    source.replace_range(range, with);
    std::fs::write(path, source)
}

/// The folder new modules go in: the shallowest package (a folder with `__init__.py`), or
/// the top for a single-module project; and its dotted name.
fn package_dir(modules: &[Module]) -> (PathBuf, String) {
    let mut packages: Vec<&str> = modules
        .iter()
        .map(|m| m.file.as_str())
        .filter(|f| f.ends_with("/__init__.py") && !is_test_file(f))
        .collect();
    packages.sort_by_key(|f| (f.matches('/').count(), f.to_string()));
    match packages.first() {
        Some(init) => {
            let folder = init.trim_end_matches("/__init__.py");
            (PathBuf::from(folder), import_name(init))
        }
        None => (PathBuf::new(), String::new()),
    }
}

fn join_dotted(package: &str, module: &str) -> String {
    if package.is_empty() {
        module.to_string()
    } else {
        format!("{package}.{module}")
    }
}

/// Plants one defect of `kind` in the package at `dir`; `None` when it has no site for it.
pub fn plant(kind: PlantKind, dir: &Path) -> std::io::Result<Option<Plant>> {
    let modules = load(dir);
    let (folder, package) = package_dir(&modules);
    match kind {
        PlantKind::InterfaceDrift => plant_drift(dir, &modules),
        PlantKind::UnwiredModule => {
            let file = folder.join("_planted_report.py");
            let file = file.to_string_lossy().to_string();
            crate::fsutil::write_inside(
                dir,
                &file,
                b"def planted_summary(rows):\n    \"\"\"How many rows there are.\"\"\"\n    return len(rows)\n",
            )?;
            Ok(Some(Plant {
                kind,
                line: 1,
                description: format!("added {file}, which nothing imports"),
                file,
            }))
        }
        PlantKind::TestOnlyModule => {
            let file = folder.join("_planted_helpers.py");
            let file = file.to_string_lossy().to_string();
            crate::fsutil::write_inside(
                dir,
                &file,
                b"def planted_helper(value):\n    return value * 2\n",
            )?;
            let dotted = join_dotted(&package, "_planted_helpers");
            let test = format!(
                "from {dotted} import planted_helper\n\n\ndef test_planted_helper():\n    assert planted_helper(2) == 4\n"
            );
            crate::fsutil::write_inside(dir, "tests/test_planted_helpers.py", test.as_bytes())?;
            Ok(Some(Plant {
                kind,
                line: 1,
                description: format!(
                    "added {file}, which only tests/test_planted_helpers.py imports"
                ),
                file,
            }))
        }
        PlantKind::StubLeft => plant_stub(dir, &modules),
        PlantKind::BrokenImport => plant_broken_import(dir, &modules),
        PlantKind::CorruptedCopy => plant_copy(dir, &modules),
        PlantKind::SqlName => {
            let target = if package.is_empty() {
                modules
                    .iter()
                    .map(|m| m.file.clone())
                    .find(|f| !is_test_file(f) && f != "setup.py")
            } else {
                Some(folder.join("__init__.py").to_string_lossy().to_string())
            };
            let Some(target) = target else {
                return Ok(None);
            };
            crate::fsutil::write_inside(
                dir,
                "schema.sql",
                b"CREATE TABLE planted_items (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL\n);\n",
            )?;
            let path = dir.join(&target);
            let mut source = std::fs::read_to_string(&path)?;
            if !source.ends_with('\n') {
                source.push('\n');
            }
            source.push_str("\n\ndef _planted_count(conn):\n    return conn.execute(\"SELECT count(*) FROM planted_item WHERE name = ?\", (\"x\",)).fetchone()\n");
            let line = source.lines().count();
            std::fs::write(path, source)?;
            Ok(Some(Plant {
                kind,
                line,
                description: format!(
                    "added schema.sql (table planted_items) and a query of `planted_item` to {target}"
                ),
                file: target,
            }))
        }
    }
}

/// A cross-module call of a module-level function, passing exactly what it accepts by
/// position, given one argument more.
fn plant_drift(dir: &Path, modules: &[Module]) -> std::io::Result<Option<Plant>> {
    let mut calls: Vec<_> = resolved_calls(modules)
        .into_iter()
        .filter(|c| c.plain_function && c.candidates.len() == 1 && !is_test_file(&c.file))
        .filter(|c| c.candidates[0].1 != c.file && c.keywords.is_empty())
        .filter(|c| c.problem().is_none())
        .filter(|c| {
            let params = &c.candidates[0].0;
            !params.var_positional && c.positional >= params.positional.len()
        })
        .collect();
    calls.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let Some(call) = calls.into_iter().next() else {
        return Ok(None);
    };
    let source = std::fs::read_to_string(dir.join(&call.file))?;
    let inside = &source[call.arguments.start..call.arguments.end - 1];
    let trimmed = inside.trim_end();
    let insert = if trimmed == "(" {
        "None"
    } else if trimmed.ends_with(',') {
        " None"
    } else {
        ", None"
    };
    let at = call.arguments.start + trimmed.len();
    edit(dir, &call.file, at..at, insert)?;
    Ok(Some(Plant {
        kind: PlantKind::InterfaceDrift,
        description: format!(
            "passed one argument more to `{}` ({} defines it at line {})",
            call.callee_text, call.candidates[0].1, call.candidates[0].2
        ),
        file: call.file,
        line: call.line,
    }))
}

/// The `def` node of a module-level, undecorated function at `line` of a module.
fn undecorated_function_at<'t>(module: &'t Module, line: usize) -> Option<tree_sitter::Node<'t>> {
    let tree = module.tree.as_ref()?;
    let root = tree.root_node();
    let mut cursor = root.walk();
    let found = root
        .named_children(&mut cursor)
        .find(|n| n.kind() == "function_definition" && n.start_position().row + 1 == line);
    found
}

/// A function another module calls has its body replaced by `raise NotImplementedError`.
fn plant_stub(dir: &Path, modules: &[Module]) -> std::io::Result<Option<Plant>> {
    let mut targets: Vec<(String, usize)> = resolved_calls(modules)
        .into_iter()
        .filter(|c| c.plain_function && c.candidates.len() == 1 && !is_test_file(&c.file))
        .map(|c| (c.candidates[0].1.clone(), c.candidates[0].2))
        .filter(|(file, _)| !is_test_file(file))
        .collect();
    targets.sort();
    targets.dedup();
    for (file, line) in targets {
        let Some(module) = modules.iter().find(|m| m.file == file) else {
            continue;
        };
        let Some(function) = undecorated_function_at(module, line) else {
            continue;
        };
        let Some(body) = function.child_by_field_name("body") else {
            continue;
        };
        if super::placeholder(body, &module.source).is_some() {
            continue;
        }
        let name = function
            .child_by_field_name("name")
            .map(|n| text(n, &module.source).to_string())
            .unwrap_or_default();
        edit(dir, &file, body.byte_range(), "raise NotImplementedError")?;
        return Ok(Some(Plant {
            kind: PlantKind::StubLeft,
            description: format!("replaced the body of `{name}`, which another module calls, by `raise NotImplementedError`"),
            file,
            line,
        }));
    }
    Ok(None)
}

/// Every plain name a non-test module imports at its top with `from m import name`:
/// (importing module, the statement, the name's node, the absolute module `m`).
fn from_imports(
    modules: &[Module],
) -> Vec<(
    &Module,
    tree_sitter::Node<'_>,
    tree_sitter::Node<'_>,
    String,
)> {
    let mut found = Vec::new();
    for module in modules.iter().filter(|m| !is_test_file(&m.file)) {
        let Some(tree) = &module.tree else { continue };
        let root = tree.root_node();
        let mut cursor = root.walk();
        let statements: Vec<tree_sitter::Node<'_>> = root
            .named_children(&mut cursor)
            .filter(|n| n.kind() == "import_from_statement")
            .collect();
        for statement in statements {
            let Some(from) = statement.child_by_field_name("module_name") else {
                continue;
            };
            let base = super::project::absolute(&module.file, text(from, &module.source));
            let mut names = statement.walk();
            let children: Vec<tree_sitter::Node<'_>> =
                statement.named_children(&mut names).collect();
            for child in children {
                if child.id() != from.id() && child.kind() == "dotted_name" {
                    found.push((module, statement, child, base.clone()));
                }
            }
        }
    }
    found
}

/// The first unguarded `from m import name` of a project module's name gets a name `m`
/// lacks (aliased back, so the rest of the module is unchanged).
fn plant_broken_import(dir: &Path, modules: &[Module]) -> std::io::Result<Option<Plant>> {
    let project = super::project::Project::new(modules);
    for (module, _, child, base) in from_imports(modules) {
        let name = text(child, &module.source);
        if project.has_name(&base, name) != Some(true) || name.contains('.') {
            continue;
        }
        let renamed = format!("{name}_planted as {name}");
        let line = child.start_position().row + 1;
        edit(dir, &module.file, child.byte_range(), &renamed)?;
        return Ok(Some(Plant {
            kind: PlantKind::BrokenImport,
            description: format!(
                "imported `{name}_planted` from `{base}`, which has only `{name}`"
            ),
            file: module.file.clone(),
            line,
        }));
    }
    Ok(None)
}

/// A function another module imports is copied into a new module with its first integer
/// constant changed, and the importer is made to import the copy: the default path runs
/// the corrupted copy while the right one sits unused.
fn plant_copy(dir: &Path, modules: &[Module]) -> std::io::Result<Option<Plant>> {
    let project = super::project::Project::new(modules);
    for (importer, statement, child, base) in from_imports(modules) {
        let name = text(child, &importer.source);
        let super::project::Value::Function(home, _) = project.lookup(&base, name) else {
            continue;
        };
        let Some(source_module) = modules.iter().find(|m| import_name(&m.file) == home) else {
            continue;
        };
        let Some(copy) = corrupted_copy(source_module, name) else {
            continue;
        };
        let folder = Path::new(&source_module.file)
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let file = folder
            .join("_planted_copy.py")
            .to_string_lossy()
            .to_string();
        let copy_module = import_name(&file);
        let content = format!("from {home} import *  # noqa: F401,F403\n\n\n{copy}\n");
        crate::fsutil::write_inside(dir, &file, content.as_bytes())?;
        let column = statement.start_position().column;
        let line_after = format!("\n{}from {copy_module} import {name}", " ".repeat(column));
        let end = statement.end_byte();
        edit(dir, &importer.file, end..end, &line_after)?;
        return Ok(Some(Plant {
                    kind: PlantKind::CorruptedCopy,
                    description: format!(
                        "copied `{name}` from {} into {file} with one constant changed; {} now imports the copy",
                        source_module.file, importer.file
                    ),
                    line: 4,
                    file,
                }));
    }
    Ok(None)
}

/// The source of module-level function `name` with its first integer literal changed, when
/// it is long enough to count as a copy and has one.
fn corrupted_copy(module: &Module, name: &str) -> Option<String> {
    let tree = module.tree.as_ref()?;
    let function = definitions(tree.root_node()).into_iter().find(|d| {
        d.kind() == "function_definition"
            && d.child_by_field_name("name")
                .is_some_and(|n| text(n, &module.source) == name)
    })?;
    let outer = function
        .parent()
        .filter(|p| p.kind() == "decorated_definition")
        .unwrap_or(function);
    let body = function.child_by_field_name("body")?;
    let mut tokens = 0;
    let mut first_integer = None;
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        if node.child_count() == 0 {
            tokens += 1;
        }
        if node.kind() == "integer"
            && first_integer
                .is_none_or(|f: tree_sitter::Node<'_>| node.start_byte() < f.start_byte())
        {
            first_integer = Some(node);
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    // Comfortably over the copy rule's minimum (its count leaves docstrings out).
    if tokens < super::rules::copies_min_tokens() + 20 {
        return None;
    }
    let integer = first_integer?;
    let value: i64 = text(integer, &module.source).parse().ok()?;
    let start = outer.start_byte();
    let mut copy = module.source.get(start..outer.end_byte())?.to_string();
    let offset = integer.start_byte() - start;
    copy.replace_range(
        offset..offset + (integer.end_byte() - integer.start_byte()),
        &(value + 1).to_string(),
    );
    // The copy sits at the top of its module.
    let indent = outer.start_position().column;
    Some(if indent == 0 {
        copy
    } else {
        copy.lines()
            .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small package written here (no registry needed): every kind of plant has a site.
    fn package(dir: &Path) {
        let files = [
            ("shop-1.0.dist-info/METADATA", "Name: shop\n"),
            ("shop/__init__.py", "from .prices import total\nfrom .cart import Cart\n"),
            (
                "shop/prices.py",
                "TAX = 20\n\n\ndef total(amounts, rate):\n    \"\"\"The total with tax.\"\"\"\n    subtotal = 0\n    for amount in amounts:\n        if amount < 0:\n            raise ValueError('negative amount: ' + str(amount))\n        subtotal = subtotal + amount\n    taxed = subtotal * (100 + rate) // 100\n    if taxed > 1000000:\n        raise ValueError('too large: ' + str(taxed))\n    return taxed\n",
            ),
            (
                "shop/cart.py",
                "from .prices import total\n\n\nclass Cart:\n    def __init__(self):\n        self.items = []\n\n    def add(self, amount):\n        self.items.append(amount)\n\n    def price(self):\n        return total(self.items, 20)\n",
            ),
        ];
        for (path, source) in files {
            crate::fsutil::write_inside(dir, path, source.as_bytes()).unwrap();
        }
    }

    #[test]
    fn every_kind_is_planted_in_a_small_package_and_found() {
        let dir = tempfile::tempdir().unwrap();
        package(dir.path());
        let listed = CorpusPackage {
            name: "shop".into(),
            version: "1.0".into(),
            style: "fixture".into(),
        };
        let score = score_package(&listed, dir.path(), None).unwrap();
        assert!(
            score.clean_findings.is_empty(),
            "{:#?}",
            score.clean_findings
        );
        assert!(score.clean_verdict_right());
        for result in &score.plants {
            let plant = result
                .plant
                .as_ref()
                .unwrap_or_else(|| panic!("{:?}: no site", result.kind));
            assert!(
                result.found && result.verdict_fail,
                "{:?} ({}) not found; other findings: {:#?}",
                result.kind,
                plant.description,
                result.collateral
            );
        }
    }

    #[test]
    fn the_pinned_list_parses_into_at_least_fifteen_packages() {
        let packages = corpus_packages();
        assert!(packages.len() >= 15, "{packages:?}");
        assert!(packages
            .iter()
            .all(|p| !p.version.is_empty() && !p.style.is_empty()));
    }
}
