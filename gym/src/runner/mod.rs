//! The runner: schedules every turn of every task replicate of a suite on a system under test
//! ([`crate::sut`]), has each graded ([`graders::grade`]) and appends one row per graded
//! turn. It builds nothing and grades nothing itself.
//!
//! Flow of one task replicate: copy the task's starting project (if any) into a fresh project
//! directory → for each turn: give the request (turn 1: the spec; later: the task's scripted
//! turns, or the brain playing the user) to the system under test → keep its transcript and
//! events as JSONL and snapshot the project → grade the snapshot while the next turn builds
//! (the next request needs what the builder claimed, never the grades) → append the row.
//! Rows of one replicate are appended in turn order.
//!
//! Failures of the infrastructure (a node that refuses connections, a timeout before any
//! token) are retried from the previous turn's snapshot; failures of the model are results.
//! `--resume` skips turns whose rows exist and continues a conversation from the snapshot of
//! its last graded turn.

mod events;
pub mod live;
mod open;
mod rows;
mod turn;

pub use events::{occupancy, occupancy_line, RunEvent, RunSummary, UserTally};
pub use rows::entry_points;

use crate::results::{harness_commit, replicate_key, ResultRow, ResultsError, ResultsStore};
use crate::sut::{connect_fleet, connect_sut, Sut, SutError, SystemUnderTest, TurnRequest, Users};
use crate::task::{Task, Turn};
use crate::user_sim::{Brain, SeenTurn};
use graders::{Judging, TurnOutcome};
use rows::{RowContext, TurnFiles};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use swarm::{Fleet, Knobs};
use turn::{build_turn, grading_cost, Built, Grader};

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
    /// Samples per judge node per turn.
    pub judge_samples: u32,
    /// The first replicate number (replicates run from here, `replicates` of them).
    pub first_replicate: u32,
    /// `AB_ID:ARM` for an arm of an A/B comparison; empty otherwise.
    pub experiment: String,
    /// Later turns' requests come from the brain playing the user (else the scripted ones),
    /// and after the task's turns the brain's own open turns follow until it stops or
    /// `max_turns` ([`crate::session`]).
    pub simulate_user: bool,
    /// A simulated session's turn cap, the task's turns included.
    pub max_turns: usize,
    /// Mixed with each task and replicate to draw a simulated session's persona (recorded in
    /// `request.json`; the same seed draws the same personas).
    pub user_seed: u64,
    /// The knobs of every system under test (the swarm's pipeline; the single agent's
    /// `build.max_actions`) and of the fleet's clients (`node.*`).
    pub knobs: Knobs,
    /// How test_depth is measured (mutants per turn, seed).
    pub test_depth: graders::TestDepthOptions,
}

impl RunConfig {
    /// A run of `tasks` by `sut` on `fleet`, appending to `results`, with the defaults the
    /// commands share: one replicate, one at a time, no resume, 3 judge samples, replicates
    /// from 1, no experiment, scripted users, default knobs, 20 mutants for test_depth. Callers override fields with
    /// struct update syntax.
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
            judge_samples: 3,
            first_replicate: 1,
            experiment: String::new(),
            simulate_user: false,
            max_turns: crate::session::DEFAULT_MAX_TURNS,
            user_seed: 0,
            knobs: Knobs::default(),
            test_depth: graders::TestDepthOptions::default(),
        }
    }

    fn users(&self) -> Users {
        if self.simulate_user {
            Users::Simulated
        } else {
            Users::Scripted
        }
    }
}

