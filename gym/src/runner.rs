//! The runner: drives a system under test through every turn of every task of a suite,
//! grades each turn before the next starts, and appends one row per graded turn.
//!
//! Flow of one task replicate: copy the task's starting project (if any) into a fresh project
//! directory → for each turn: give the request (turn 1: the spec; later: the task's scripted
//! turns) to the SUT → keep its transcript and events as JSONL and snapshot the project →
//! grade (hidden checks on a copy, diagnostics, the run's own facts) → append the row.
//!
//! Failures of the infrastructure (a node that refuses connections, a timeout before any
//! token) are retried from the previous turn's snapshot; failures of the model are results.
//! `--resume` skips turns whose rows exist and continues a conversation from the snapshot of
//! its last graded turn.

use crate::results::{harness_commit, replicate_key, ResultRow, ResultsError, ResultsStore};
use crate::task::{Task, Turn};
use graders::checks::{run_checks, Check};
use graders::judge::{choose_panel, judge_turn, JudgeBrief, JudgeNode};
use graders::{
    checks_score, cluster_score, diagnostics_score, hidden_verdict, overall, swarm_score,
    DimensionScore, RunFacts,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use swarm::agent::{
    run_agent, ActionMode, AgentConfig, AgentEvent, AgentReport, EventSink, Outcome, Workspace,
};
use swarm::fleet::{Fleet, Node, Role};
use swarm::llm::{probe, ClientConfig, LlmClient, ProbeReport};
use swarm::sandbox::Sandbox;

/// The system under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Sut {
    /// One agent on one node.
    Single,
    /// The whole pipeline (issue 4).
    Swarm,
}

impl std::fmt::Display for Sut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sut::Single => "single",
            Sut::Swarm => "swarm",
        })
    }
}

/// What one `run` does.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The tasks, loaded and validated.
    pub tasks: Vec<Task>,
    /// The system under test.
    pub sut: Sut,
    /// The fleet.
    pub fleet: Fleet,
    /// How the fleet file was named (recorded in rows).
    pub fleet_name: String,
    /// Replicates per task.
    pub replicates: u32,
    /// Task replicates run at once.
    pub concurrency: usize,
    /// The results CSV.
    pub results: PathBuf,
    /// Skip turns whose rows exist.
    pub resume: bool,
    /// The single agent's action budget per turn.
    pub max_actions: u32,
    /// Samples per judge node per turn.
    pub judge_samples: u32,
    /// The first replicate number (replicates run from here, `replicates` of them).
    pub first_replicate: u32,
    /// `AB_ID:ARM` for an arm of an A/B comparison; empty otherwise.
    pub experiment: String,
    /// Later turns' requests come from the brain playing the user (else the scripted ones).
    pub simulate_user: bool,
    /// The pipeline's knobs (SUT `swarm`).
    pub knobs: swarm::knobs::Knobs,
}

impl RunConfig {
    /// A run of `tasks` by `sut` on `fleet`, appending to `results`, with the defaults the
    /// commands share: one replicate, one at a time, no resume, 40 actions, 3 judge samples,
    /// replicates from 1, no experiment, scripted users, default knobs. Callers override
    /// fields with struct update syntax.
    pub fn new(
        tasks: Vec<Task>,
        sut: Sut,
        fleet: Fleet,
        fleet_name: impl Into<String>,
        results: impl Into<PathBuf>,
    ) -> Self {
        RunConfig {
            tasks,
            sut,
            fleet,
            fleet_name: fleet_name.into(),
            replicates: 1,
            concurrency: 1,
            results: results.into(),
            resume: false,
            max_actions: 40,
            judge_samples: 3,
            first_replicate: 1,
            experiment: String::new(),
            simulate_user: false,
            knobs: swarm::knobs::Knobs::default(),
        }
    }
}

