//! The tuner's whole loop, as a library call ([`tune`]): diagnose stored rows, list the
//! behavioural problems for a human, propose one knob change, confirm it by an A/B on the
//! affected tasks (stored settings against the change), decide, and apply a kept change to
//! the config file when asked. Every step is appended to `tune-log.jsonl` and said as a
//! [`TuneEvent`]; the binary only renders them.

use super::{apply, decide, diagnose, log, propose, review_markdown, Diagnosis, LogEntry};
use super::{Proposal, Trial};
use crate::ab::{analyse, run_ab, ArmEvents, Setting};
use crate::results::ResultRow;
use crate::runner::RunConfig;
use crate::sut::Sut;
use std::path::PathBuf;
use swarm::{Fleet, Knobs};

/// What one `tune` does.
pub struct TuneOptions {
    /// The result files the rows came from (for the log).
    pub results: Vec<PathBuf>,
    /// The fleet the confirming A/B runs on.
    pub fleet: Fleet,
    /// How the fleet file was named (recorded in the trial's rows).
    pub fleet_name: String,
    /// Where the log, the trial rows and the review list go.
    pub out: PathBuf,
    /// Replicates per arm of the confirming A/B.
    pub replicates: u32,
    /// Task replicates run at once.
    pub concurrency: usize,
    /// The config file a kept change is written to; `None`: never written.
    pub apply_to: Option<PathBuf>,
    /// Progress of the confirming A/B's arms, made once its turns per arm are known.
    pub arm_events: Box<dyn Fn(usize) -> ArmEvents + Send + Sync>,
    /// The sandbox the affected tasks are proven in (the caller has said its preflight).
    pub sandbox: &'static swarm::Sandbox,
}

/// What the tuner is doing, for whoever renders it.
#[derive(Debug, Clone)]
pub enum TuneEvent {
    /// The rows were diagnosed.
    Diagnosed(Diagnosis),
    /// Behavioural problems (not a knob's to fix) were listed for a human in `path`.
    Review {
        /// The list.
        path: PathBuf,
    },
    /// A knob change is proposed.
    Proposed(Proposal),
    /// The confirming A/B starts.
    Confirming {
        /// Tasks it runs.
        tasks: usize,
        /// Its experiment id.
        experiment: String,
    },
    /// The A/B ended.
    Tried {
        /// Its figures.
        trial: Trial,
        /// Where its rows are.
        rows: PathBuf,
    },
    /// A log entry could not be written (the loop goes on).
    LogFailed(String),
}

/// How the loop ended.
#[derive(Debug, Clone, Default)]
pub struct TuneOutcome {
    /// The log.
    pub log: PathBuf,
    /// The change tried, if one was proposed.
    pub proposal: Option<Proposal>,
    /// Whether the change is kept, and why.
    pub decision: Option<(bool, String)>,
    /// The config file it was written to.
    pub applied_to: Option<String>,
}

/// Runs the loop over `rows` (each with the directory its paths are relative to).
///
/// # Errors
/// When the review list or the config file cannot be written, the stored settings are not
/// valid knobs, the affected tasks cannot be used, or the A/B cannot run.
pub async fn tune(
    rows: &[(PathBuf, ResultRow)],
    options: TuneOptions,
    on_event: &(dyn Fn(&TuneEvent) + Send + Sync),
) -> Result<TuneOutcome, String> {
    let log_path = options.out.join("tune-log.jsonl");
    let logged = |entry: LogEntry| {
        if let Err(err) = log(&log_path, &entry) {
            on_event(&TuneEvent::LogFailed(err));
        }
    };
    let diagnosis = diagnose(rows);
    logged(diagnosis_entry(&diagnosis, &options.results));
    on_event(&TuneEvent::Diagnosed(diagnosis.clone()));
    if !diagnosis.review.is_empty() {
        let path = options.out.join("tune-review.md");
        std::fs::create_dir_all(&options.out)
            .and_then(|_| std::fs::write(&path, review_markdown(&diagnosis.review)))
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        on_event(&TuneEvent::Review { path });
    }
    let mut outcome = TuneOutcome {
        log: log_path.clone(),
        ..TuneOutcome::default()
    };
    let slots = options
        .fleet
        .nodes
        .iter()
        .map(|n| n.slots)
        .max()
        .unwrap_or(1);
    let Some(proposal) = propose(&diagnosis, rows, slots) else {
        return Ok(outcome);
    };
    on_event(&TuneEvent::Proposed(proposal.clone()));
    logged(LogEntry::Proposal {
        time: swarm::now_rfc3339(),
        proposal: proposal.clone(),
    });
    let (trial, rows_file) = confirm(&proposal, &options, on_event).await?;
    on_event(&TuneEvent::Tried {
        trial: trial.clone(),
        rows: rows_file,
    });
    logged(LogEntry::Trial {
        time: swarm::now_rfc3339(),
        trial: trial.clone(),
    });
    let (kept, reason) = decide(&trial);
    if let (true, Some(config)) = (kept, &options.apply_to) {
        apply(config, &proposal.knob, &proposal.to)?;
        outcome.applied_to = Some(config.display().to_string());
    }
    logged(LogEntry::Decision {
        time: swarm::now_rfc3339(),
        knob: proposal.knob.clone(),
        value: proposal.to.clone(),
        kept,
        reason: reason.clone(),
        applied_to: outcome.applied_to.clone(),
    });
    outcome.proposal = Some(proposal);
    outcome.decision = Some((kept, reason));
    Ok(outcome)
}

