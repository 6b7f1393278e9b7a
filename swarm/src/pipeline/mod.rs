//! The pipeline: spec → SCOUT → PLAN → CONTRACT → BUILD → VERIFY → (FIX → VERIFY)* → verdict.
//!
//! The output directory is a git repository holding the app; `.swarm/runs/<id>/` holds
//! `run.json` (what to resume with: spec, fleet, knobs — API keys never, only the names of
//! the variables that hold them), `events.jsonl`, `scouts.json`, `plan.json`, `contracts/`
//! and `contracts.json`, and `verdict.json`. Each phase writes its file when it ends, and each
//! merged task is an event, so [`resume`] continues a killed run without redoing finished
//! work. The library never prints: progress goes to the [`Sink`].

mod build;
pub mod events;
pub mod git;

pub mod prompts;

pub use events::{read_log, Event, Phase, PhaseStatus, Record, Recorder, Sink};

use crate::agent::{
    run_agent, AgentConfig, AgentEvent, EventSink, Outcome, Workspace, READ_ONLY_TOOLS,
};
use crate::console::ConsoleStep;
use crate::fleet::live as nodes;
use crate::fleet::LiveNode;
use crate::fleet::{Fleet, Role};
use crate::knobs::Knobs;
use crate::llm::{ChatRequest, JsonSchemaFormat, Message};
use crate::plan::{self, Plan, PlanContext};
use crate::pyast::{self, Signature};
use crate::sandbox::Sandbox;
use crate::spec::{render_acceptance, Spec};
use crate::verify::{self, Severity, Verdict, VerifyOptions, VerifyReport};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
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

/// Everything a phase needs.
pub(crate) struct Ctx {
    pub out: PathBuf,
    pub run_dir: PathBuf,
    pub spec: Spec,
    pub knobs: Knobs,
    pub nodes: Vec<LiveNode>,
    pub recorder: Recorder,
    pub sandbox: &'static Sandbox,
}

impl Ctx {
    fn emit(&self, event: Event) {
        self.recorder.emit(event);
    }

