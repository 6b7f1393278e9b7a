//! `tasks check`: a task is usable only when its checks are proven — every check passes on
//! the reference of its turn (three times, to catch flaky checks), and the turn's checks fail
//! on a project that lacks the work (an empty one, the starting project, and the previous
//! turn's reference). A task that fails this is reported with the reason and never used.

use crate::task::Task;
use graders::checks::{run_checks, CheckError, Verdict};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Instant;
use swarm::Sandbox;

/// How many times the reference must pass.
pub const REFERENCE_RUNS: usize = 3;

/// The verdict on one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReport {
    /// `suite/task`.
    pub name: String,
    /// Usable.
    pub valid: bool,
    /// Turns.
    pub turns: usize,
    /// Checks over all turns.
    pub checks: usize,
    /// Why it is not usable (empty when valid).
    pub problems: Vec<String>,
}

/// Proves one task's checks.
pub async fn validate_task(task: &Task, sandbox: &Sandbox) -> Result<TaskReport, CheckError> {
    let mut problems = Vec::new();
    let empty = tempfile::Builder::new()
        .prefix("swarm-gym-empty-")
        .tempdir()?;
    for turn in &task.turns {
        for run in 1..=REFERENCE_RUNS {
            for outcome in run_checks(&turn.reference, turn.check_set(), sandbox).await? {
                match outcome.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail => {
                        problems.push(format!(
                        "turn {}: `{}` fails on the reference (run {run} of {REFERENCE_RUNS}): {}",
                        turn.number, outcome.label, first_lines(&outcome.evidence)
                    ))
                    }
                    Verdict::Inconclusive => problems.push(format!(
                        "turn {}: `{}` cannot be proven here: {}",
                        turn.number, outcome.label, outcome.evidence
                    )),
                }
            }
            if !problems.is_empty() {
                break;
            }
        }
        let mut baselines: Vec<(&str, &Path)> = vec![("an empty project", empty.path())];
        if turn.number == 1 {
            if let Some(start) = &task.start {
                baselines.push(("the starting project", start));
            }
        } else if let Some(previous) = task.turns.get(turn.number - 2) {
            baselines.push(("the previous turn's reference", &previous.reference));
        }
        for (name, project) in baselines {
            let outcomes = run_checks(project, turn.check_set(), sandbox).await?;
            if outcomes.iter().all(|o| o.verdict == Verdict::Pass) {
                problems.push(format!("turn {}: every check passes on {name}, so the checks cannot tell whether the work was done", turn.number));
            }
        }
    }
    Ok(TaskReport {
        name: format!("{}/{}", task.suite, task.id),
        valid: problems.is_empty(),
        turns: task.turns.len(),
        checks: task.turns.iter().map(|t| t.checks.len()).sum(),
        problems,
    })
}

fn first_lines(text: &str) -> String {
    text.lines().take(4).collect::<Vec<_>>().join(" | ")
}

/// The environment variable naming the proof cache's directory, or `off` to prove every task
/// at every start. Default: `proofs/` in `$SWARM_GYM_CACHE` (default `~/.cache/swarm-gym`).
pub const PROOFS_ENV: &str = "SWARM_GYM_PROOFS";

/// Bumped when what a proof means changes, so older proofs are not trusted.
const PROOF_FORMAT: &str = "swarm-gym proof 1";

/// Where proofs of sound tasks are kept between runs (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proofs {
    /// `None`: nothing is kept; every task is proven at every start.
    dir: Option<PathBuf>,
}

/// A kept proof: the report, and when it was made.
#[derive(Debug, Serialize, Deserialize)]
struct KeptProof {
    format: String,
    proven_at: String,
    report: TaskReport,
}

