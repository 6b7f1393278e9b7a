//! The pipeline: spec → SCOUT → PLAN → CONTRACT → BUILD → VERIFY → (FIX → VERIFY)* → verdict.
//!
//! The output directory is a git repository holding the app; `.swarm/runs/<id>/` holds
//! `run.json` (what to resume with: spec, fleet, knobs — API keys never, only the names of
//! the variables that hold them), `events.jsonl`, `scouts.json`, `plan.json`, `contracts/`
//! and `contracts.json`, and `verdict.json`. Each phase writes its file when it ends, and each
//! merged task is an event, so [`resume`] continues a killed run without redoing finished
//! work. The library never prints: progress goes to the [`Sink`].

mod acceptance;
mod build;
mod context;
mod contract;
pub mod events;
pub mod figures;
pub mod git;
mod merges;
mod planning;
mod prewarm;
pub mod prompts;
mod scout;
mod verify_fix;

pub use events::{read_log, ContractStatus, Event, Phase, PhaseStatus, Record, Recorder, Sink};
pub use verify_fix::RUST_CACHE;

use crate::fleet::live as nodes;
use crate::fleet::LiveNode;
use crate::fleet::{Fleet, Role};
use crate::knobs::Knobs;
use crate::pyast::Signature;
use crate::sandbox::Sandbox;
use crate::spec::Spec;
use crate::verify::{Verdict, VerifyReport};
use context::Ctx;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a run needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOptions {
    /// The spec.
    pub spec: Spec,
    /// The fleet.
    pub fleet: Fleet,
    /// Knob values.
    pub knobs: Knobs,
    /// The app's directory (a git repository; created if missing).
    pub out: PathBuf,
    /// Let the planner propose acceptance commands when the spec has none.
    pub derive_acceptance: bool,
}

/// Counts over a run, for the gym's graders and for reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Tasks in the chosen plan.
    pub tasks_total: usize,
    /// Tasks merged in BUILD.
    pub tasks_merged: usize,
    /// Tasks that gave up.
    pub tasks_failed: usize,
    /// Plan drafts, and how many were valid.
    pub drafts: usize,
    /// Valid drafts.
    pub drafts_valid: usize,
    /// Finished tasks sent back by the check.
    pub sent_back: usize,
    /// Tasks moved off a failed node.
    pub rerouted: usize,
    /// Judge refusals and stops.
    pub judge_interventions: usize,
    /// Fix rounds run.
    pub fix_rounds: u32,
    /// Worker runs (dispatches).
    pub dispatches: usize,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Worker runs ended by a stalled node.
    pub stalls: usize,
    /// Worker runs ended by another server error.
    pub server_errors: usize,
    /// Context overflows reported by servers.
    pub context_overflows: usize,
    /// Time workers spent waiting on models, summed over slots.
    pub model_ms: u64,
    /// Slots in the worker fleet.
    pub worker_slots: u32,
    /// Model requests of workers.
    #[serde(default)]
    pub requests: u64,
    /// Worker replies without a usable action.
    #[serde(default)]
    pub malformed_replies: u64,
    /// Tool calls that failed.
    #[serde(default)]
    pub tool_errors: u64,
    /// Early looks at the app merged so far, taken while worker slots sat idle.
    #[serde(default)]
    pub early_reviews: usize,
    /// Early fixes those looks gave, and how many of them merged.
    #[serde(default)]
    pub early_fixes: usize,
    /// Early fixes merged.
    #[serde(default)]
    pub early_fixes_merged: usize,
}

/// How a run ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Run id.
    pub run_id: String,
    /// The app.
    pub out: PathBuf,
    /// `.swarm/runs/<id>`.
    pub run_dir: PathBuf,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in one line.
    pub reason: String,
    /// The last verification, when one ran.
    pub report: Option<VerifyReport>,
    /// Counts.
    pub stats: RunStats,
    /// Wall time of this invocation.
    pub wall_ms: u64,
    /// How well this invocation used the fleet.
    #[serde(default)]
    pub schedule: figures::ScheduleFigures,
}

