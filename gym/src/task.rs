//! Tasks: `tasks/<suite>/<task>/task.yaml`, the visible spec, follow-up turns, hidden
//! requirements, hidden checks per turn and a reference solution per turn.
//!
//! ```yaml
//! id: wordfreq                      # must equal the directory name
//! archetype: heavy-spec             # heavy-spec | minimal-spec | continue-existing
//! persona: "A data journalist who wants exact counts and no surprises."
//! spec: spec.md                     # the visible spec: turn 1's request (default spec.md)
//! start: start/                     # optional: the existing project (continue-existing)
//! hidden_requirements:              # the judge sees these; the system under test does not
//!   - Words are compared case-insensitively.
//! turns:
//!   - reference: reference/turn1/   # the whole project as it should be after this turn
//!     fixtures:                     # files copied in at grading time only (hidden)
//!       sample.txt: "the cat the\n"
//!     checks:
//!       - console: |                # trycmd-style: `$ cmd`, expected stdout, [..], ..., ? N
//!           $ python3 wordfreq.py sample.txt
//!           the 2
//!           cat 1
//!       - file_exists: wordfreq.py
//!       - file_contains: {path: wordfreq.py, text: "def "}
//!       - file_matches: {path: wordfreq.py, regex: "argparse|sys\\.argv"}
//!       - command_succeeds: python3 -m py_compile wordfreq.py
//!   - request: "Add --top N to print only the N most frequent words."
//!     reference: reference/turn2/
//!     checks: [...]
//! ```
//!
//! Checks live only here: the system under test works in its own directory and never sees
//! the task; grading copies the produced project and the fixtures into a fresh directory.

use graders::checks::Check;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The kind of task, which decides how much the spec says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Archetype {
    /// A detailed spec with acceptance commands.
    HeavySpec,
    /// A short request; the rest must be inferred.
    MinimalSpec,
    /// Work on an existing project (`start/`).
    ContinueExisting,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    id: String,
    archetype: Archetype,
    persona: String,
    #[serde(default = "default_spec")]
    spec: String,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    hidden_requirements: Vec<String>,
    turns: Vec<TurnFile>,
}

fn default_spec() -> String {
    "spec.md".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnFile {
    #[serde(default)]
    request: Option<String>,
    reference: String,
    #[serde(default)]
    fixtures: BTreeMap<String, String>,
    checks: Vec<CheckFile>,
}

/// A check as written: a map with exactly one of these keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    console: Option<String>,
    file_exists: Option<String>,
    file_contains: Option<PathText>,
    file_matches: Option<PathRegex>,
    command_succeeds: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathText {
    path: String,
    text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathRegex {
    path: String,
    regex: String,
}

impl CheckFile {
    fn into_check(self) -> Result<Check, String> {
        let mut found = Vec::new();
        if let Some(body) = self.console {
            found.push(Check::Console(body));
        }
        if let Some(path) = self.file_exists {
            found.push(Check::FileExists(path));
        }
        if let Some(PathText { path, text }) = self.file_contains {
            found.push(Check::FileContains { path, text });
        }
        if let Some(PathRegex { path, regex }) = self.file_matches {
            found.push(Check::FileMatches { path, regex });
        }
        if let Some(command) = self.command_succeeds {
            found.push(Check::CommandSucceeds(command));
        }
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err("expected one of console, file_exists, file_contains, file_matches, command_succeeds".into()),
            n => Err(format!("expected exactly one kind of check per entry, found {n}")),
        }
    }
}

/// One turn of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// 1-based.
    pub number: usize,
    /// What the user asks this turn (turn 1: the spec).
    pub request: String,
    /// The reference project after this turn.
    pub reference: PathBuf,
    /// Hidden files added at grading time.
    pub fixtures: BTreeMap<String, String>,
    /// Hidden checks.
    pub checks: Vec<Check>,
}

impl Turn {
    /// The turn's hidden checks and fixtures, as the graders take them.
    pub fn check_set(&self) -> graders::checks::CheckSet<'_> {
        graders::checks::CheckSet {
            checks: &self.checks,
            fixtures: &self.fixtures,
        }
    }
}

/// A loaded, validated task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Id (the directory name).
    pub id: String,
    /// Suite (the parent directory name).
    pub suite: String,
    /// Where it lives.
    pub dir: PathBuf,
    /// Kind.
    pub archetype: Archetype,
    /// Who the user is.
    pub persona: String,
    /// The visible spec.
    pub spec: String,
    /// The starting project, for continue-existing tasks.
    pub start: Option<PathBuf>,
    /// Requirements the judge knows and the builder does not.
    pub hidden_requirements: Vec<String>,
    /// The turns, in order.
    pub turns: Vec<Turn>,
    /// Hash of task.yaml, spec and references: changes when the task does.
    pub manifest_hash: String,
}

/// A task that cannot be used: the file, the field and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TaskError {
    /// The file at fault.
    pub file: PathBuf,
    /// Field and expectation.
    pub message: String,
}

