//! The task generator: the brain model invents tasks of an archetype, in a persona.
//!
//! Flow per draft: the brain answers one JSON object under [`DRAFT_SCHEMA_NAME`] (the visible
//! spec, hidden requirements, the starting files for `continue-existing`, and per turn the
//! request, the hidden checks and the whole reference project) → it is written in the task
//! format into a staging directory → loaded by the same loader as every suite (format errors
//! are a rejection) → checked for duplicates (its id, or a spec too like one of an existing
//! suite's or an earlier draft's) → proven by `tasks check`'s validation (every check passes
//! on the reference three times and fails on an empty project, the starting project and the
//! previous turn) → kept under `OUT/<id>/`, or counted as rejected with its reason and left
//! under `OUT/.rejected/` for inspection.

use crate::task::{load_task, suite_task_dirs, Archetype};
use crate::user_sim::Brain;
use crate::validate::validate_task;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use swarm::llm::{JsonSchemaFormat, Message, Role};
use swarm::Sandbox;

/// Name of the draft's JSON schema (swarm-sim scripts match on it).
pub const DRAFT_SCHEMA_NAME: &str = "task_draft";

/// Specs at least this similar (Jaccard of word triples) are duplicates.
pub const DUPLICATE_SIMILARITY: f64 = 0.5;

/// A file of a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftFile {
    /// Path inside the project.
    pub path: String,
    /// Its content.
    pub content: String,
}

/// One hidden check of a draft: exactly one key, as in task.yaml.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftCheck {
    /// A console block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
    /// A file that must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_exists: Option<String>,
    /// A command that must succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_succeeds: Option<String>,
}

/// One turn of a draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftTurn {
    /// The user's request (turn 1: empty; the spec is the request).
    #[serde(default)]
    pub request: String,
    /// Hidden checks.
    pub checks: Vec<DraftCheck>,
    /// The whole project after this turn.
    pub reference_files: Vec<DraftFile>,
}

/// What the brain writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Short id, lowercase with dashes.
    pub id: String,
    /// The visible spec (Markdown).
    pub spec: String,
    /// What the judge checks and the system under test never sees.
    pub hidden_requirements: Vec<String>,
    /// The existing project (continue-existing only).
    #[serde(default)]
    pub start_files: Vec<DraftFile>,
    /// The turns.
    pub turns: Vec<DraftTurn>,
}

/// The schema the brain answers under.
pub fn draft_schema() -> JsonSchemaFormat {
    let file = serde_json::json!({"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}, "required": ["path", "content"]});
    let check = serde_json::json!({"type": "object", "properties": {"console": {"type": "string"}, "file_exists": {"type": "string"}, "command_succeeds": {"type": "string"}}});
    JsonSchemaFormat {
        name: DRAFT_SCHEMA_NAME.into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "spec": {"type": "string"},
                "hidden_requirements": {"type": "array", "items": {"type": "string"}},
                "start_files": {"type": "array", "items": file},
                "turns": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
                    "request": {"type": "string"},
                    "checks": {"type": "array", "minItems": 1, "items": check},
                    "reference_files": {"type": "array", "minItems": 1, "items": file}
                }, "required": ["checks", "reference_files"]}}
            },
            "required": ["id", "spec", "hidden_requirements", "turns"]
        }),
    }
}