impl Proofs {
    /// Proofs kept in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Proofs {
        Proofs {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every task is proven at every start.
    pub fn off() -> Proofs {
        Proofs { dir: None }
    }

    /// From [`PROOFS_ENV`]: a directory, `off`, or (unset) the default.
    pub fn from_env() -> Proofs {
        match std::env::var(PROOFS_ENV) {
            Ok(value) if matches!(value.trim(), "off" | "0" | "false" | "no") => Proofs::off(),
            Ok(value) if !value.trim().is_empty() => Proofs::at(value.trim()),
            _ => Proofs::at(swarm::testing::cache_dir().join("proofs")),
        }
    }

    /// The cache's directory, when there is one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The file that holds `task`'s proof in `sandbox`, when proofs are kept.
    fn file(&self, task: &Task, sandbox: &Sandbox) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut hasher = Sha256::new();
        for part in [
            PROOF_FORMAT,
            &format!("runs={REFERENCE_RUNS}"),
            &task.suite,
            &task.id,
            &task.manifest_hash,
            &sandbox.fingerprint(),
            harness_identity(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let key: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Some(dir.join(format!("{key}.json")))
    }

    /// `task`'s kept proof, when one was made for exactly this task, sandbox and harness. A
    /// file that cannot be read or parsed is no proof (the task is proven again).
    pub fn lookup(&self, task: &Task, sandbox: &Sandbox) -> Option<TaskReport> {
        let text = std::fs::read_to_string(self.file(task, sandbox)?).ok()?;
        let kept: KeptProof = serde_json::from_str(&text).ok()?;
        (kept.format == PROOF_FORMAT && kept.report.valid).then_some(kept.report)
    }

    /// Keeps a sound task's proof (written whole or not at all); an unsound report is not
    /// kept. A cache that cannot be written costs only time, so failures are returned for the
    /// caller to mention, never fatal.
    pub fn keep(&self, task: &Task, sandbox: &Sandbox, report: &TaskReport) -> std::io::Result<()> {
        let Some(file) = self.file(task, sandbox) else {
            return Ok(());
        };
        if !report.valid {
            return Ok(());
        }
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let kept = KeptProof {
            format: PROOF_FORMAT.into(),
            proven_at: chrono::Utc::now().to_rfc3339(),
            report: report.clone(),
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut temp, &kept)?;
        temp.persist(&file).map_err(|err| err.error)?;
        Ok(())
    }
}

/// The harness that proves: its version and its executable's size and modification time, so
/// a rebuilt harness proves again. Read once per process.
fn harness_identity() -> &'static str {
    static IDENTITY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(read_harness_identity)
}

fn read_harness_identity() -> String {
    let exe = std::env::current_exe().ok();
    let meta = exe.as_ref().and_then(|path| std::fs::metadata(path).ok());
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!(
        "{} {} {}",
        env!("CARGO_PKG_VERSION"),
        meta.map_or(0, |m| m.len()),
        modified
    )
}

/// `task` proven, from the cache when a proof is kept there: (the report, whether it came from
/// the cache). A sound task proven now is kept.
pub async fn prove_task(
    task: &Task,
    sandbox: &Sandbox,
    proofs: &Proofs,
) -> Result<(TaskReport, bool), CheckError> {
    if let Some(report) = proofs.lookup(task, sandbox) {
        return Ok((report, true));
    }
    let report = validate_task(task, sandbox).await?;
    if let Err(err) = proofs.keep(task, sandbox, &report) {
        let dir = proofs.dir().map(|d| d.display().to_string());
        eprintln!(
            "warning: cannot keep the proof of {}/{} in {}: {err}",
            task.suite,
            task.id,
            dir.unwrap_or_default()
        );
    }
    Ok((report, false))
}

/// The tasks of a suite that may be run, and why the others may not.
#[derive(Debug, Clone, Default)]
pub struct Usable {
    /// Loaded, filtered and proven.
    pub tasks: Vec<Task>,
    /// One line per task left out: its checks are not sound, or could not be checked.
    pub skipped: Vec<String>,
    /// How many usable tasks' proofs came from the cache.
    pub from_cache: usize,
    /// Seconds spent loading and proving.
    pub seconds: f64,
}

impl Usable {
    /// One line for the start of a run: how many tasks, how many proven now, how long.
    pub fn summary(&self) -> String {
        format!(
            "tasks: {} usable ({} proven now, {} from the proof cache) in {:.2} s",
            self.tasks.len(),
            self.tasks.len() - self.from_cache,
            self.from_cache,
            self.seconds
        )
    }
}

/// The usable tasks of the suite in `suite`: loaded, filtered by id (`only`; empty: all),
/// and proven with [`prove_task`] (a task is used only once its checks pass on the
/// reference and fail without the work). A malformed task, or a wanted task that is not
/// usable, is an error: its file must be fixed.
pub async fn usable_tasks(
    suite: &Path,
    only: &[String],
    sandbox: &Sandbox,
    proofs: &Proofs,
) -> Result<Usable, String> {
    let started = Instant::now();
    let mut usable = Usable::default();
    for dir in crate::task::suite_task_dirs(suite).map_err(|err| err.to_string())? {
        let task = crate::task::load_task(&dir).map_err(|err| err.to_string())?;
        if !only.is_empty() && !only.contains(&task.id) {
            continue;
        }
        match prove_task(&task, sandbox, proofs).await {
            Ok((report, cached)) if report.valid => {
                usable.from_cache += usize::from(cached);
                usable.tasks.push(task);
            }
            Ok((report, _)) => usable.skipped.push(format!(
                "skipping {}: its checks are not sound: {}",
                report.name,
                report.problems.join("; ")
            )),
            Err(err) => usable.skipped.push(format!(
                "skipping {}/{}: cannot check it: {err}",
                task.suite, task.id
            )),
        }
    }
    usable.seconds = started.elapsed().as_secs_f64();
    let tasks = &usable.tasks;
    if let Some(wanted) = only.iter().find(|w| !tasks.iter().any(|t| &t.id == *w)) {
        return Err(format!("no usable task `{wanted}` in {}", suite.display()));
    }
    if tasks.is_empty() {
        return Err(format!("no usable task in {}", suite.display()));
    }
    Ok(usable)
}