/// Why a run could not start, or a task replicate could not go on.
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
    /// The system under test could not run a turn.
    #[error(transparent)]
    Sut(#[from] SutError),
    /// The hidden checks could not be run.
    #[error(transparent)]
    Grading(#[from] graders::checks::CheckError),
}

/// An I/O error as a [`RunError::Io`] that says what was being done.
fn io_error(what: String) -> impl FnOnce(std::io::Error) -> RunError {
    move |err| RunError::Io(format!("{what}: {err}"))
}

/// Times an infrastructure failure is retried.
const INFRA_RETRIES: u32 = 2;

/// Runs the suite.
pub async fn run_suite(
    config: RunConfig,
    on_event: Arc<dyn Fn(&RunEvent) + Send + Sync>,
) -> Result<RunSummary, RunError> {
    let store = ResultsStore::open(&config.results)?;
    let done = if config.resume {
        resumable_rows(&store, on_event.as_ref())?
    } else {
        BTreeMap::new()
    };
    // A fleet the swarm cannot use is refused once, before any task: retrying each turn
    // would fail the same way every time.
    if config.sut == Sut::Swarm {
        if let Some(why) = swarm::missing_role(&config.fleet) {
            return Err(RunError::Fleet(why));
        }
    }
    let connected = connect_fleet(&config.fleet, &config.knobs)
        .await
        .map_err(RunError::Fleet)?;
    let brain = match (config.simulate_user, connected.brain) {
        (false, _) => None,
        (true, Some(brain)) => Some(brain),
        (true, None) => {
            return Err(RunError::Fleet(
                "--simulate-user needs a reachable node with the brain role in the fleet".into(),
            ))
        }
    };
    let lanes = connected.workers.len();
    let sut = connect_sut(config.sut, &config.fleet, &config.knobs, connected.workers);
    let run_id = swarm::new_run_id();
    let results_dir = config
        .results
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let live = live::LiveLog::create(
        &results_dir.join("runs").join(&run_id),
        live_header(&config, &run_id),
    );
    let on_event: Arc<dyn Fn(&RunEvent) + Send + Sync> = {
        let live = live.clone();
        Arc::new(move |event: &RunEvent| {
            live.event(event);
            on_event(event);
        })
    };
    let shared = Arc::new(Shared {
        results_dir,
        commit: harness_commit(Path::new(".")),
        judging: Judging {
            judges: connected.judges,
            samples: config.judge_samples,
            test_depth: config.test_depth,
        },
        config,
        store,
        done,
        run_id: run_id.clone(),
        on_event,
        summary: Mutex::new(RunSummary {
            run_id,
            ..RunSummary::default()
        }),
        brain,
        personas: crate::session::personas::pool(),
        sut,
        clock: Instant::now(),
        builds: Mutex::new(Vec::new()),
        gradings: Mutex::new(Vec::new()),
    });
    schedule(&shared, lanes).await;
    let mut summary = shared.summary.lock().map(|s| s.clone()).unwrap_or_default();
    let builds = shared.builds.lock().map(|b| b.clone()).unwrap_or_default();
    let gradings = shared
        .gradings
        .lock()
        .map(|g| g.clone())
        .unwrap_or_default();
    (summary.grading_seconds, summary.grading_alone_seconds) = grading_cost(&builds, &gradings);
    summary.wall_seconds = shared.clock.elapsed().as_secs_f64();
    live.finished(summary.rows.len());
    summary.slots = worker_slots(&shared.config.fleet);
    let used = if shared.config.sut == Sut::Swarm {
        f64::from(summary.slots.max(1))
    } else {
        1.0
    };
    summary.busy_seconds = summary
        .rows
        .iter()
        .map(|row| row.occupancy.unwrap_or(0.0) * row.wall_seconds * used)
        .sum();
    Ok(summary)
}

/// The live log's first line: what the run is and how many turns it will build.
fn live_header(config: &RunConfig, run_id: &str) -> serde_json::Value {
    let turns: usize = config
        .tasks
        .iter()
        .map(|task| task.turns.len() * config.replicates as usize)
        .sum();
    let suites: std::collections::BTreeSet<&str> =
        config.tasks.iter().map(|t| t.suite.as_str()).collect();
    serde_json::json!({
        "event": "run_started",
        "run_id": run_id,
        "suite": suites.into_iter().collect::<Vec<_>>().join(","),
        "sut": config.sut.to_string(),
        "experiment": config.experiment,
        "results": config.results.display().to_string(),
        "turns": turns,
        "concurrency": config.concurrency,
        "estimated_seconds": estimated_seconds(config),
    })
}

/// The run's wall time as earlier rows of the same tasks and turns in its results file say
/// (the mean wall of each turn, summed, times the replicates, over the replicates that run at
/// once), or None when some turn has no earlier row: the live board's ETA before the first
/// turn is graded.
fn estimated_seconds(config: &RunConfig) -> Option<f64> {
    let rows = crate::read_rows(&config.results).ok()?.0;
    let estimate = crate::study::estimate_cost(&rows, &config.tasks);
    if !estimate.without_history.is_empty() || estimate.from_rows == 0 {
        return None;
    }
    let replicates = config.tasks.len() * config.replicates as usize;
    let at_once = config.concurrency.clamp(1, replicates.max(1));
    Some(estimate.wall_seconds * config.replicates as f64 / at_once as f64)
}

/// Worker slots of a fleet.
pub(crate) fn worker_slots(fleet: &swarm::Fleet) -> u32 {
    fleet
        .nodes
        .iter()
        .filter(|n| n.has_role(swarm::Role::Worker))
        .map(|n| n.slots.max(1))
        .sum()
}

/// Runs every task replicate, `concurrency` at a time, spread over the lanes round-robin;
/// a replicate that cannot go on is said as [`RunEvent::Abandoned`] and counted.
async fn schedule(shared: &Arc<Shared>, lanes: usize) {
    let config = &shared.config;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
    let mut handles = Vec::new();
    let first = config.first_replicate.max(1);
    let replicates = config
        .tasks
        .iter()
        .flat_map(|task| (first..first + config.replicates).map(move |r| (task.clone(), r)));
    for (slot, (task, replicate)) in replicates.enumerate() {
        let (shared, semaphore) = (shared.clone(), semaphore.clone());
        handles.push(tokio::spawn(async move {
            let Ok(permit) = semaphore.acquire_owned().await else {
                return;
            };
            let lane = slot % lanes.max(1);
            if let Err(err) = run_replicate(&shared, &task, replicate, lane, permit).await {
                let reason = err.to_string();
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
    for handle in handles {
        let _ = handle.await;
    }
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

/// What every replicate of a run shares.
struct Shared {
    config: RunConfig,
    store: ResultsStore,
    done: BTreeMap<(String, u32), ResultRow>,
    results_dir: PathBuf,
    run_id: String,
    commit: String,
    on_event: Arc<dyn Fn(&RunEvent) + Send + Sync>,
    summary: Mutex<RunSummary>,
    judging: Judging,
    brain: Option<Brain>,
    /// The simulated user's personas (`tasks/personas.yaml`).
    personas: Vec<crate::session::Persona>,
    sut: Arc<dyn SystemUnderTest>,
    /// The run's start, for the intervals below.
    clock: Instant,
    /// When each turn built (an open turn from the simulated user's look at the last one)
    /// and when each was graded (seconds since `clock`).
    builds: Mutex<Vec<(f64, f64)>>,
    gradings: Mutex<Vec<(f64, f64)>>,
}

impl Shared {
    fn emit(&self, event: RunEvent) {
        (self.on_event)(&event);
    }

    /// Records an interval from `start` to now.
    fn note_interval(&self, into: &Mutex<Vec<(f64, f64)>>, start: f64) {
        let end = self.clock.elapsed().as_secs_f64();
        if let Ok(mut intervals) = into.lock() {
            intervals.push((start, end));
        }
    }
}

/// One task replicate's state as its turns go by.
struct Replicate<'a> {
    task: &'a Task,
    replicate: u32,
    lane: usize,
    /// Who builds in this lane, for progress.
    label: String,
    template: ResultRow,
    /// `runs/RUN/SUITE/TASK/rN`.
    base: PathBuf,
    /// Where the system under test works.
    project: PathBuf,
    /// The project as the last turn left it (or the task's start).
    previous: Option<PathBuf>,
    /// What the simulated user has seen.
    seen: Vec<SeenTurn>,
    /// Each built turn's request and what asked for it (`scripted`, or the user's move).
    history: Vec<(String, String)>,
    /// A simulated session's persona, and the seed that drew it.
    persona: Option<crate::session::Persona>,
    session_seed: u64,
}

async fn run_replicate(
    shared: &Shared,
    task: &Task,
    replicate: u32,
    lane: usize,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), RunError> {
    let config = &shared.config;
    let context = RowContext {
        run_id: &shared.run_id,
        experiment: &config.experiment,
        commit: &shared.commit,
        fleet: &config.fleet_name,
        sut: shared.sut.kind().to_string(),
    };
    let lane_settings = shared.sut.lane(lane, config.users());
    let mut template = rows::row_template(&context, task, replicate, &lane_settings);
    let session_seed =
        crate::session::personas::session_seed(config.user_seed, &task.id, replicate);
    let persona = shared.brain.as_ref().and_then(|_| {
        crate::session::personas::choose(&shared.personas, &task.persona, session_seed)
    });
    template.session = if shared.brain.is_some() {
        "simulated".into()
    } else {
        "scripted".into()
    };
    template.persona = persona.as_ref().map(|p| p.id.clone()).unwrap_or_default();
    let base = shared.results_dir.join("runs").join(&shared.run_id);
    let base = base
        .join(&task.suite)
        .join(&task.id)
        .join(format!("r{replicate}"));
    let project = base.join("project");
    std::fs::create_dir_all(&project)
        .map_err(io_error(format!("cannot create {}", project.display())))?;
    let mut state = Replicate {
        task,
        replicate,
        lane,
        label: lane_settings.label,
        template,
        base,
        project,
        previous: task.start.clone(),
        seen: Vec::new(),
        history: Vec::new(),
        persona,
        session_seed,
    };
    let key = replicate_key(&state.template);
    let grader = Grader {
        shared,
        task,
        replicate,
        template: state.template.clone(),
    };
    let mut waiting: Option<Built> = None;
    let mut last: Option<turn::Noticed> = None;
    for turn in &task.turns {
        match shared.done.get(&(key.clone(), turn.number as u32)) {
            Some(row) => {
                if let Some(built) = waiting.take() {
                    grader.grade(built).await?;
                }
                skip_turn(shared, &mut state, turn.number as u32, row);
                last = row.hidden().map(|hidden| turn::Noticed {
                    hidden,
                    crashed: false,
                });
            }
            None => {
                // The last turn is graded while this one builds.
                let previous = waiting.take();
                let grading = async {
                    match previous {
                        Some(built) => grader.grade(built).await.map(Some),
                        None => Ok(None),
                    }
                };
                let building = async {
                    let start = shared.clock.elapsed().as_secs_f64();
                    let built = build_turn(shared, &mut state, turn).await;
                    shared.note_interval(&shared.builds, start);
                    built
                };
                let (graded, built) = tokio::join!(grading, building);
                graded?;
                waiting = Some(built?);
            }
        }
    }
    if shared.brain.is_some() {
        // The simulated user reads how the last turn went (its hidden checks, while the rest
        // of its grading goes on) before choosing the next move.
        open::open_turns(shared, &mut state, &grader, last, waiting.take()).await?;
    }
    // Nothing of this replicate builds any more: the next replicate may start while its last
    // turn is graded.
    drop(permit);
    if let Some(built) = waiting.take() {
        grader.grade(built).await?;
    }
    Ok(())
}

/// `--resume`: the turn's row exists; the conversation goes on from its snapshot.
fn skip_turn(shared: &Shared, state: &mut Replicate<'_>, turn: u32, row: &ResultRow) {
    shared.emit(RunEvent::TurnSkipped {
        task: state.task.id.clone(),
        replicate: state.replicate,
        turn,
    });
    if let Ok(mut summary) = shared.summary.lock() {
        summary.skipped += 1;
    }
    // The snapshot of the turn that row graded sits beside its transcript.
    state.previous = Path::new(&row.transcript)
        .parent()
        .map(|dir| shared.results_dir.join(dir).join("project"));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::results::ResultsStore;

    #[test]
    fn the_live_header_estimates_the_wall_only_from_earlier_rows_of_every_turn() {
        let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/smoke");
        let tasks: Vec<Task> = crate::demo::load_suite(&suite)
            .unwrap()
            .into_iter()
            .filter(|t| t.id == "todo")
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results.csv");
        let fleet = swarm::Fleet { nodes: Vec::new() };
        let mut config = RunConfig::new(tasks.clone(), Sut::Single, fleet, "f", &results);
        config.replicates = 4;
        config.concurrency = 2;
        // No file, no rows: no estimate.
        assert_eq!(
            live_header(&config, "r")["estimated_seconds"],
            serde_json::Value::Null
        );
        let store = ResultsStore::open(&results).unwrap();
        let row = |turn: u32, wall: f64| crate::ResultRow {
            suite: tasks[0].suite.clone(),
            task: "todo".into(),
            turn,
            wall_seconds: wall,
            ..crate::test_support::row()
        };
        store.append(&row(1, 10.0)).unwrap();
        // Turn 2 has no history yet: still no estimate.
        assert_eq!(
            live_header(&config, "r")["estimated_seconds"],
            serde_json::Value::Null
        );
        store.append(&row(1, 20.0)).unwrap();
        store.append(&row(2, 5.0)).unwrap();
        // (mean 15 + 5) s a replicate, 4 replicates, 2 at once.
        assert_eq!(live_header(&config, "r")["estimated_seconds"], 40.0);
    }
}