fn error(file: &Path, message: impl Into<String>) -> TaskError {
    TaskError {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

/// Loads `dir/task.yaml` and validates what YAML types cannot.
pub fn load_task(dir: &Path) -> Result<Task, TaskError> {
    let file = dir.join("task.yaml");
    let text = std::fs::read_to_string(&file)
        .map_err(|err| error(&file, format!("cannot read: {err}")))?;
    let raw: TaskFile =
        serde_yaml_ng::from_str(&text).map_err(|err| error(&file, err.to_string()))?;
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if raw.id != dir_name {
        return Err(error(
            &file,
            format!(
                "field `id`: expected the directory name `{dir_name}`, found `{}`",
                raw.id
            ),
        ));
    }
    if raw.persona.trim().is_empty() {
        return Err(error(
            &file,
            "field `persona`: expected a description of the user, found an empty string",
        ));
    }
    let spec_path = dir.join(&raw.spec);
    let spec = std::fs::read_to_string(&spec_path).map_err(|err| {
        error(
            &file,
            format!(
                "field `spec`: expected a readable file, {} gave: {err}",
                spec_path.display()
            ),
        )
    })?;
    let start = raw.start.as_ref().map(|start| dir.join(start));
    if let Some(start) = &start {
        if !start.is_dir() {
            return Err(error(
                &file,
                format!(
                    "field `start`: expected a directory, {} is not one",
                    start.display()
                ),
            ));
        }
    }
    if raw.archetype == Archetype::ContinueExisting && start.is_none() {
        return Err(error(
            &file,
            "field `start`: a continue-existing task needs the existing project",
        ));
    }
    if raw.turns.is_empty() {
        return Err(error(&file, "field `turns`: expected at least one turn"));
    }
    let mut turns = Vec::new();
    for (index, turn) in raw.turns.into_iter().enumerate() {
        let at = format!("turns[{index}]");
        let request = match (index, turn.request) {
            (0, None) => spec.clone(),
            (_, Some(request)) if !request.trim().is_empty() => request,
            (_, _) => {
                return Err(error(
                    &file,
                    format!(
                        "{at}.request: expected the user's request for turn {}",
                        index + 1
                    ),
                ))
            }
        };
        let reference = dir.join(&turn.reference);
        if !reference.is_dir() {
            return Err(error(
                &file,
                format!(
                    "{at}.reference: expected a directory, {} is not one",
                    reference.display()
                ),
            ));
        }
        if turn.checks.is_empty() {
            return Err(error(
                &file,
                format!("{at}.checks: expected at least one check"),
            ));
        }
        let mut checks = Vec::new();
        for (number, written) in turn.checks.into_iter().enumerate() {
            let place = format!("{at}.checks[{number}]");
            let check = written
                .into_check()
                .map_err(|why| error(&file, format!("{place}: {why}")))?;
            match &check {
                Check::Console(body) if swarm::parse_console(body).is_empty() => {
                    return Err(error(
                        &file,
                        format!("{place}.console: expected at least one `$ command` line"),
                    ));
                }
                Check::FileMatches { regex, .. } => {
                    regex::Regex::new(regex).map_err(|err| {
                        error(
                            &file,
                            format!("{place}.regex: not a valid regular expression: {err}"),
                        )
                    })?;
                }
                _ => {}
            }
            checks.push(check);
        }
        for path in turn.fixtures.keys() {
            if Path::new(path).is_absolute() || path.split('/').any(|part| part == "..") {
                return Err(error(
                    &file,
                    format!("{at}.fixtures: `{path}` must be a relative path inside the project"),
                ));
            }
        }
        turns.push(Turn {
            number: index + 1,
            request,
            reference,
            fixtures: turn.fixtures,
            checks,
        });
    }
    let suite = dir
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest_hash = graders::fsutil::hash_tree(dir);
    Ok(Task {
        id: raw.id,
        suite,
        dir: dir.to_path_buf(),
        archetype: raw.archetype,
        persona: raw.persona,
        spec,
        start,
        hidden_requirements: raw.hidden_requirements,
        turns,
        manifest_hash,
    })
}

/// The task directories of a suite (those holding a task.yaml), sorted.
pub fn suite_task_dirs(suite: &Path) -> Result<Vec<PathBuf>, TaskError> {
    let entries = std::fs::read_dir(suite)
        .map_err(|err| error(suite, format!("expected a suite directory of tasks: {err}")))?;
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("task.yaml").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(error(
            suite,
            "expected task directories holding task.yaml; found none",
        ));
    }
    Ok(dirs)
}
/// Suite directories by name or path (a name is looked up under `tasks/`), or, when none is
/// named, every suite under `tasks/`.
pub fn suite_dirs(suites: &[String]) -> Result<Vec<PathBuf>, String> {
    if suites.is_empty() {
        let entries = std::fs::read_dir("tasks").map_err(|err| {
            format!("cannot read tasks/ ({err}); run from the repository root or name a suite")
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        return Ok(dirs);
    }
    suites
        .iter()
        .map(|suite| {
            let direct = PathBuf::from(suite);
            let named = Path::new("tasks").join(suite);
            if direct.is_dir() {
                Ok(direct)
            } else if named.is_dir() {
                Ok(named)
            } else {
                Err(format!(
                    "no suite `{suite}` (tried {} and {})",
                    direct.display(),
                    named.display()
                ))
            }
        })
        .collect()
}