/// The prompt for one draft.
pub fn prompt(
    archetype: Archetype,
    persona: &str,
    avoid: &[String],
    language: swarm::spec::Language,
    existing: Option<&[DraftFile]>,
) -> String {
    let title = language.title();
    let kind = match (archetype, existing) {
        (Archetype::HeavySpec, _) => "a detailed spec: every command, output format, error message and exit status written out, with a `## Acceptance` section of console blocks".to_string(),
        (Archetype::MinimalSpec, _) => "a short request of two or three sentences, as a busy user writes it; the hidden requirements hold what a careful engineer would infer".to_string(),
        (Archetype::ContinueExisting, None) => format!("work on an existing small {title} project: give its files in start_files; the spec asks for a change that must keep what works working"),
        (Archetype::ContinueExisting, Some(files)) => format!(
            "work on the existing {title} project below, which passed its own hidden checks in an earlier run: leave start_files empty (these files are the start); the spec asks for a change that must keep what works working, and each turn's reference_files is the whole project after that turn\n{}",
            crate::continue_app::show_files(files)
        ),
    };
    let stated = match language {
        swarm::spec::Language::Python => String::new(),
        other => format!(
            "The spec states its language on a line of its own, `Language: {}`, and checks run the app as `{} ...`.\n",
            other.title(),
            other.example_entry()
        ),
    };
    format!(
        "Invent one benchmark task for a coding assistant: a small {title} command-line app (using only {}), built over 2 or 3 turns.\n\
         {stated}The task is {kind}.\nThe user's persona: {persona}\n\
         Hidden checks are run in a fresh directory holding the project: console checks are blocks of `$ command` lines, each followed by its exact stdout (`? N` on its own line for a non-zero exit status).\n\
         Every check must pass on that turn's reference_files (the whole project after the turn) and fail on an empty directory and on the previous turn's project.\n\
         Later turns have a request written as the persona would.\n\
         Do not repeat these existing tasks: {}.\n\
         Answer with one JSON object: {{\"id\", \"spec\", \"hidden_requirements\", \"start_files\", \"turns\": [{{\"request\", \"checks\", \"reference_files\"}}]}}.",
        language.standard_library(),
        if avoid.is_empty() { "(none)".to_string() } else { avoid.join(", ") }
    )
}

#[cfg(test)]
mod prompt_tests {
    use super::*;

    #[test]
    fn the_draft_prompt_asks_for_the_language_wanted() {
        let rust = prompt(
            Archetype::HeavySpec,
            "a sysadmin",
            &[],
            swarm::spec::Language::Rust,
            None,
        );
        assert!(rust.contains("a small Rust command-line app"), "{rust}");
        assert!(rust.contains("`Language: Rust`") && rust.contains("cargo run --quiet --"));
        assert!(!rust.contains("Python"), "{rust}");
        let python = prompt(
            Archetype::MinimalSpec,
            "a teacher",
            &[],
            swarm::spec::Language::Python,
            None,
        );
        assert!(
            python.contains(
                "a small Python command-line app (using only the Python standard library)"
            ),
            "{python}"
        );
    }
}

/// An id as a directory name: lowercase letters, digits and dashes.
pub fn clean_id(id: &str) -> String {
    let mut out = String::new();
    for c in id.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(40).collect()
}

fn shingles(text: &str) -> BTreeSet<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.windows(3).map(|w| w.join(" ")).collect()
}

/// Jaccard similarity of two texts' word triples (0 when either has none).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (shingles(a), shingles(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// An existing task to deduplicate against: `suite/id` and its spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    /// `suite/id`.
    pub name: String,
    /// The id alone.
    pub id: String,
    /// The visible spec.
    pub spec: String,
}

/// Every task of every suite under `tasks_root` (unreadable ones are skipped).
pub fn known_tasks(tasks_root: &Path) -> Vec<Known> {
    let Ok(suites) = std::fs::read_dir(tasks_root) else {
        return Vec::new();
    };
    suites
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .flat_map(|suite| known_in_suite(&suite))
        .collect()
}

/// The tasks of one suite directory (none when it holds none).
pub fn known_in_suite(suite: &Path) -> Vec<Known> {
    suite_task_dirs(suite)
        .unwrap_or_default()
        .iter()
        .filter_map(|dir| load_task(dir).ok())
        .map(|task| Known {
            name: format!("{}/{}", task.suite, task.id),
            id: task.id.clone(),
            spec: task.spec.clone(),
        })
        .collect()
}