/// Progress, for whoever renders it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A turn started building.
    TurnStarted {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
        /// Node building it.
        node: String,
    },
    /// A turn was graded and its row appended.
    TurnGraded {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
        /// Hidden verdict.
        hidden: String,
        /// What the SUT claimed.
        claimed: String,
        /// checks score.
        checks: Option<f64>,
        /// overall score.
        overall: Option<f64>,
    },
    /// A turn was skipped because its row exists (`--resume`).
    TurnSkipped {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
    },
    /// An infrastructure failure; the turn is tried again.
    Retrying {
        /// Task.
        task: String,
        /// Turn.
        turn: u32,
        /// Why.
        reason: String,
    },
    /// The simulated user's request was unusable; the scripted one is used.
    UserFallback {
        /// Task.
        task: String,
        /// Turn.
        turn: u32,
        /// Why.
        reason: String,
    },
    /// `--resume`: rows of later turns whose earlier turn is missing were moved out of the
    /// results (their conversation is re-run from the missing turn, so they no longer belong
    /// to it).
    SetAside {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// The turns moved.
        turns: Vec<u32>,
        /// Where they went.
        file: String,
    },
    /// A task replicate could not go on.
    Abandoned {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Why.
        reason: String,
    },
}

/// Why a run could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The results file.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// The fleet cannot serve this run.
    #[error("{0}")]
    Fleet(String),
    /// The SUT is not available yet.
    #[error("{0}")]
    Unavailable(String),
    /// Files could not be prepared.
    #[error("{0}")]
    Io(String),
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// Rows appended.
    pub rows: Vec<ResultRow>,
    /// Turns skipped by `--resume`.
    pub skipped: u32,
    /// Task replicates abandoned, with the reason.
    pub abandoned: Vec<String>,
}

/// Times an infrastructure failure is retried.
const INFRA_RETRIES: u32 = 2;

/// The current time, RFC 3339 UTC (seconds).
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let (hour, minute, second) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

fn new_run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let stamp: String = now_rfc3339()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    format!("{stamp}-{:04x}", (nanos ^ std::process::id()) & 0xffff)
}

