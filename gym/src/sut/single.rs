//! The `single` system under test: one agent on one worker node, with the swarm's own knobs
//! for a build task (`build.max_actions`), its client and context window from the connected
//! fleet. Later turns are told the directory holds what was built so far.

use super::{Lane, Sut, SutError, SystemUnderTest, TurnRequest, Users};
use futures::future::BoxFuture;
use graders::{BuiltBy, Claim, RunFacts, TurnOutcome};
use std::sync::{Arc, Mutex};
use swarm::knobs::BUILD_MAX_ACTIONS;
use swarm::{run_agent, AgentConfig, AgentEvent, AgentReport, EventSink, Knobs, LiveNode};
use swarm::{Event, Outcome, Record, Workspace};

/// One agent per turn, on the lane's worker.
pub struct Single {
    /// Reachable workers; replicates are spread over them round-robin.
    workers: Vec<Arc<LiveNode>>,
    /// The run's knobs (the action budget).
    knobs: Knobs,
}

impl Single {
    /// The single agent over `workers` (at least one).
    pub fn new(workers: Vec<Arc<LiveNode>>, knobs: Knobs) -> Self {
        Single { workers, knobs }
    }

    fn worker(&self, lane: usize) -> Result<&LiveNode, SutError> {
        match self.workers.len() {
            0 => Err(SutError("the fleet has no reachable worker".into())),
            count => Ok(&self.workers[lane % count]),
        }
    }
}

impl SystemUnderTest for Single {
    fn kind(&self) -> Sut {
        Sut::Single
    }

    fn lane(&self, lane: usize, users: Users) -> Lane {
        let Ok(worker) = self.worker(lane) else {
            return Lane {
                label: String::new(),
                builder_model: String::new(),
                built_by: BuiltBy::default(),
                knobs: serde_json::Value::Null,
                sampling: "{}".into(),
            };
        };
        let sampling = super::sampling_column(std::iter::once(&worker.node));
        Lane {
            label: worker.node.name.clone(),
            builder_model: worker.node.model.clone(),
            built_by: BuiltBy {
                node: worker.node.name.clone(),
                model: worker.node.model.clone(),
            },
            knobs: super::with_sampling(
                serde_json::json!({
                    "max_actions": self.knobs.get(BUILD_MAX_ACTIONS),
                    "action_mode": worker.mode.to_string(),
                    "sut": Sut::Single.to_string(),
                    "simulate_user": users == Users::Simulated,
                }),
                &sampling,
            ),
            sampling,
        }
    }

    fn build<'a>(&'a self, turn: TurnRequest<'a>) -> BoxFuture<'a, Result<TurnOutcome, SutError>> {
        Box::pin(async move {
            let worker = self.worker(turn.lane)?;
            let workspace = Workspace::new(turn.project)
                .map_err(|err| SutError(format!("cannot use {}: {err}", turn.project.display())))?;
            let mut config = AgentConfig::new(worker.node.model.clone(), worker.mode);
            config.max_actions = self.knobs.get(BUILD_MAX_ACTIONS);
            config.context_length = worker.context_length;
            let request = if turn.number == 1 {
                turn.request.to_string()
            } else {
                format!(
                    "The project in this directory is what was built so far. Next request:\n\n{}",
                    turn.request
                )
            };
            // The agent's events, in the pipeline's record format (one format for every
            // events.jsonl), kept and relayed live.
            let collected: Arc<Mutex<Vec<Record>>> = Arc::new(Mutex::new(Vec::new()));
            let (target, watch, node) = (
                collected.clone(),
                turn.watch.clone(),
                worker.node.name.clone(),
            );
            let sink: EventSink = Arc::new(move |event: &AgentEvent| {
                let record = Record {
                    t: swarm::unix_ms(),
                    event: Event::Agent {
                        task: "turn".into(),
                        node: node.clone(),
                        agent: event.clone(),
                    },
                };
                watch(&record);
                if let Ok(mut events) = target.lock() {
                    events.push(record);
                }
            });
            let report = run_agent(&worker.client, &workspace, &config, &request, &sink).await;
            let events = collected.lock().map(|e| e.clone()).unwrap_or_default();
            let mut outcome = outcome_of(&report, &events);
            outcome.project = turn.project.to_path_buf();
            outcome.built_by = BuiltBy {
                node: worker.node.name.clone(),
                model: worker.node.model.clone(),
            };
            Ok(outcome)
        })
    }
}

fn outcome_of(report: &AgentReport, events: &[Record]) -> TurnOutcome {
    TurnOutcome {
        claim: Some(Claim::Agent(report.outcome)),
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
        infrastructure: report.requests <= 1
            && report.actions.is_empty()
            && report.error_kind.is_some_and(|kind| kind.before_any_work()),
        ..TurnOutcome::default()
    }
}

/// The run's own facts, from the agent's report.
fn facts_of(report: &AgentReport) -> RunFacts {
    let kind = report.error_kind;
    RunFacts {
        claimed_done: report.outcome == Outcome::Done,
        tasks_finished: u32::from(report.outcome == Outcome::Done),
        tasks_failed: u32::from(report.outcome != Outcome::Done),
        judge_interventions: 0,
        fix_rounds: 0,
        requests: report.requests,
        malformed_replies: report.malformed_replies,
        server_errors: report.server_retries + u32::from(kind.is_some_and(|k| k.is_server_error())),
        stalls: u32::from(kind.is_some_and(|k| k.is_stall())),
        context_overflows: report.context_overflows,
        reroutes: 0,
        occupancy: (report.wall_ms > 0)
            .then(|| (report.model_ms as f64 / report.wall_ms as f64).min(1.0)),
    }
}