/// Why a draft is a duplicate, if it is.
pub fn duplicate_of(draft: &Draft, known: &[Known]) -> Option<String> {
    let id = clean_id(&draft.id);
    for task in known {
        if task.id == id {
            return Some(format!("its id `{id}` is taken by {}", task.name));
        }
        let score = similarity(&draft.spec, &task.spec);
        if score >= DUPLICATE_SIMILARITY {
            return Some(format!(
                "its spec is {:.0}% like {}'s",
                score * 100.0,
                task.name
            ));
        }
    }
    None
}

#[derive(Serialize)]
struct TaskYaml {
    id: String,
    archetype: Archetype,
    persona: String,
    spec: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    hidden_requirements: Vec<String>,
    turns: Vec<TurnYaml>,
}

#[derive(Serialize)]
struct TurnYaml {
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<String>,
    reference: String,
    checks: Vec<DraftCheck>,
}

fn write_files(dir: &Path, files: &[DraftFile]) -> Result<(), String> {
    for file in files {
        let relative = Path::new(&file.path);
        // A model's path must stay inside the task: no absolute paths, no `..`.
        if relative.is_absolute()
            || relative
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!("file path `{}` leaves the project", file.path));
        }
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &file.content).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Writes `draft` in the task format under `dir` (which is created; it must not exist).
pub fn write_task(
    draft: &Draft,
    archetype: Archetype,
    persona: &str,
    dir: &Path,
) -> Result<(), String> {
    let id = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("spec.md"), &draft.spec).map_err(|e| e.to_string())?;
    let start = if archetype == Archetype::ContinueExisting || !draft.start_files.is_empty() {
        write_files(&dir.join("start"), &draft.start_files)?;
        std::fs::create_dir_all(dir.join("start")).map_err(|e| e.to_string())?;
        Some("start".to_string())
    } else {
        None
    };
    let mut turns = Vec::new();
    for (index, turn) in draft.turns.iter().enumerate() {
        let reference = format!("reference/turn{}", index + 1);
        write_files(&dir.join(&reference), &turn.reference_files)?;
        turns.push(TurnYaml {
            request: (index > 0).then(|| turn.request.clone()),
            reference,
            checks: turn.checks.clone(),
        });
    }
    let yaml = serde_yaml_ng::to_string(&TaskYaml {
        id,
        archetype,
        persona: persona.to_string(),
        spec: "spec.md".into(),
        start,
        hidden_requirements: draft.hidden_requirements.clone(),
        turns,
    })
    .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("task.yaml"), yaml).map_err(|e| e.to_string())
}

/// What one draft came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DraftOutcome {
    /// Kept at this path.
    Kept(PathBuf),
    /// Rejected: why (the draft is left under `.rejected/`).
    Rejected(String),
}

/// Asks the brain for one draft of at most `max_tokens` (a rambling model is cut there, and
/// its unfinished JSON is rejected as an unusable reply).
pub async fn ask_draft(brain: &Brain, text: String, max_tokens: u32) -> Result<Draft, String> {
    let value = brain
        .ask_json(
            vec![Message::text(Role::User, text)],
            draft_schema(),
            Some(max_tokens),
            0.8,
        )
        .await?;
    serde_json::from_value(value)
        .map_err(|err| format!("the brain's reply is not a task draft: {err}"))
}

/// A reply that held no usable draft, rejected like any draft: its reason is left under
/// `OUT/.rejected/unusable-N/`, so every rejection has its folder.
pub fn reject_unusable(out: &Path, attempt: usize, why: &str) -> DraftOutcome {
    let why = format!("unusable reply: {why}");
    let staging = out.join(".rejected").join(format!("unusable-{attempt}"));
    let _ = std::fs::create_dir_all(&staging);
    let _ = std::fs::write(staging.join("REJECTED.txt"), format!("{why}\n"));
    DraftOutcome::Rejected(why)
}