fn short_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Files a task's commands run directly (`python3 X.py`, `./x.sh`): the entry points that
/// diagnostics must not call unwired.
pub fn entry_points(turn: &Turn) -> BTreeSet<String> {
    let mut commands: Vec<String> = Vec::new();
    for check in &turn.checks {
        match check {
            Check::Console(body) => commands.extend(
                swarm::console::parse_console(body)
                    .into_iter()
                    .map(|s| s.command),
            ),
            Check::CommandSucceeds(command) => commands.push(command.clone()),
            _ => {}
        }
    }
    commands
        .iter()
        .flat_map(|command| {
            command
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|word| word.ends_with(".py") || word.starts_with("./"))
        .map(|word| word.trim_start_matches("./").to_string())
        .collect()
}

/// A builder node, probed once.
struct Builder {
    node: Node,
    probe: ProbeReport,
}

/// Probes every worker node; a node that does not answer is left out (and said so).
async fn probe_builders(fleet: &Fleet) -> Result<Vec<Builder>, RunError> {
    let workers = fleet.with_role(Role::Worker);
    let mut builders = Vec::new();
    let mut down = Vec::new();
    for node in workers {
        match probe(
            &node.url,
            node.api_key().as_deref(),
            std::time::Duration::from_secs(10),
        )
        .await
        {
            Ok(probe) => builders.push(Builder {
                node: node.clone(),
                probe,
            }),
            Err(err) => down.push(format!("{} ({}): {err}", node.name, node.url)),
        }
    }
    if builders.is_empty() {
        return Err(RunError::Fleet(format!(
            "no worker node of the fleet answers: {}",
            if down.is_empty() {
                "the fleet has no node with the worker role".to_string()
            } else {
                down.join("; ")
            }
        )));
    }
    Ok(builders)
}

/// Probes a node and builds its client (with its API key); `None` when it does not answer.
async fn connect(node: &Node) -> Option<(ProbeReport, LlmClient)> {
    let key = node.api_key();
    let report = probe(
        &node.url,
        key.as_deref(),
        std::time::Duration::from_secs(10),
    )
    .await
    .ok()?;
    let mut config = ClientConfig::new(report.url.clone());
    config.api_key = key;
    let client = LlmClient::new(config).ok()?;
    Some((report, client))
}

/// Probes the judge nodes; those that do not answer are left out (their dimensions would be
/// missing anyway).
async fn probe_judges(fleet: &Fleet) -> Vec<JudgeNode> {
    let mut judges = Vec::new();
    for node in fleet.with_role(Role::Judge) {
        let Some((report, client)) = connect(node).await else {
            continue;
        };
        judges.push(JudgeNode {
            name: node.name.clone(),
            model: node.model.clone(),
            client,
            context_length: report
                .model(Some(&node.model))
                .and_then(|m| m.context_length),
        });
    }
    judges
}

fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> std::io::Result<()> {
    let mut text = String::new();
    for item in items {
        text.push_str(&serde_json::to_string(item).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    std::fs::write(path, text)
}

/// The rows `--resume` keeps (see [`ResultsStore::prepare_resume`]); each conversation
/// whose later rows were moved aside is said as [`RunEvent::SetAside`].
fn resumable_rows(
    store: &ResultsStore,
    on_event: &(dyn Fn(&RunEvent) + Send + Sync),
) -> Result<BTreeMap<(String, u32), ResultRow>, RunError> {
    let (done, superseded) = store.prepare_resume()?;
    let file = store.path().with_extension("csv.superseded");
    for moved in superseded {
        on_event(&RunEvent::SetAside {
            task: moved.task,
            replicate: moved.replicate,
            turns: moved.turns,
            file: file.display().to_string(),
        });
    }
    Ok(done)
}

/// Runs the suite.
pub async fn run_suite(
    config: RunConfig,
    on_event: Arc<dyn Fn(&RunEvent) + Send + Sync>,
) -> Result<RunSummary, RunError> {
    let store = ResultsStore::open(&config.results)?;
    let done: BTreeMap<(String, u32), ResultRow> = if config.resume {
        resumable_rows(&store, on_event.as_ref())?
    } else {
        BTreeMap::new()
    };
    let builders = Arc::new(probe_builders(&config.fleet).await?);
    let judges = probe_judges(&config.fleet).await;
    let brain = if config.simulate_user {
        Some(probe_brain(&config.fleet).await?)
    } else {
        None
    };
    let results_dir = config
        .results
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let run_id = new_run_id();
    let commit = harness_commit(Path::new("."));
    let shared = Arc::new(Shared {
        config: config.clone(),
        store,
        done,
        results_dir,
        run_id: run_id.clone(),
        commit,
        on_event,
        summary: Mutex::new(RunSummary {
            run_id,
            ..RunSummary::default()
        }),
        judges,
        brain,
    });
    let semaphore = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
    let mut handles = Vec::new();
    let mut slot = 0usize;
    for task in &config.tasks {
        let first = config.first_replicate.max(1);
        for replicate in first..first + config.replicates {
            let builder_index = slot % builders.len();
            slot += 1;
            let (shared, builders, semaphore, task) = (
                shared.clone(),
                builders.clone(),
                semaphore.clone(),
                task.clone(),
            );
            handles.push(tokio::spawn(async move {
                let Ok(_permit) = semaphore.acquire_owned().await else {
                    return;
                };
                let builder = &builders[builder_index];
                if let Err(reason) = run_replicate(&shared, &task, replicate, builder).await {
                    (shared.on_event)(&RunEvent::Abandoned {
                        task: task.id.clone(),
                        replicate,
                        reason: reason.clone(),
                    });
                    if let Ok(mut summary) = shared.summary.lock() {
                        summary
                            .abandoned
                            .push(format!("{}/{} r{replicate}: {reason}", task.suite, task.id));
                    }
                }
            }));
        }
    }
    for handle in handles {
        let _ = handle.await;
    }
    let summary = shared.summary.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(summary)
}

struct Shared {
    config: RunConfig,
    store: ResultsStore,
    done: BTreeMap<(String, u32), ResultRow>,
    results_dir: PathBuf,
    run_id: String,
    commit: String,
    on_event: Arc<dyn Fn(&RunEvent) + Send + Sync>,
    summary: Mutex<RunSummary>,
    judges: Vec<JudgeNode>,
    brain: Option<crate::user_sim::Brain>,
}

/// The knobs that shaped a row, as JSON.
fn knobs_json(config: &RunConfig, mode: ActionMode) -> String {
    let mut knobs = match config.sut {
        Sut::Single => serde_json::json!({
            "max_actions": config.max_actions,
            "action_mode": mode.to_string(),
            "sut": config.sut.to_string(),
            "simulate_user": config.simulate_user,
        }),
        // The pipeline's knobs that differ from their defaults (every other knob is at its
        // registry default, so equal JSON means equal settings).
        Sut::Swarm => serde_json::json!({
            "sut": config.sut.to_string(),
            "simulate_user": config.simulate_user,
            "knobs": config.knobs.changed(),
        }),
    };
    // A turn whose generated code ran unsealed (accepted explicitly, or the run was refused)
    // says so in its row; sealed rows keep the JSON, and so the hash, they always had.
    if let (Some(note), Some(object)) = (Sandbox::detect().unsealed_note(), knobs.as_object_mut()) {
        object.insert("sandbox".into(), serde_json::Value::String(note));
    }
    knobs.to_string()
}

fn row_template(
    shared: &Shared,
    task: &Task,
    replicate: u32,
    builder: &Builder,
    mode: ActionMode,
) -> ResultRow {
    let knobs = knobs_json(&shared.config, mode);
    ResultRow {
        run_id: shared.run_id.clone(),
        experiment: shared.config.experiment.clone(),
        timestamp: String::new(),
        commit: shared.commit.clone(),
        suite: task.suite.clone(),
        task: task.id.clone(),
        manifest_hash: task.manifest_hash.clone(),
        turn: 0,
        replicate,
        sut: shared.config.sut.to_string(),
        builder_model: match shared.config.sut {
            Sut::Single => builder.node.model.clone(),
            Sut::Swarm => worker_models(&shared.config.fleet),
        },
        brain_model: String::new(),
        judge_model: String::new(),
        fleet: shared.config.fleet_name.clone(),
        knobs_hash: short_hash(&knobs),
        knobs,
        checks: None,
        swarm: None,
        cluster: None,
        diagnostics: None,
        requirements: None,
        code_quality: None,
        bugs: None,
        overall: None,
        hidden_verdict: String::new(),
        claimed_verdict: String::new(),
        wall_seconds: 0.0,
        tokens_in: 0,
        tokens_out: 0,
        malformed_replies: 0,
        tool_errors: 0,
        context_overflows: 0,
        occupancy: None,
        stalls: 0,
        errors: 0,
        transcript: String::new(),
        events: String::new(),
    }
}

/// The distinct models of the fleet's workers, `;`-separated.
fn worker_models(fleet: &Fleet) -> String {
    let mut models: Vec<String> = fleet
        .with_role(Role::Worker)
        .iter()
        .map(|n| n.model.clone())
        .collect();
    models.sort();
    models.dedup();
    models.join(";")
}

/// What a system under test did in one turn, whichever it was.
struct Built {
    /// Its own claim: the agent's outcome, or the pipeline's verdict.
    claimed: String,
    /// A one-line summary.
    summary: String,
    /// The facts the swarm and cluster graders score.
    facts: RunFacts,
    wall_ms: u64,
    tokens_in: u64,
    tokens_out: u64,
    malformed_replies: u32,
    tool_errors: u32,
    context_overflows: u32,
    /// The conversation(s).
    transcript: Vec<serde_json::Value>,
    /// Timestamped events.
    events: Vec<serde_json::Value>,
    /// The fleet failed before any work: retry the turn.
    infrastructure: bool,
}

fn built_from_agent(report: &AgentReport, events: &[Stamped]) -> Built {
    Built {
        claimed: report.outcome.name().into(),
        summary: report.summary.clone(),
        facts: facts_of(report),
        wall_ms: report.wall_ms,
        tokens_in: report.tokens_in,
        tokens_out: report.tokens_out,
        malformed_replies: report.malformed_replies,
        tool_errors: report.tool_errors,
        context_overflows: report.context_overflows,
        transcript: report
            .transcript
            .iter()
            .filter_map(|m| serde_json::to_value(m).ok())
            .collect(),
        events: events
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        infrastructure: is_infrastructure(report),
    }
}

fn is_infrastructure(report: &AgentReport) -> bool {
    report.requests <= 1
        && report.actions.is_empty()
        && matches!(
            report.error_kind.as_deref(),
            Some("connection_refused" | "connect_timeout" | "first_byte_timeout")
        )
}

async fn run_replicate(
    shared: &Shared,
    task: &Task,
    replicate: u32,
    builder: &Builder,
) -> Result<(), String> {
    let mode = builder
        .node
        .action_mode
        .resolve(Some(&builder.probe), Some(&builder.node.model));
    let template = row_template(shared, task, replicate, builder, mode);
    let key = replicate_key(&template);
    let base = shared
        .results_dir
        .join("runs")
        .join(&shared.run_id)
        .join(&task.suite)
        .join(&task.id)
        .join(format!("r{replicate}"));
    let project = base.join("project");
    std::fs::create_dir_all(&project)
        .map_err(|err| format!("cannot create {}: {err}", project.display()))?;
    let mut previous_snapshot: Option<PathBuf> = task.start.clone();
    let mut seen: Vec<crate::user_sim::SeenTurn> = Vec::new();
    for turn in &task.turns {
        let number = turn.number as u32;
        if let Some(row) = shared.done.get(&(key.clone(), number)) {
            (shared.on_event)(&RunEvent::TurnSkipped {
                task: task.id.clone(),
                replicate,
                turn: number,
            });
            if let Ok(mut summary) = shared.summary.lock() {
                summary.skipped += 1;
            }
            // The snapshot of the turn that row graded sits beside its transcript.
            previous_snapshot = Path::new(&row.transcript)
                .parent()
                .map(|dir| shared.results_dir.join(dir).join("project"));
            continue;
        }
        let turn_dir = base.join(format!("turn{number}"));
        std::fs::create_dir_all(&turn_dir)
            .map_err(|err| format!("cannot create {}: {err}", turn_dir.display()))?;
        let (request, brain_model) = request_for(shared, task, turn, &seen).await;
        let request_record = serde_json::json!({"request": request, "simulated_by": brain_model, "scripted": turn.request});
        std::fs::write(
            turn_dir.join("request.json"),
            serde_json::to_string_pretty(&request_record).unwrap_or_default(),
        )
        .map_err(|err| format!("cannot write the request: {err}"))?;
        let mut attempt = 0;
        let built = loop {
            restore(&project, previous_snapshot.as_deref())?;
            (shared.on_event)(&RunEvent::TurnStarted {
                task: task.id.clone(),
                replicate,
                turn: number,
                node: match shared.config.sut {
                    Sut::Single => builder.node.name.clone(),
                    Sut::Swarm => "the whole fleet".into(),
                },
            });
            let built = match shared.config.sut {
                Sut::Single => {
                    let (report, events) =
                        build_turn(shared, builder, mode, &project, (turn.number, &request))
                            .await?;
                    built_from_agent(&report, &events)
                }
                Sut::Swarm => {
                    build_turn_swarm(shared, task, &project, &turn_dir, (turn.number, &request))
                        .await?
                }
            };
            if built.infrastructure && attempt < INFRA_RETRIES {
                attempt += 1;
                (shared.on_event)(&RunEvent::Retrying {
                    task: task.id.clone(),
                    turn: number,
                    reason: built.summary.clone(),
                });
                continue;
            }
            if built.infrastructure {
                return Err(format!(
                    "turn {number}: the fleet failed {} times: {}",
                    attempt + 1,
                    built.summary
                ));
            }
            break built;
        };
        let snapshot = turn_dir.join("project");
        graders::fsutil::copy_tree(&project, &snapshot)
            .map_err(|err| format!("cannot snapshot the project: {err}"))?;
        write_jsonl(&turn_dir.join("transcript.jsonl"), &built.transcript)
            .map_err(|err| format!("cannot write the transcript: {err}"))?;
        write_jsonl(&turn_dir.join("events.jsonl"), &built.events)
            .map_err(|err| format!("cannot write the events: {err}"))?;
        let mut row = grade_turn(
            shared,
            &template,
            (task, turn),
            builder,
            &project,
            &built,
            &turn_dir,
        )
        .await?;
        row.brain_model = brain_model.unwrap_or_default();
        seen.push(crate::user_sim::SeenTurn {
            request: request.clone(),
            claimed: row.claimed_verdict.clone(),
            summary: built.summary.clone(),
            files: crate::demo::files_of(&project)
                .into_iter()
                .map(|(path, _)| path)
                .collect(),
        });
        shared.store.append(&row).map_err(|err| err.to_string())?;
        (shared.on_event)(&RunEvent::TurnGraded {
            task: task.id.clone(),
            replicate,
            turn: number,
            hidden: row.hidden_verdict.clone(),
            claimed: row.claimed_verdict.clone(),
            checks: row.checks,
            overall: row.overall,
        });
        if let Ok(mut summary) = shared.summary.lock() {
            summary.rows.push(row);
        }
        previous_snapshot = Some(snapshot);
    }
    Ok(())
}

/// Makes `project` hold exactly `snapshot` (or nothing).
fn restore(project: &Path, snapshot: Option<&Path>) -> Result<(), String> {
    if project.exists() {
        std::fs::remove_dir_all(project)
            .map_err(|err| format!("cannot reset {}: {err}", project.display()))?;
    }
    std::fs::create_dir_all(project)
        .map_err(|err| format!("cannot create {}: {err}", project.display()))?;
    if let Some(snapshot) = snapshot {
        graders::fsutil::copy_tree(snapshot, project)
            .map_err(|err| format!("cannot restore {}: {err}", snapshot.display()))?;
    }
    Ok(())
}

/// A timestamped agent event, as kept in events.jsonl.
#[derive(Debug, Clone, Serialize)]
struct Stamped {
    unix_ms: u64,
    #[serde(flatten)]
    event: AgentEvent,
}

/// The request of a turn: the spec on turn 1; later, the brain's rewording of the scripted
/// request when `--simulate-user` is on and it kept every concrete requirement, else the
/// scripted request. Returns the brain's model when its request was used.
async fn request_for(
    shared: &Shared,
    task: &Task,
    turn: &Turn,
    seen: &[crate::user_sim::SeenTurn],
) -> (String, Option<String>) {
    let Some(brain) = shared.brain.as_ref().filter(|_| turn.number > 1) else {
        return (turn.request.clone(), None);
    };
    match crate::user_sim::next_request(brain, &task.persona, seen, &turn.request).await {
        Ok(request) => (request, Some(brain.model.clone())),
        Err(reason) => {
            (shared.on_event)(&RunEvent::UserFallback {
                task: task.id.clone(),
                turn: turn.number as u32,
                reason,
            });
            (turn.request.clone(), None)
        }
    }
}

/// The first reachable brain node.
/// The first reachable node with the brain role.
pub async fn probe_brain(fleet: &Fleet) -> Result<crate::user_sim::Brain, RunError> {
    for node in fleet.with_role(Role::Brain) {
        if let Some((_, client)) = connect(node).await {
            return Ok(crate::user_sim::Brain {
                model: node.model.clone(),
                client,
            });
        }
    }
    Err(RunError::Fleet(
        "--simulate-user needs a reachable node with the brain role in the fleet".into(),
    ))
}

async fn build_turn(
    shared: &Shared,
    builder: &Builder,
    mode: ActionMode,
    project: &Path,
    (number, given): (usize, &str),
) -> Result<(AgentReport, Vec<Stamped>), String> {
    let mut client_config = ClientConfig::new(builder.probe.url.clone());
    client_config.api_key = builder.node.api_key();
    let client = LlmClient::new(client_config).map_err(|err| err.to_string())?;
    let workspace = Workspace::new(project)
        .map_err(|err| format!("cannot use {}: {err}", project.display()))?;
    let mut config = AgentConfig::new(builder.node.model.clone(), mode);
    config.max_actions = shared.config.max_actions;
    config.context_length = builder
        .probe
        .model(Some(&builder.node.model))
        .and_then(|m| m.context_length);
    let request = if number == 1 {
        given.to_string()
    } else {
        format!("The project in this directory is what was built so far. Next request:\n\n{given}")
    };
    let collected: Arc<Mutex<Vec<Stamped>>> = Arc::new(Mutex::new(Vec::new()));
    let sink_target = collected.clone();
    let sink: EventSink = Arc::new(move |event: &AgentEvent| {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if let Ok(mut events) = sink_target.lock() {
            events.push(Stamped {
                unix_ms,
                event: event.clone(),
            });
        }
    });
    let report = run_agent(&client, &workspace, &config, &request, &sink).await;
    let events = collected.lock().map(|e| e.clone()).unwrap_or_default();
    Ok((report, events))
}

async fn grade_turn(
    shared: &Shared,
    template: &ResultRow,
    (task, turn): (&Task, &Turn),
    builder: &Builder,
    project: &Path,
    built: &Built,
    turn_dir: &Path,
) -> Result<ResultRow, String> {
    let outcomes = run_checks(project, turn.check_set(), Sandbox::detect())
        .await
        .map_err(|err| err.to_string())?;
    let verdict = hidden_verdict(&outcomes);
    let facts = built.facts.clone();
    let (diagnostics, _) = diagnostics_score(project, &entry_points(turn));
    let mut scores: Vec<DimensionScore> = vec![
        checks_score(&outcomes),
        swarm_score(&facts, verdict),
        cluster_score(&facts),
        diagnostics,
    ];
    let panel = choose_panel(&shared.judges, &builder.node.name, &builder.node.model);
    let judged = if panel.is_empty() {
        let why = "the fleet has no reachable judge node";
        scores.extend(
            graders::judge::JUDGED
                .iter()
                .map(|name| DimensionScore::missing(name, why)),
        );
        None
    } else {
        let brief = JudgeBrief {
            spec: &task.spec,
            request: &turn.request,
            hidden_requirements: &task.hidden_requirements,
        };
        let result = judge_turn(&panel, &brief, project, shared.config.judge_samples).await;
        scores.extend(result.scores.iter().cloned());
        Some(result)
    };
    let score = |name: &str| {
        scores
            .iter()
            .find(|s| s.dimension == name)
            .and_then(|s| s.score)
    };
    let relative = |path: PathBuf| {
        path.strip_prefix(&shared.results_dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.to_string_lossy().into_owned())
    };
    std::fs::write(
        turn_dir.join("grades.json"),
        serde_json::to_string_pretty(
            &serde_json::json!({"scores": scores, "checks": outcomes, "judge": judged}),
        )
        .unwrap_or_default(),
    )
    .map_err(|err| format!("cannot write grades: {err}"))?;
    Ok(ResultRow {
        timestamp: now_rfc3339(),
        turn: turn.number as u32,
        checks: score("checks"),
        swarm: score("swarm"),
        cluster: score("cluster"),
        diagnostics: score("diagnostics"),
        requirements: score("requirements"),
        code_quality: score("code_quality"),
        bugs: score("bugs"),
        judge_model: judged
            .as_ref()
            .map(|j| j.models.join(";"))
            .unwrap_or_default(),
        overall: overall(&scores),
        hidden_verdict: verdict.to_string(),
        claimed_verdict: built.claimed.clone(),
        wall_seconds: built.wall_ms as f64 / 1000.0,
        tokens_in: built.tokens_in,
        tokens_out: built.tokens_out,
        malformed_replies: built.malformed_replies,
        tool_errors: built.tool_errors,
        context_overflows: built.context_overflows,
        occupancy: facts.occupancy,
        stalls: facts.stalls,
        errors: facts.server_errors,
        transcript: relative(turn_dir.join("transcript.jsonl")),
        events: relative(turn_dir.join("events.jsonl")),
        ..template.clone()
    })
}

/// The run's own facts, from the agent's report.
fn facts_of(report: &AgentReport) -> RunFacts {
    let kind = report.error_kind.as_deref();
    RunFacts {
        claimed_done: report.outcome == Outcome::Done,
        tasks_finished: u32::from(report.outcome == Outcome::Done),
        tasks_failed: u32::from(report.outcome != Outcome::Done),
        judge_interventions: 0,
        fix_rounds: 0,
        requests: report.requests,
        malformed_replies: report.malformed_replies,
        server_errors: report.server_retries
            + u32::from(matches!(
                kind,
                Some("server_error" | "dropped" | "connection_refused")
            )),
        stalls: u32::from(matches!(
            kind,
            Some("stalled" | "first_byte_timeout" | "connect_timeout")
        )),
        context_overflows: report.context_overflows,
        reroutes: 0,
        occupancy: (report.wall_ms > 0)
            .then(|| (report.model_ms as f64 / report.wall_ms as f64).min(1.0)),
    }
}

/// The spec the pipeline builds a turn from: the task's spec on the first turn; later, the
/// request, planned against the code that is there (the pipeline sees the existing files),
/// with the original spec for context but not its acceptance commands (they may no longer
/// hold), so the planner derives new ones.
fn turn_spec(task: &Task, number: usize, request: &str) -> String {
    if number == 1 {
        return request.to_string();
    }
    let context = task
        .spec
        .split("\n## Acceptance")
        .next()
        .unwrap_or("")
        .trim();
    let context = context.trim_start_matches("# ").replace("\n# ", "\n### ");
    format!(
        "# {} — turn {number}\n\n{request}\n\n## What the app is (it exists; change it as the request says)\n\n{context}\n",
        task.id
    )
}

fn pipeline_error(why: String) -> Built {
    Built {
        claimed: "error".into(),
        summary: why,
        facts: RunFacts::default(),
        wall_ms: 0,
        tokens_in: 0,
        tokens_out: 0,
        malformed_replies: 0,
        tool_errors: 0,
        context_overflows: 0,
        transcript: Vec::new(),
        events: Vec::new(),
        infrastructure: true,
    }
}

/// One turn by the whole pipeline on the fleet, in `project`.
async fn build_turn_swarm(
    shared: &Shared,
    task: &Task,
    project: &Path,
    turn_dir: &Path,
    (number, given): (usize, &str),
) -> Result<Built, String> {
    let text = turn_spec(task, number, given);
    let spec = swarm::spec::parse_spec(&text, &format!("{}/turn{number}", task.id), true)
        .map_err(|err| err.to_string())?;
    let options = swarm::pipeline::RunOptions {
        spec,
        fleet: shared.config.fleet.clone(),
        knobs: shared.config.knobs.clone(),
        out: project.to_path_buf(),
        derive_acceptance: true,
    };
    let outcome = match swarm::pipeline::run(options, Arc::new(|_| {})).await {
        Ok(outcome) => outcome,
        Err(swarm::pipeline::PipelineError::Config(why)) => return Ok(pipeline_error(why)),
        Err(err) => return Err(format!("turn {number}: the pipeline could not run: {err}")),
    };
    // Keep the run (events, plan, contracts, transcripts, verdict) beside the turn.
    let kept = turn_dir.join("swarm-run");
    graders::fsutil::copy_tree(&outcome.run_dir, &kept)
        .map_err(|err| format!("cannot keep the swarm run: {err}"))?;
    let events: Vec<serde_json::Value> =
        swarm::pipeline::read_log(&outcome.run_dir.join("events.jsonl"))
            .unwrap_or_default()
            .iter()
            .filter_map(|record| serde_json::to_value(record).ok())
            .collect();
    let mut transcript = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(outcome.run_dir.join("transcripts"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        for line in std::fs::read_to_string(&file).unwrap_or_default().lines() {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
                transcript.push(value);
            }
        }
    }
    let stats = &outcome.stats;
    let slots = f64::from(stats.worker_slots.max(1));
    let facts = RunFacts {
        claimed_done: outcome.verdict == swarm::verify::Verdict::Pass,
        tasks_finished: stats.tasks_merged as u32,
        tasks_failed: stats.tasks_total.saturating_sub(stats.tasks_merged) as u32,
        judge_interventions: stats.judge_interventions as u32,
        fix_rounds: stats.fix_rounds,
        requests: stats.requests as u32,
        malformed_replies: stats.malformed_replies as u32,
        server_errors: stats.server_errors as u32,
        stalls: stats.stalls as u32,
        context_overflows: stats.context_overflows as u32,
        reroutes: stats.rerouted as u32,
        occupancy: (outcome.wall_ms > 0)
            .then(|| (stats.model_ms as f64 / (outcome.wall_ms as f64 * slots)).min(1.0)),
    };
    Ok(Built {
        claimed: outcome.verdict.to_string(),
        summary: outcome.reason.clone(),
        facts,
        wall_ms: outcome.wall_ms,
        tokens_in: stats.tokens_in,
        tokens_out: stats.tokens_out,
        malformed_replies: stats.malformed_replies as u32,
        tool_errors: stats.tool_errors as u32,
        context_overflows: stats.context_overflows as u32,
        transcript,
        events,
        infrastructure: false,
    })
}