fn diagnosis_entry(diagnosis: &Diagnosis, files: &[PathBuf]) -> LogEntry {
    LogEntry::Diagnosis {
        time: swarm::now_rfc3339(),
        files: files.iter().map(|p| p.display().to_string()).collect(),
        rows: diagnosis.rows,
        cluster: diagnosis
            .cluster
            .iter()
            .map(|(p, (r, n))| (p.knob().to_string() + " <- " + p.describe(), (r.len(), *n)))
            .collect(),
        review: diagnosis.review.len(),
    }
}

/// The confirming A/B: the stored settings (arm A) against the change (arm B), on the
/// tasks the problem showed in. Returns its figures and where its rows are.
async fn confirm(
    proposal: &Proposal,
    options: &TuneOptions,
    on_event: &(dyn Fn(&TuneEvent) + Send + Sync),
) -> Result<(Trial, PathBuf), String> {
    let mut knobs = Knobs::default();
    for (name, value) in &proposal.baseline {
        knobs
            .set(name, value, swarm::knobs::Source::File, "stored rows")
            .map_err(|err| err.to_string())?;
    }
    let tasks = affected_tasks(proposal, options.sandbox).await?;
    let trial_results = options.out.join("tune-trials.csv");
    let base = RunConfig {
        replicates: options.replicates,
        concurrency: options.concurrency,
        judge_samples: 1,
        knobs,
        ..RunConfig::new(
            tasks,
            Sut::Swarm,
            options.fleet.clone(),
            options.fleet_name.clone(),
            trial_results.clone(),
        )
    };
    let change = [Setting::Knob(proposal.knob.clone(), proposal.to.clone())];
    let experiment = format!(
        "tune{}",
        crate::ab::experiment_id().trim_start_matches("ab")
    );
    on_event(&TuneEvent::Confirming {
        tasks: proposal.tasks.len(),
        experiment: experiment.clone(),
    });
    let arms = (&[][..], &change[..]);
    let turns_per_arm =
        base.tasks.iter().map(|t| t.turns.len()).sum::<usize>() * base.replicates as usize;
    let (done_a, done_b) = run_ab(
        &base,
        arms,
        &experiment,
        (options.arm_events)(turns_per_arm),
    )
    .await
    .map_err(|err| err.to_string())?;
    let rows_a: Vec<ResultRow> = done_a.into_iter().flat_map(|s| s.rows).collect();
    let rows_b: Vec<ResultRow> = done_b.into_iter().flat_map(|s| s.rows).collect();
    let report = analyse(&experiment, &rows_a, &rows_b);
    let means = |name: &str| {
        report
            .dimensions
            .iter()
            .find(|d| d.dimension == name)
            .and_then(|d| d.comparison.as_ref())
            .map(|c| (c.mean_a, c.mean_b))
    };
    let trial = Trial {
        experiment,
        pairs: report.pairs,
        checks: means("checks"),
        cluster: means("cluster"),
    };
    Ok((trial, trial_results))
}

/// The proposal's tasks, suite by suite, proven usable.
async fn affected_tasks(
    proposal: &Proposal,
    sandbox: &swarm::Sandbox,
) -> Result<Vec<crate::task::Task>, String> {
    let mut tasks = Vec::new();
    let suites: std::collections::BTreeSet<&String> =
        proposal.tasks.iter().map(|(s, _)| s).collect();
    for suite in suites {
        let only: Vec<String> = proposal
            .tasks
            .iter()
            .filter(|(s, _)| s == suite)
            .map(|(_, t)| t.clone())
            .collect();
        let dir = crate::task::suite_dirs(std::slice::from_ref(suite))?.remove(0);
        let usable = crate::validate::usable_tasks(
            &dir,
            &only,
            sandbox,
            &crate::validate::Proofs::from_env(),
        )
        .await?;
        tasks.extend(usable.tasks);
    }
    Ok(tasks)
}