/// Writes, deduplicates and proves one draft; `known` gains it when kept.
pub async fn judge_draft(
    draft: &Draft,
    archetype: Archetype,
    persona: &str,
    out: &Path,
    attempt: usize,
    known: &mut Vec<Known>,
    sandbox: &Sandbox,
) -> DraftOutcome {
    let id = clean_id(&draft.id);
    let staging = out.join(".rejected").join(format!(
        "{}-{attempt}",
        if id.is_empty() { "draft" } else { &id }
    ));
    let _ = std::fs::remove_dir_all(&staging);
    let reject = |why: String| {
        let _ = std::fs::create_dir_all(&staging);
        let _ = std::fs::write(staging.join("REJECTED.txt"), format!("{why}\n"));
        DraftOutcome::Rejected(why)
    };
    if id.is_empty() {
        return reject("no usable id".into());
    }
    if let Some(why) = duplicate_of(draft, known) {
        let _ = std::fs::create_dir_all(&staging);
        let _ = std::fs::write(
            staging.join("draft.json"),
            serde_json::to_string_pretty(draft).unwrap_or_default(),
        );
        return reject(format!("duplicate: {why}"));
    }
    // Staged under its own id, so the loader's id = directory rule holds.
    let task_dir = staging.join(&id);
    if let Err(why) = write_task(draft, archetype, persona, &task_dir) {
        return reject(format!("cannot be written: {why}"));
    }
    let task = match load_task(&task_dir) {
        Ok(task) => task,
        Err(err) => return reject(format!("malformed: {err}")),
    };
    match validate_task(&task, sandbox).await {
        Ok(report) if report.valid => {}
        Ok(report) => {
            return reject(format!(
                "its checks are not sound: {}",
                report.problems.join("; ")
            ))
        }
        Err(err) => return reject(format!("cannot be checked: {err}")),
    }
    let kept = out.join(&id);
    if let Err(err) = std::fs::rename(&task_dir, &kept) {
        return reject(format!("cannot move it to {}: {err}", kept.display()));
    }
    let _ = std::fs::remove_dir_all(&staging);
    known.push(Known {
        name: format!("generated/{id}"),
        id,
        spec: draft.spec.clone(),
    });
    DraftOutcome::Kept(kept)
}

/// Rejections grouped by their reason's first words (for the summary).
pub fn rejection_counts(outcomes: &[DraftOutcome]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for outcome in outcomes {
        if let DraftOutcome::Rejected(why) = outcome {
            let kind = why.split(':').next().unwrap_or(why).to_string();
            *counts.entry(kind).or_default() += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn ids_and_duplicates() {
        assert_eq!(clean_id("  Word Freq!! v2 "), "word-freq-v2");
        assert_eq!(clean_id("../etc"), "etc");
        let known = vec![Known {
            name: "smoke/wordfreq".into(),
            id: "wordfreq".into(),
            spec: "Count the words of a text file and print each word with its count, most frequent first.".into(),
        }];
        let draft = |id: &str, spec: &str| Draft {
            id: id.into(),
            spec: spec.into(),
            hidden_requirements: vec![],
            start_files: vec![],
            turns: vec![],
        };
        assert!(duplicate_of(&draft("WordFreq", "anything"), &known)
            .unwrap()
            .contains("taken by smoke/wordfreq"));
        assert!(duplicate_of(&draft("counter", "Count the words of a text file and print each word with its count, most frequent first, please."), &known)
            .unwrap()
            .contains("like smoke/wordfreq"));
        assert_eq!(
            duplicate_of(
                &draft(
                    "todo",
                    "Keep a todo list in todo.json with add, list and done."
                ),
                &known
            ),
            None
        );
    }

    #[test]
    fn a_draft_cannot_write_outside_its_task() {
        let dir = tempfile::tempdir().unwrap();
        let draft = Draft {
            id: "x".into(),
            spec: "s".into(),
            hidden_requirements: vec![],
            start_files: vec![],
            turns: vec![DraftTurn {
                request: String::new(),
                checks: vec![],
                reference_files: vec![DraftFile {
                    path: "../../escape.py".into(),
                    content: "x".into(),
                }],
            }],
        };
        let err = write_task(&draft, Archetype::HeavySpec, "p", &dir.path().join("x")).unwrap_err();
        assert!(err.contains("leaves the project"), "{err}");
        assert!(!dir.path().join("escape.py").exists());
    }
}