    /// The run's id (its directory's name), which its merge commits carry.
    fn run_id(&self) -> String {
        self.run_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn phase(&self, phase: Phase, status: PhaseStatus, reason: impl Into<String>) {
        self.emit(Event::Phase {
            phase,
            status,
            reason: reason.into(),
        });
    }
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

async fn execute(
    options: RunOptions,
    run_id: String,
    run_dir: PathBuf,
    sink: Sink,
    resumed: bool,
) -> Result<RunOutcome, PipelineError> {
    let started = std::time::Instant::now();
    // Generated code runs only sealed, unless the user accepted otherwise: refuse before
    // anything is built rather than fail its checks one by one.
    if options.knobs.get(crate::knobs::SANDBOX_ALLOW_UNSEALED) {
        crate::sandbox::allow_unsealed();
    }
    Sandbox::detect()
        .check_sealed()
        .map_err(|refusal| PipelineError::Config(refusal.to_string()))?;
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
    });
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
        return Err(PipelineError::Config(format!(
            "no node of the fleet answers ({}); start the servers or fix the fleet file",
            options
                .fleet
                .nodes
                .iter()
                .map(|n| format!("{} at {}", n.name, n.url))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for role in [Role::Planner, Role::Worker] {
        if nodes::with_role(&live, role).is_empty() {
            return Err(PipelineError::Config(format!("the fleet has no node with the role `{}`; add it to a node's roles (or leave roles empty for all)", format!("{role:?}").to_lowercase())));
        }
    }
    let spec = read_json::<Spec>(&run_dir.join("spec.json")).unwrap_or(options.spec.clone());
    let mut ctx = Ctx {
        out: options.out.clone(),
        run_dir: run_dir.clone(),
        spec,
        knobs: options.knobs.clone(),
        nodes: live,
        recorder,
        sandbox: Sandbox::detect(),
    };
    let mut stats = RunStats {
        worker_slots: nodes::with_role(&ctx.nodes, Role::Worker)
            .iter()
            .map(|i| ctx.nodes[*i].slots)
            .sum(),
        ..RunStats::default()
    };
    let outcome = phases(&mut ctx, &options, &previous, &mut stats).await?;
    let (verdict, reason, report) = outcome;
    ctx.emit(Event::Verdict {
        verdict,
        reason: reason.clone(),
    });
    let result = RunOutcome {
        run_id,
        out: ctx.out.clone(),
        run_dir: run_dir.clone(),
        verdict,
        reason,
        report,
        stats,
        wall_ms: started.elapsed().as_millis() as u64,
    };
    write_json(&run_dir.join("verdict.json"), &result)?;
    Ok(result)
}

type Ended = (Verdict, String, Option<VerifyReport>);

/// The build tasks merged before this BUILD: those the log records and those git records
/// (merge commits carry the run, stage and task), which wins where they disagree. A merge git
/// has and the log lost (killed between the commit and its event; a cut or deleted log) is
/// written to the log as [`Event::MergeRecovered`].
async fn reconcile_merges(
    ctx: &Ctx,
    previous: &[Record],
) -> Result<BTreeSet<String>, PipelineError> {
    let logged_events: Vec<(String, String, String)> = previous
        .iter()
        .filter_map(|r| match &r.event {
            Event::Merged {
                task,
                stage,
                commit,
            }
            | Event::MergeRecovered {
                task,
                stage,
                commit,
            } => Some((stage.clone(), task.clone(), commit.clone())),
            _ => None,
        })
        .collect();
    let logged: BTreeSet<(String, String)> = logged_events
        .iter()
        .map(|(stage, task, _)| (stage.clone(), task.clone()))
        .collect();
    let in_git = git::merges_of_run(&ctx.out, &ctx.run_id())
        .await
        .map_err(|err| PipelineError::Config(format!("cannot read the run's merges: {err}")))?;
    for merge in &in_git {
        if !logged.contains(&(merge.stage.clone(), merge.task.clone())) {
            ctx.emit(Event::MergeRecovered {
                task: merge.task.clone(),
                commit: merge.commit.clone(),
                stage: merge.stage.clone(),
            });
        }
    }
    let mut merged: BTreeSet<String> = in_git
        .into_iter()
        .filter(|merge| merge.stage == "build")
        .map(|merge| merge.task)
        .collect();
    // A logged merge counts only while its commit is still in main's history (a run from
    // before merge commits carried trailers; never one whose branch was reset by hand).
    for (stage, task, commit) in logged_events {
        if stage == "build" && !merged.contains(&task) && git::is_ancestor(&ctx.out, &commit).await
        {
            merged.insert(task);
        }
    }
    Ok(merged)
}

async fn phases(
    ctx: &mut Ctx,
    options: &RunOptions,
    previous: &[Record],
    stats: &mut RunStats,
) -> Result<Ended, PipelineError> {
    // Acceptance first: without it nothing could prove the app works.
    if ctx.spec.acceptance.is_empty() {
        if !options.derive_acceptance {
            return Err(PipelineError::Config(crate::spec::ACCEPTANCE_HELP.into()));
        }
        match derive_acceptance(ctx, stats).await {
            Ok(steps) => {
                ctx.spec.acceptance = steps;
                ctx.emit(Event::AcceptanceDerived {
                    block: render_acceptance(&ctx.spec.acceptance),
                });
                write_json(&ctx.run_dir.join("spec.json"), &ctx.spec)?;
            }
            Err(why) => {
                return Ok((
                    Verdict::Fail,
                    format!("no acceptance commands could be derived: {why}"),
                    None,
                ))
            }
        }
    }
    // SCOUT
    let notes: Vec<(String, String)> = match read_json(&ctx.run_dir.join("scouts.json")) {
        Some(notes) => {
            ctx.phase(Phase::Scout, PhaseStatus::Skipped, "done before the resume");
            notes
        }
        None if !ctx.knobs.get(crate::knobs::SCOUT_ENABLED) => {
            ctx.phase(
                Phase::Scout,
                PhaseStatus::Skipped,
                "knob scout.enabled is off",
            );
            Vec::new()
        }
        None => {
            let notes = scout(ctx).await;
            write_json(&ctx.run_dir.join("scouts.json"), &notes)?;
            notes
        }
    };
    // PLAN
    let plan: Plan = match read_json(&ctx.run_dir.join("plan.json")) {
        Some(plan) => {
            ctx.phase(
                Phase::Plan,
                PhaseStatus::Skipped,
                "chosen before the resume",
            );
            plan
        }
        None => match plan_phase(ctx, &notes, stats).await {
            Ok(plan) => {
                write_json(&ctx.run_dir.join("plan.json"), &plan)?;
                plan
            }
            Err(why) => return Ok((Verdict::Fail, why, None)),
        },
    };
    stats.tasks_total = plan.tasks.len();
    // CONTRACT
    let contracts: Contracts = match read_json(&ctx.run_dir.join("contracts.json")) {
        Some(contracts) => {
            ctx.phase(
                Phase::Contract,
                PhaseStatus::Skipped,
                "committed before the resume",
            );
            contracts
        }
        None => match contract_phase(ctx, &plan).await {
            Ok(contracts) => {
                write_json(&ctx.run_dir.join("contracts.json"), &contracts)?;
                contracts
            }
            Err(why) => return Ok((Verdict::Fail, why, None)),
        },
    };
    // BUILD: what merged before is what git says merged; the log is brought to agree.
    let merged_before = reconcile_merges(ctx, previous).await?;
    ctx.emit(Event::BuildPlanned {
        tasks: plan.tasks.len(),
        merged_before: merged_before.len(),
    });
    let preamble = Arc::new(prompts::preamble(&ctx.spec, &contracts.files));
    let shared = build::Shared {
        plan: plan.clone(),
        contracts: contracts.clone(),
        preamble,
    };
    ctx.phase(
        Phase::Build,
        PhaseStatus::Started,
        format!(
            "{} task(s), {} merged before",
            plan.tasks.len(),
            merged_before.len()
        ),
    );
    let built = build::run_build(ctx, &shared, &merged_before, stats).await?;
    stats.tasks_merged = built.merged.len();
    stats.tasks_failed = built.failed.len();
    ctx.phase(
        Phase::Build,
        PhaseStatus::Finished,
        format!(
            "{} merged, {} failed",
            built.merged.len(),
            built.failed.len()
        ),
    );
    // VERIFY and FIX
    let fix_rounds_before = previous
        .iter()
        .filter(|r| matches!(r.event, Event::FixRound { .. }))
        .count() as u32;
    let max_rounds = ctx.knobs.get(crate::knobs::FIX_ROUNDS);
    let mut round = fix_rounds_before;
    // Tasks that never merged: the app cannot pass while one is missing, whatever the
    // acceptance commands say; FIX gets them back.
    let mut unfinished: BTreeSet<String> = built.failed.clone();
    loop {
        ctx.phase(
            Phase::Verify,
            PhaseStatus::Started,
            format!("round {round}"),
        );
        let options = VerifyOptions {
            smoke: ctx.knobs.get(crate::knobs::VERIFY_SMOKE),
            review: ctx.knobs.get(crate::knobs::VERIFY_REVIEW),
            timeout: ctx.knobs.get(crate::knobs::VERIFY_COMMAND_TIMEOUT_S),
            entry: Some(plan.entry.clone()),
        };
        let mut report = verify::verify(&ctx.out, &ctx.spec, &options, ctx.sandbox)
            .await
            .map_err(|err| PipelineError::Io(err.to_string()))?;
        stats.tasks_failed = unfinished.len();
        if !unfinished.is_empty() {
            for id in &unfinished {
                let file = plan
                    .tasks
                    .iter()
                    .find(|t| &t.id == id)
                    .and_then(|t| t.files.first().cloned())
                    .unwrap_or_default();
                report.findings.push(verify::Finding {
                    gate: crate::verify::Gate::Build,
                    kind: crate::verify::FindingKind::TaskUnfinished,
                    file,
                    line: None,
                    message: format!("task `{id}` failed in BUILD and was never merged"),
                    evidence: String::new(),
                    severity: Severity::Fail,
                });
            }
            report.gates.push(verify::GateResult {
                gate: crate::verify::Gate::Build,
                verdict: Verdict::Fail,
                summary: format!(
                    "{} task(s) never merged: {}",
                    unfinished.len(),
                    unfinished.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
            report.verdict = Verdict::Fail;
        }
        for gate in &report.gates {
            ctx.emit(Event::Gate {
                round,
                gate: gate.gate,
                verdict: gate.verdict,
                summary: gate.summary.clone(),
            });
        }
        for finding in &report.findings {
            ctx.emit(Event::Finding {
                round,
                finding: finding.clone(),
                owner: owner_of(&plan, &finding.file).map(|t| t.id.clone()),
            });
        }
        ctx.phase(
            Phase::Verify,
            PhaseStatus::Finished,
            format!("round {round}: {}", report.verdict),
        );
        stats.fix_rounds = round;
        let failing: Vec<&verify::Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Fail)
            .collect();
        if report.verdict != Verdict::Fail || failing.is_empty() {
            let reason = match report.verdict {
                Verdict::Pass => format!("every acceptance command passed and no gate failed (after {round} fix round(s))"),
                _ => format!("nothing failed, but not everything could be checked: {}", gate_summary(&report)),
            };
            return Ok((report.verdict, reason, Some(report)));
        }
        if round >= max_rounds {
            let reason = format!(
                "{} failing finding(s) left after {round} fix round(s): {}",
                failing.len(),
                gate_summary(&report)
            );
            return Ok((Verdict::Fail, reason, Some(report)));
        }
        round += 1;
        let mut by_owner: BTreeMap<String, Vec<verify::Finding>> = BTreeMap::new();
        for finding in failing {
            let owner = owner_of(&plan, &finding.file)
                .or_else(|| entry_owner(&plan))
                .or(plan.tasks.first());
            if let Some(owner) = owner {
                by_owner
                    .entry(owner.id.clone())
                    .or_default()
                    .push(finding.clone());
            }
        }
        ctx.emit(Event::FixRound {
            round,
            tasks: by_owner.keys().cloned().collect(),
        });
        ctx.phase(
            Phase::Fix,
            PhaseStatus::Started,
            format!("round {round}: {} task(s)", by_owner.len()),
        );
        let fixed = build::run_fix(ctx, &shared, round, &by_owner, stats).await?;
        for id in fixed {
            unfinished.remove(&id);
        }
        ctx.phase(Phase::Fix, PhaseStatus::Finished, format!("round {round}"));
    }
}

fn gate_summary(report: &VerifyReport) -> String {
    report
        .gates
        .iter()
        .map(|g| format!("{} {}", g.gate, g.verdict))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The task that owns `file`.
pub fn owner_of<'p>(plan: &'p Plan, file: &str) -> Option<&'p plan::PlanTask> {
    plan.tasks
        .iter()
        .find(|t| t.files.iter().any(|f| f == file))
}

fn entry_owner(plan: &Plan) -> Option<&plan::PlanTask> {
    plan::files_run_by(&plan.entry)
        .iter()
        .find_map(|f| owner_of(plan, f))
}

/// The model's text reply to a one-shot structured request on node `index`.
/// Asks one node for a JSON answer under `schema`; returns it with the tokens used (in, out)
/// whether or not the answer was usable: a weak model's unusable reply still cost its tokens.
async fn ask_counted(
    ctx: &Ctx,
    index: usize,
    text: String,
    schema: JsonSchemaFormat,
    temperature: f32,
) -> (Result<serde_json::Value, String>, (u64, u64)) {
    let node = &ctx.nodes[index];
    let mut request = ChatRequest::new(
        node.node.model.clone(),
        vec![Message::text(crate::llm::Role::User, text)],
    );
    request.response_format = Some(schema);
    request.temperature = Some(temperature);
    request.max_tokens = Some(ctx.knobs.get(crate::knobs::NODE_MAX_REPLY_TOKENS));
    let reply = match node.client.chat(&request).await {
        Ok(reply) => reply,
        Err(err) => return (Err(format!("{}: {err}", node.node.name)), (0, 0)),
    };
    let tokens = (reply.usage.prompt_tokens, reply.usage.completion_tokens);
    let value = crate::agent::first_json_object(&reply.content).ok_or_else(|| {
        let start: String = reply.content.chars().take(200).collect();
        format!(
            "{} answered without a JSON object: {start:?}",
            node.node.name
        )
    });
    (value, tokens)
}

/// Indices of live nodes with `role`, falling back to any live node.
fn role_nodes(ctx: &Ctx, role: Role) -> Vec<usize> {
    let with: Vec<usize> = nodes::with_role(&ctx.nodes, role)
        .into_iter()
        .filter(|i| !ctx.nodes[*i].down())
        .collect();
    if with.is_empty() {
        (0..ctx.nodes.len())
            .filter(|i| !ctx.nodes[*i].down())
            .collect()
    } else {
        with
    }
}

/// Tries to derive acceptance commands twice (on the next planner the second time, if there
/// is one): a weak model's first answer is often cut short. Every try's tokens are counted.
async fn derive_acceptance(ctx: &Ctx, stats: &mut RunStats) -> Result<Vec<ConsoleStep>, String> {
    let planners = role_nodes(ctx, Role::Planner);
    if planners.is_empty() {
        return Err("no planner node is up".into());
    }
    let mut why = String::new();
    for attempt in 0..2 {
        let index = planners[attempt % planners.len()];
        let (answer, (tokens_in, tokens_out)) = ask_counted(
            ctx,
            index,
            prompts::derive_acceptance(&ctx.spec),
            acceptance_schema(),
            0.2 + 0.3 * attempt as f32,
        )
        .await;
        stats.tokens_in += tokens_in;
        stats.tokens_out += tokens_out;
        match answer.and_then(|value| acceptance_steps(&value)) {
            Ok(steps) => return Ok(steps),
            Err(err) => why = err,
        }
    }
    Err(why)
}

fn acceptance_schema() -> JsonSchemaFormat {
    JsonSchemaFormat {
        name: "acceptance".into(),
        schema: json!({"type": "object", "properties": {"commands": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {"command": {"type": "string"}, "stdout": {"type": "array", "items": {"type": "string"}}, "exit_code": {"type": "integer"}}, "required": ["command", "stdout", "exit_code"]}}}, "required": ["commands"]}),
    }
}

/// The console steps of a derivation answer.
fn acceptance_steps(value: &serde_json::Value) -> Result<Vec<ConsoleStep>, String> {
    let steps: Vec<ConsoleStep> = value
        .get("commands")
        .and_then(|c| c.as_array())
        .map(|commands| {
            commands
                .iter()
                .filter_map(|c| {
                    let command = c
                        .get("command")?
                        .as_str()?
                        .trim()
                        .trim_start_matches("$ ")
                        .to_string();
                    (!command.is_empty()).then(|| ConsoleStep {
                        command,
                        expected: c
                            .get("stdout")
                            .and_then(|s| s.as_array())
                            .map(|lines| {
                                lines
                                    .iter()
                                    .filter_map(|l| l.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        exit_code: c.get("exit_code").and_then(|e| e.as_i64()).unwrap_or(0) as i32,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if steps.is_empty() {
        return Err("the planner proposed no usable command".into());
    }
    Ok(steps)
}

fn agent_config(ctx: &Ctx, index: usize, max_actions: u32) -> AgentConfig {
    let node = &ctx.nodes[index];
    let mut config = AgentConfig::new(node.node.model.clone(), node.mode);
    config.max_actions = max_actions;
    config.context_length = node.context_length;
    config.max_reply_tokens = ctx.knobs.get(crate::knobs::NODE_MAX_REPLY_TOKENS);
    config
}

fn forward(ctx: &Ctx, task: &str, index: usize) -> EventSink {
    let recorder = ctx.recorder.clone();
    let task = task.to_string();
    let name = ctx.nodes[index].node.name.clone();
    Arc::new(move |event: &AgentEvent| match event {
        AgentEvent::Action(record) => recorder.emit(Event::Action {
            task: task.clone(),
            node: name.clone(),
            tool: record.tool.clone(),
            target: record.target.clone(),
            wrote: record.wrote,
        }),
        AgentEvent::Judge {
            rule,
            decision,
            reason,
        } => recorder.emit(Event::Judge {
            task: task.clone(),
            node: name.clone(),
            rule: rule.clone(),
            decision: decision.clone(),
            reason: reason.clone(),
        }),
        _ => {}
    })
}

async fn scout(ctx: &Ctx) -> Vec<(String, String)> {
    let scouts = role_nodes(ctx, Role::Scout);
    ctx.phase(
        Phase::Scout,
        PhaseStatus::Started,
        format!(
            "{} lens(es) on {} node(s)",
            prompts::LENSES.len(),
            scouts.len()
        ),
    );
    let Ok(scratch) = tempfile::Builder::new().prefix("swarm-scout-").tempdir() else {
        ctx.phase(
            Phase::Scout,
            PhaseStatus::Finished,
            "no scratch directory; planning without notes",
        );
        return Vec::new();
    };
    let _ = crate::fsutil::copy_tree(&ctx.out, scratch.path());
    let runs = prompts::LENSES
        .iter()
        .enumerate()
        .map(|(i, (lens, instruction))| {
            let index = scouts[i % scouts.len().max(1)];
            let scratch = scratch.path().to_path_buf();
            async move {
                let mut config =
                    agent_config(ctx, index, ctx.knobs.get(crate::knobs::SCOUT_MAX_ACTIONS));
                let mut tools: Vec<String> =
                    READ_ONLY_TOOLS.iter().map(|t| t.to_string()).collect();
                tools.push("run".into());
                config.allowed_tools = Some(tools);
                let workspace = match Workspace::new(&scratch) {
                    Ok(w) => w.with_owned_files(Vec::<String>::new()),
                    Err(err) => return (lens.to_string(), index, Err(err.to_string())),
                };
                let report = run_agent(
                    &ctx.nodes[index].client,
                    &workspace,
                    &config,
                    &prompts::scout(lens, instruction, &ctx.spec),
                    &forward(ctx, &format!("scout:{lens}"), index),
                )
                .await;
                let notes = if report.outcome == Outcome::Done && !report.summary.trim().is_empty()
                {
                    Ok(report.summary.chars().take(2000).collect::<String>())
                } else if report.summary.trim().is_empty() {
                    Err("it finished without notes".to_string())
                } else {
                    Err(report.summary)
                };
                (lens.to_string(), index, notes)
            }
        });
    let results = futures::future::join_all(runs).await;
    let mut notes = Vec::new();
    for (lens, index, result) in results {
        let node = ctx.nodes[index].node.name.clone();
        match result {
            Ok(text) => {
                ctx.emit(Event::Scout {
                    lens: lens.clone(),
                    node,
                    ok: true,
                    notes: text.clone(),
                });
                notes.push((lens, text));
            }
            Err(why) => ctx.emit(Event::Scout {
                lens,
                node,
                ok: false,
                notes: why,
            }),
        }
    }
    ctx.phase(
        Phase::Scout,
        PhaseStatus::Finished,
        format!(
            "{} of {} scouts gave notes",
            notes.len(),
            prompts::LENSES.len()
        ),
    );
    notes
}

async fn plan_phase(
    ctx: &Ctx,
    notes: &[(String, String)],
    stats: &mut RunStats,
) -> Result<Plan, String> {
    let planners = role_nodes(ctx, Role::Planner);
    let drafts = ctx.knobs.get(crate::knobs::PLAN_DRAFTS).max(1) as usize;
    ctx.phase(
        Phase::Plan,
        PhaseStatus::Started,
        format!("{drafts} draft(s) on {} planner node(s)", planners.len()),
    );
    let existing = existing_files(&ctx.out);
    let context = PlanContext {
        commands: ctx
            .spec
            .acceptance
            .iter()
            .map(|s| s.command.clone())
            .collect(),
        existing: existing.iter().cloned().collect(),
    };
    let mut repair: Option<(String, Vec<String>)> = None;
    let rounds = ctx.knobs.get(crate::knobs::PLAN_REPAIR_ROUNDS) + 1;
    let mut last_problems = Vec::new();
    for round in 0..rounds {
        let text = prompts::plan(
            &ctx.spec,
            notes,
            &existing,
            repair.as_ref().map(|(d, p)| (d.as_str(), p.as_slice())),
        );
        let requests = (0..drafts).map(|i| {
            let index = planners[i % planners.len()];
            let text = text.clone();
            async move {
                (
                    index,
                    ask_counted(ctx, index, text, plan::plan_schema(), 0.2 + 0.3 * i as f32).await,
                )
            }
        });
        let answers = futures::future::join_all(requests).await;
        let mut parsed: Vec<Option<Plan>> = Vec::new();
        for (draft, (index, answer)) in answers.into_iter().enumerate() {
            stats.drafts += 1;
            let node = ctx.nodes[index].node.name.clone();
            let (answer, (tokens_in, tokens_out)) = answer;
            stats.tokens_in += tokens_in;
            stats.tokens_out += tokens_out;
            let mut repairs = Vec::new();
            let (plan, problems) = match answer {
                Err(why) => (None, vec![why]),
                Ok(value) => match serde_json::from_value::<Plan>(value.clone()) {
                    Err(err) => (None, vec![format!("not a plan: {err}")]),
                    Ok(plan) => {
                        let (plan, notes) = plan::normalize(&plan, &context);
                        repairs = notes;
                        let problems = plan::validate(&plan, &context);
                        (Some(plan), problems)
                    }
                },
            };
            let valid = plan.is_some() && problems.is_empty();
            let score = valid
                .then(|| plan.as_ref().and_then(plan::score).map(|s| s.score))
                .flatten();
            ctx.emit(Event::PlanDraft {
                round,
                draft,
                node,
                valid,
                score,
                problems: problems.clone(),
                repairs,
            });
            if valid {
                stats.drafts_valid += 1;
                parsed.push(plan);
            } else {
                if repair.is_none() || round > 0 {
                    if let Some(plan) = &plan {
                        repair = Some((
                            serde_json::to_string(plan).unwrap_or_default(),
                            problems.clone(),
                        ));
                    }
                }
                last_problems = problems;
                parsed.push(None);
            }
        }
        let refs: Vec<Option<&Plan>> = parsed.iter().map(|p| p.as_ref()).collect();
        if let Some(best) = plan::choose(&refs) {
            let plan = parsed[best].clone().ok_or("the chosen draft vanished")?;
            let score = plan::score(&plan).ok_or("the chosen draft is cyclic")?;
            let valid = parsed.iter().filter(|p| p.is_some()).count();
            ctx.emit(Event::PlanChosen {
                round,
                draft: best,
                score: score.score,
                width: score.width,
                depth: score.depth,
                tasks: plan.tasks.len(),
                reason: format!("highest score of {valid} valid draft(s): 100×width {} − 10×depth {} − largest task {} file(s)", score.width, score.depth, score.largest),
            });
            ctx.phase(
                Phase::Plan,
                PhaseStatus::Finished,
                format!("{} task(s), entry `{}`", plan.tasks.len(), plan.entry),
            );
            return Ok(plan);
        }
        if repair.is_none() {
            repair = Some((String::from("(no parsable draft)"), last_problems.clone()));
        }
    }
    ctx.phase(Phase::Plan, PhaseStatus::Finished, "no valid plan");
    Err(format!(
        "no valid plan after {rounds} round(s); last problems: {}",
        last_problems.join("; ")
    ))
}

/// Problems with the contract stubs.
fn contract_problems(out: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for file in files {
        let Ok(source) = std::fs::read_to_string(out.join(file)) else {
            problems.push(format!("{file} was not written"));
            continue;
        };
        if file.ends_with(".sql") {
            if !source.to_ascii_uppercase().contains("CREATE TABLE") {
                problems.push(format!("{file} has no CREATE TABLE statement"));
            }
            continue;
        }
        if pyast::parses(&source) == Some(false) {
            problems.push(format!("{file} does not parse as Python"));
            continue;
        }
        let signatures = pyast::signatures_of(file, &source).unwrap_or_default();
        if signatures.is_empty() && !file.ends_with("__init__.py") {
            problems.push(format!("{file} has no function or class signature"));
        }
        for signature in signatures
            .iter()
            .filter(|s| s.text.starts_with("def ") || s.text.starts_with("async def "))
        {
            if !signature.stub {
                problems.push(format!(
                    "{file}:{} `{}` has a body; contracts are signatures with `...` bodies",
                    signature.line, signature.name
                ));
            }
        }
    }
    problems
}

async fn contract_phase(ctx: &Ctx, plan: &Plan) -> Result<Contracts, String> {
    let existing: BTreeSet<String> = existing_files(&ctx.out).into_iter().collect();
    let mut files: Vec<String> = plan
        .tasks
        .iter()
        .flat_map(|t| t.files.iter().cloned())
        .filter(|f| f.ends_with(".py") && !existing.contains(f))
        .collect();
    if plan.stores_data && !existing.contains("schema.sql") {
        files.push("schema.sql".into());
    }
    if files.is_empty() {
        ctx.phase(
            Phase::Contract,
            PhaseStatus::Skipped,
            "every planned file exists already; its code is the contract",
        );
        let commit = git::head(&ctx.out).await.map_err(|e| e.to_string())?;
        return Ok(Contracts {
            commit,
            files: Vec::new(),
            signatures: Vec::new(),
        });
    }
    ctx.phase(
        Phase::Contract,
        PhaseStatus::Started,
        format!("stubs for {}", files.join(", ")),
    );
    let mut problems: Vec<String> = Vec::new();
    let attempts = ctx.knobs.get(crate::knobs::CONTRACT_ATTEMPTS).max(1);
    for attempt in 1..=attempts {
        let candidates = role_nodes(ctx, Role::Planner);
        let index = nodes::pick(&ctx.nodes, &candidates, true, true, None)
            .map(|p| p.0)
            .or(candidates.first().copied())
            .ok_or("no planner node is up")?;
        ctx.emit(Event::Dispatch {
            task: "contract".into(),
            node: ctx.nodes[index].node.name.clone(),
            attempt,
            reason: "the contract goes to a planner node".into(),
        });
        let workspace = Workspace::new(&ctx.out)
            .map_err(|e| e.to_string())?
            .with_owned_files(files.clone());
        let mut config = agent_config(
            ctx,
            index,
            ctx.knobs.get(crate::knobs::CONTRACT_MAX_ACTIONS),
        );
        config.preamble = Some(format!("## The spec\n{}", ctx.spec.text));
        let report = run_agent(
            &ctx.nodes[index].client,
            &workspace,
            &config,
            &prompts::contract(plan, &files, &problems),
            &forward(ctx, "contract", index),
        )
        .await;
        problems = contract_problems(&ctx.out, &files);
        if report.outcome != Outcome::Done && problems.is_empty() {
            problems.push(format!(
                "the contract task did not finish: {}",
                report.summary
            ));
        }
        if problems.is_empty() {
            let commit = git::commit_all(&ctx.out, "swarm: frozen contracts")
                .await
                .map_err(|e| e.to_string())?;
            let mut contracts = Contracts {
                commit: commit.clone(),
                ..Contracts::default()
            };
            let dir = ctx.run_dir.join("contracts");
            for file in &files {
                let content = std::fs::read_to_string(ctx.out.join(file)).unwrap_or_default();
                let copy = dir.join(file);
                if let Some(parent) = copy.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let _ = std::fs::write(copy, &content);
                if file.ends_with(".py") {
                    contracts
                        .signatures
                        .extend(pyast::signatures_of(file, &content).unwrap_or_default());
                }
                contracts.files.push((file.clone(), content));
            }
            ctx.emit(Event::Contract {
                status: "committed".into(),
                signatures: contracts.signatures.len(),
                problems: Vec::new(),
                commit: Some(commit),
            });
            ctx.phase(
                Phase::Contract,
                PhaseStatus::Finished,
                format!(
                    "{} signature(s) frozen in {} file(s)",
                    contracts.signatures.len(),
                    files.len()
                ),
            );
            return Ok(contracts);
        }
        ctx.emit(Event::Contract {
            status: "rejected".into(),
            signatures: 0,
            problems: problems.clone(),
            commit: None,
        });
        // The next attempt (or the build) starts from the project as it was.
        let _ = git::git(&ctx.out, &["checkout", "--", "."]).await;
        let _ = git::git(&ctx.out, &["clean", "-fdq"]).await;
    }
    // Without contracts the workers still build, against nothing frozen: a weaker run, but
    // VERIFY still judges what they make.
    ctx.emit(Event::Contract {
        status: "abandoned".into(),
        signatures: 0,
        problems: problems.clone(),
        commit: None,
    });
    ctx.phase(
        Phase::Contract,
        PhaseStatus::Finished,
        format!(
            "rejected {attempts} time(s); building without frozen contracts: {}",
            problems.join("; ")
        ),
    );
    let commit = git::head(&ctx.out).await.map_err(|e| e.to_string())?;
    Ok(Contracts {
        commit,
        files: Vec::new(),
        signatures: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_checks_want_parsing_stubs_for_every_module_and_a_real_schema() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| std::fs::write(dir.path().join(path), text).unwrap();
        write(
            "store.py",
            "def add(item: str) -> int:\n    \"\"\"Add one.\"\"\"\n    ...\n",
        );
        write("report.py", "def total(rows):\n    return sum(rows)\n");
        write("broken.py", "def f(:\n");
        write("empty.py", "X = 1\n");
        write("schema.sql", "-- tables come later\n");
        let files: Vec<String> = [
            "store.py",
            "report.py",
            "broken.py",
            "empty.py",
            "missing.py",
            "schema.sql",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        let problems = contract_problems(dir.path(), &files);
        assert_eq!(
            problems,
            vec![
                "report.py:1 `total` has a body; contracts are signatures with `...` bodies",
                "broken.py does not parse as Python",
                "empty.py has no function or class signature",
                "missing.py was not written",
                "schema.sql has no CREATE TABLE statement",
            ]
        );
        write(
            "schema.sql",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
        );
        assert!(
            contract_problems(dir.path(), &["store.py".into(), "schema.sql".into()]).is_empty()
        );
    }
}