/// A run could not start or continue: configuration, not the app (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Fleet, spec or knobs unusable.
    #[error("{0}")]
    Config(String),
    /// A file of the run could not be written or read.
    #[error("{0}")]
    Io(String),
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> PipelineError + '_ {
    move |err| PipelineError::Io(format!("{what}: {err}"))
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), PipelineError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| PipelineError::Io(format!("{}: {err}", path.display())))?;
    // Write then rename: a kill never leaves half a file.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text).map_err(io_err("cannot write a run file"))?;
    std::fs::rename(&partial, path).map_err(io_err("cannot write a run file"))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The frozen contracts of a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Contracts {
    /// Commit on main that holds the stubs.
    pub commit: String,
    /// (path, stub text), in the prompt's order.
    pub files: Vec<(String, String)>,
    /// Every frozen signature.
    pub signatures: Vec<Signature>,
}

fn existing_files(out: &Path) -> Vec<String> {
    crate::fsutil::project_files(out)
        .into_iter()
        .filter(|f| f != ".gitignore")
        .collect()
}

/// Starts a new run.
pub async fn run(mut options: RunOptions, sink: Sink) -> Result<RunOutcome, PipelineError> {
    // Worktrees and git commands need one unambiguous path.
    options.out =
        std::path::absolute(&options.out).map_err(io_err("cannot resolve the output directory"))?;
    git::init(&options.out).await.map_err(|err| {
        PipelineError::Config(format!(
            "cannot make {} a git repository: {err}",
            options.out.display()
        ))
    })?;
    let run_id = crate::clock::new_run_id();
    let run_dir = options.out.join(".swarm/runs").join(&run_id);
    std::fs::create_dir_all(&run_dir).map_err(io_err("cannot create the run directory"))?;
    write_json(&run_dir.join("run.json"), &options)?;
    execute(options, run_id, run_dir, sink, false).await
}

