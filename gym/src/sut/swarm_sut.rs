//! The `swarm` system under test: the whole pipeline on the whole fleet, through the swarm's
//! door ([`swarm::run`]). Its event stream is taken live (each record exactly as the run's
//! events.jsonl holds it); its run directory (plan, contracts, transcripts, verdict) is kept
//! beside the turn.

use super::{Lane, Sut, SutError, SystemUnderTest, TurnRequest, Users};
use crate::task::Task;
use futures::future::BoxFuture;
use graders::{BuiltBy, Claim, RunFacts, TurnOutcome};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use swarm::{Fleet, Knobs, LiveNode, PipelineError, Record, Role, RunOptions, RunOutcome};

/// The pipeline, one run per turn.
pub struct Swarm {
    /// Reachable workers (only to name a builder the judge panel avoids, per lane).
    workers: Vec<Arc<LiveNode>>,
    /// The fleet the pipeline connects itself.
    fleet: Fleet,
    /// The pipeline's knobs.
    knobs: Knobs,
}

impl Swarm {
    /// The pipeline over `fleet` with `knobs`.
    pub fn new(workers: Vec<Arc<LiveNode>>, fleet: Fleet, knobs: Knobs) -> Self {
        Swarm {
            workers,
            fleet,
            knobs,
        }
    }

    /// The worker a lane names for the judge panel to avoid.
    fn lane_worker(&self, lane: usize) -> BuiltBy {
        match self.workers.len() {
            0 => BuiltBy::default(),
            count => BuiltBy {
                node: self.workers[lane % count].node.name.clone(),
                model: self.workers[lane % count].node.model.clone(),
            },
        }
    }
}

impl SystemUnderTest for Swarm {
    fn kind(&self) -> Sut {
        Sut::Swarm
    }

    fn lane(&self, lane: usize, users: Users) -> Lane {
        let builders = [Role::Planner, Role::Worker, Role::Scout];
        let sampling = super::sampling_column(
            self.fleet
                .nodes
                .iter()
                .filter(|n| builders.iter().any(|r| n.has_role(*r))),
        );
        Lane {
            label: "the whole fleet".into(),
            builder_model: worker_models(&self.fleet),
            built_by: self.lane_worker(lane),
            // The knobs that differ from their defaults (every other knob is at its registry
            // default, so equal JSON means equal settings).
            knobs: super::with_sampling(
                serde_json::json!({
                    "sut": Sut::Swarm.to_string(),
                    "simulate_user": users == Users::Simulated,
                    "knobs": self.knobs.changed(),
                }),
                &sampling,
            ),
            sampling,
        }
    }

    fn build<'a>(&'a self, turn: TurnRequest<'a>) -> BoxFuture<'a, Result<TurnOutcome, SutError>> {
        Box::pin(async move {
            let text = turn_spec(turn.task, turn.number, turn.request);
            let name = format!("{}/turn{}", turn.task.id, turn.number);
            let spec =
                swarm::parse_spec(&text, &name, true).map_err(|e| SutError(e.to_string()))?;
            let options = RunOptions {
                spec,
                fleet: self.fleet.clone(),
                knobs: self.knobs.clone(),
                out: turn.project.to_path_buf(),
                derive_acceptance: true,
            };
            let records: Arc<Mutex<Vec<Record>>> = Arc::new(Mutex::new(Vec::new()));
            let (target, watch) = (records.clone(), turn.watch.clone());
            let sink = Arc::new(move |record: &Record| {
                watch(record);
                if let Ok(mut records) = target.lock() {
                    records.push(record.clone());
                }
            });
            let mut outcome = match swarm::run(options, sink).await {
                Ok(run) => {
                    keep_run(&run, turn.turn_dir)?;
                    let records = records.lock().map(|r| r.clone()).unwrap_or_default();
                    outcome_of(&run, &records)
                }
                Err(PipelineError::Config(why)) => TurnOutcome {
                    claim: Some(Claim::Error),
                    summary: why,
                    infrastructure: true,
                    ..TurnOutcome::default()
                },
                Err(err) => {
                    return Err(SutError(format!(
                        "turn {}: the pipeline could not run: {err}",
                        turn.number
                    )))
                }
            };
            outcome.project = turn.project.to_path_buf();
            outcome.built_by = self.lane_worker(turn.lane);
            Ok(outcome)
        })
    }
}

/// Keeps the run (events, plan, contracts, transcripts, verdict) beside the turn.
fn keep_run(run: &RunOutcome, turn_dir: &std::path::Path) -> Result<(), SutError> {
    graders::fsutil::copy_tree(&run.run_dir, &turn_dir.join("swarm-run"))
        .map(|_| ())
        .map_err(|err| SutError(format!("cannot keep the swarm run: {err}")))
}

/// The workers' transcripts, file by file in name order, one message per value.
fn transcripts(run: &RunOutcome) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(run.run_dir.join("transcripts"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .unwrap_or_default()
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn outcome_of(run: &RunOutcome, records: &[Record]) -> TurnOutcome {
    let stats = &run.stats;
    let slots = f64::from(stats.worker_slots.max(1));
    let facts = RunFacts {
        claimed_done: run.verdict == swarm::Verdict::Pass,
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
        occupancy: (run.wall_ms > 0)
            .then(|| (stats.model_ms as f64 / (run.wall_ms as f64 * slots)).min(1.0)),
    };
    TurnOutcome {
        claim: Some(Claim::Swarm(run.verdict)),
        summary: run.reason.clone(),
        facts,
        wall_ms: run.wall_ms,
        tokens_in: stats.tokens_in,
        tokens_out: stats.tokens_out,
        malformed_replies: stats.malformed_replies as u32,
        tool_errors: stats.tool_errors as u32,
        context_overflows: stats.context_overflows as u32,
        transcript: transcripts(run),
        build_occupancy: run.schedule.build_occupancy,
        makespan_over_bound: run.schedule.makespan_over_bound(),
        events: records
            .iter()
            .filter_map(|record| serde_json::to_value(record).ok())
            .collect(),
        ..TurnOutcome::default()
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