/// The newest run in `out` that has no verdict yet (or the newest at all).
pub fn latest_run(out: &Path) -> Option<PathBuf> {
    let runs = out.join(".swarm/runs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("run.json").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .rev()
        .find(|d| !d.join("verdict.json").exists())
        .cloned()
        .or_else(|| dirs.last().cloned())
}

/// Continues the newest unfinished run in `out` from its events (a finished one is reported
/// as it ended). `fleet` replaces the recorded fleet when given.
pub async fn resume(
    out: &Path,
    fleet: Option<Fleet>,
    sink: Sink,
) -> Result<RunOutcome, PipelineError> {
    let run_dir = latest_run(out).ok_or_else(|| {
        PipelineError::Config(format!(
            "{} holds no swarm run to resume (.swarm/runs/*/run.json)",
            out.display()
        ))
    })?;
    let mut options: RunOptions = read_json(&run_dir.join("run.json")).ok_or_else(|| {
        PipelineError::Config(format!("{}/run.json cannot be read", run_dir.display()))
    })?;
    options.out =
        std::path::absolute(out).map_err(io_err("cannot resolve the output directory"))?;
    if let Some(fleet) = fleet {
        options.fleet = fleet;
    }
    let run_id = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if let Some(done) = read_json::<RunOutcome>(&run_dir.join("verdict.json")) {
        return Ok(done);
    }
    execute(options, run_id, run_dir, sink, true).await
}

/// Opens the run's log, connects the fleet and runs the phases; the verdict is written last.
async fn execute(
    options: RunOptions,
    run_id: String,
    run_dir: PathBuf,
    sink: Sink,
    resumed: bool,
) -> Result<RunOutcome, PipelineError> {
    let started = std::time::Instant::now();
    let started_ms = crate::clock::unix_ms();
    let started_cpu = crate::clock::process_cpu_seconds();
    refuse_unsealed(&options.knobs)?;
    let recorder = Recorder::open(&run_dir.join("events.jsonl"), sink)
        .map_err(io_err("cannot open events.jsonl"))?;
    let previous = read_log(recorder.path()).unwrap_or_default();
    if resumed {
        git::recover_interrupted(&options.out)
            .await
            .map_err(|err| PipelineError::Config(format!("cannot resume: {err}")))?;
    }
    recorder.emit(Event::RunStarted {
        run_id: run_id.clone(),
        spec: options.spec.title.clone(),
        out: options.out.display().to_string(),
        nodes: options.fleet.nodes.iter().map(|n| n.name.clone()).collect(),
        knobs: options.knobs.changed(),
        resumed,
        language: options.spec.language,
        language_reason: options.spec.language_reason.clone(),
        toolchain_missing: crate::toolchain::missing(options.spec.language),
    });
    let live = connect_fleet(&options, &recorder).await?;
    let spec = read_json::<Spec>(&run_dir.join("spec.json")).unwrap_or(options.spec.clone());
    let estimator = std::sync::Mutex::new(crate::fleet::sched::Estimator::new(live.len()));
    let mut ctx = Ctx {
        out: options.out.clone(),
        run_dir: run_dir.clone(),
        spec,
        knobs: options.knobs.clone(),
        nodes: live,
        recorder,
        sandbox: Sandbox::detect(),
        estimator,
    };
    let mut stats = RunStats {
        worker_slots: nodes::with_role(&ctx.nodes, Role::Worker)
            .iter()
            .map(|i| ctx.nodes[*i].slots)
            .sum(),
        ..RunStats::default()
    };
    let (verdict, reason, report) = phases(&mut ctx, &options, &previous, &mut stats).await?;
    ctx.emit(Event::Verdict {
        verdict,
        reason: reason.clone(),
    });
    let mut schedule = figures::measure(
        &read_log(ctx.recorder.path()).unwrap_or_default(),
        read_json::<crate::plan::Plan>(&run_dir.join("plan.json")).as_ref(),
        stats.worker_slots,
        started_ms,
    );
    schedule.wall_s = Some(started.elapsed().as_secs_f64());
    schedule.process_cpu_s = started_cpu
        .zip(crate::clock::process_cpu_seconds())
        .map(|(from, to)| (to - from).max(0.0));
    let result = RunOutcome {
        run_id,
        out: ctx.out.clone(),
        run_dir: run_dir.clone(),
        verdict,
        reason,
        report,
        stats,
        wall_ms: started.elapsed().as_millis() as u64,
        schedule,
    };
    write_json(&run_dir.join("verdict.json"), &result)?;
    Ok(result)
}

/// Generated code runs only sealed, unless the user accepted otherwise: refuse before
/// anything is built rather than fail its checks one by one.
fn refuse_unsealed(knobs: &Knobs) -> Result<(), PipelineError> {
    if knobs.get(crate::knobs::SANDBOX_ALLOW_UNSEALED) {
        crate::sandbox::allow_unsealed();
    }
    Sandbox::detect()
        .check_sealed()
        .map_err(|refusal| PipelineError::Config(refusal.to_string()))
}

/// Connects the fleet, its clients' notices going into the log; refuses a fleet where no
/// node answers or a role the pipeline needs is missing.
async fn connect_fleet(
    options: &RunOptions,
    recorder: &Recorder,
) -> Result<Vec<LiveNode>, PipelineError> {
    if let Some(why) = missing_role(&options.fleet) {
        return Err(PipelineError::Config(why));
    }
    let (mut live, probes) = nodes::connect(&options.fleet, &options.knobs).await;
    for node in &mut live {
        let (recorder, name) = (recorder.clone(), node.node.name.clone());
        node.client = node
            .client
            .clone()
            .with_notices(crate::llm::Notices(Arc::new(move |line: &str| {
                recorder.emit(Event::NodeNotice {
                    node: name.clone(),
                    message: line.to_string(),
                })
            })));
    }
    for line in probes {
        recorder.emit(Event::Node {
            node: line.node,
            ok: line.ok,
            detail: line.detail,
        });
    }
    if !live.iter().any(|n| !n.down()) {
        let where_ = options
            .fleet
            .nodes
            .iter()
            .map(|n| format!("{} at {}", n.name, n.url));
        return Err(PipelineError::Config(format!(
            "no node of the fleet answers ({}); start the servers or fix the fleet file",
            where_.collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(live)
}

/// Why `fleet` cannot run the pipeline for want of a role (planner, worker), or None: a
/// fleet file's fault, the same at every try, so a caller can refuse it before any work.
pub fn missing_role(fleet: &Fleet) -> Option<String> {
    [Role::Planner, Role::Worker]
        .into_iter()
        .find(|role| fleet.with_role(*role).is_empty())
        .map(|role| {
            format!(
                "the fleet has no node with the role `{}`; add it to a node's roles (or leave roles empty for all)",
                format!("{role:?}").to_lowercase()
            )
        })
}

/// How a run ended: its verdict, why, and the last verification.
type Ended = (Verdict, String, Option<VerifyReport>);

/// The phases, in order. SCOUT, PLAN and CONTRACT each save what they produced; a resumed run
/// loads it instead ([`load_or_run`]). BUILD takes what git says merged before; VERIFY and
/// FIX go on from the fix rounds the log records.
async fn phases(
    ctx: &mut Ctx,
    options: &RunOptions,
    previous: &[Record],
    stats: &mut RunStats,
) -> Result<Ended, PipelineError> {
    if let Err(why) = acceptance::ensure(ctx, options.derive_acceptance, stats).await? {
        let reason = format!("no acceptance commands could be derived: {why}");
        return Ok((Verdict::Fail, reason, None));
    }
    let ctx = &*ctx;
    let notes = if ctx.knobs.get(crate::knobs::SCOUT_ENABLED) || SCOUTS.saved_in(ctx) {
        let scouted = async { Ok::<_, String>(scout::scout(ctx).await) };
        load_or_run(ctx, SCOUTS, scouted).await?.unwrap_or_default()
    } else {
        ctx.phase(
            Phase::Scout,
            PhaseStatus::Skipped,
            "knob scout.enabled is off",
        );
        Vec::new()
    };
    let plan = match load_or_run(ctx, PLAN, planning::plan_phase(ctx, &notes, stats)).await? {
        Ok(plan) => plan,
        Err(why) => return Ok((Verdict::Fail, why, None)),
    };
    stats.tasks_total = plan.tasks.len();
    let contracts = match load_or_run(ctx, CONTRACTS, contract::contract_phase(ctx, &plan)).await? {
        Ok(contracts) => contracts,
        Err(why) => return Ok((Verdict::Fail, why, None)),
    };
    let (shared, unfinished) = build::build_phase(ctx, plan, contracts, previous, stats).await?;
    verify_fix::verify_and_fix(ctx, &shared, unfinished, previous, stats).await
}

/// A phase's result as the run directory keeps it.
#[derive(Debug, Clone, Copy)]
struct Saved {
    /// The file in the run directory.
    file: &'static str,
    /// The phase that writes it.
    phase: Phase,
    /// Why the phase is skipped when the file is there.
    skipped: &'static str,
}

const SCOUTS: Saved = Saved {
    file: "scouts.json",
    phase: Phase::Scout,
    skipped: "done before the resume",
};
const PLAN: Saved = Saved {
    file: "plan.json",
    phase: Phase::Plan,
    skipped: "chosen before the resume",
};
const CONTRACTS: Saved = Saved {
    file: "contracts.json",
    phase: Phase::Contract,
    skipped: "committed before the resume",
};

impl Saved {
    fn saved_in(self, ctx: &Ctx) -> bool {
        ctx.run_dir.join(self.file).is_file()
    }
}

/// The result `saved` holds (the phase is said as skipped), else the phase's own, saved when
/// it produced one. `phase` is a future: it runs only when nothing was saved.
async fn load_or_run<T: Serialize + DeserializeOwned>(
    ctx: &Ctx,
    saved: Saved,
    phase: impl std::future::Future<Output = Result<T, String>>,
) -> Result<Result<T, String>, PipelineError> {
    let path = ctx.run_dir.join(saved.file);
    if let Some(done) = read_json::<T>(&path) {
        ctx.phase(saved.phase, PhaseStatus::Skipped, saved.skipped);
        return Ok(Ok(done));
    }
    let produced = phase.await;
    if let Ok(value) = &produced {
        write_json(&path, value)?;
    }
    Ok(produced)
}
