//! Systems under test. A system under test takes one turn (a request, a project directory)
//! and returns one [`TurnOutcome`]; the runner neither knows nor cares how it built.
//!
//! - [`single::Single`]: one agent on one worker node (the baseline a swarm must beat), with
//!   the same knobs as the swarm's build tasks (`build.max_actions`).
//! - [`swarm_sut::Swarm`]: the whole pipeline on the whole fleet.
//!
//! A new system under test implements [`SystemUnderTest`], gets a [`Sut`] value (the name
//! rows record) and a line in [`connect_sut`].
//!
//! The fleet is connected once per run through the swarm's own door ([`swarm::connect`], under
//! the `node.*` knobs): workers for building, judges for grading, a brain for playing the user.

pub mod single;
pub mod swarm_sut;

use crate::task::Task;
use futures::future::BoxFuture;
use graders::judge::JudgeNode;
use graders::{BuiltBy, TurnOutcome};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use swarm::{Fleet, Knobs, LiveNode, Role};

/// Which system under test a run drives (the `sut` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Sut {
    /// One agent on one node.
    Single,
    /// The whole pipeline.
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

/// Where later turns' requests come from (recorded in each row's knobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Users {
    /// The task's scripted requests.
    Scripted,
    /// The brain model playing the user.
    Simulated,
}

/// One turn, as a system under test is given it.
#[derive(Clone, Copy)]
pub struct TurnRequest<'a> {
    /// The task.
    pub task: &'a Task,
    /// 1-based turn number.
    pub number: usize,
    /// What the user asks (turn 1: the spec).
    pub request: &'a str,
    /// The project directory, holding the previous turn's result.
    pub project: &'a Path,
    /// The turn's own directory, for whatever the system keeps of its run.
    pub turn_dir: &'a Path,
    /// The replicate's lane (see [`SystemUnderTest::lane`]).
    pub lane: usize,
    /// Where the turn's events go live, each stamped as the turn's events.jsonl keeps it
    /// (the runner relays them to whoever watches the run).
    pub watch: &'a swarm::Sink,
}

/// What a lane of a system under test puts in its rows.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Who builds, for progress (`node-a`, or "the whole fleet").
    pub label: String,
    /// The `builder_model` column.
    pub builder_model: String,
    /// Whom the judge panel avoids.
    pub built_by: BuiltBy,
    /// The `knobs` column, before the sandbox note.
    pub knobs: serde_json::Value,
    /// The `sampling` column: the builders' sampling settings as JSON.
    pub sampling: String,
}

/// The `sampling` column of builder nodes: their one setting as JSON (`{}`: the servers'
/// defaults), or, when they differ, each node's by name.
pub fn sampling_column<'a>(builders: impl Iterator<Item = &'a swarm::Node>) -> String {
    let by_node: std::collections::BTreeMap<&str, &swarm::Sampling> =
        builders.map(|n| (n.name.as_str(), &n.sampling)).collect();
    let mut distinct: Vec<&swarm::Sampling> = Vec::new();
    for sampling in by_node.values() {
        if !distinct.contains(sampling) {
            distinct.push(sampling);
        }
    }
    match distinct.as_slice() {
        [] => "{}".into(),
        [one] => one.to_json(),
        _ => serde_json::to_string(&by_node).unwrap_or_else(|_| "{}".into()),
    }
}

/// Adds the sampling to a lane's knobs when it is set, so rows that differ in sampling never
/// share a knobs hash (and `--resume` never mixes them); unset, the knobs stay as they were.
pub fn with_sampling(mut knobs: serde_json::Value, sampling: &str) -> serde_json::Value {
    if sampling != "{}" {
        if let Some(object) = knobs.as_object_mut() {
            let value = serde_json::from_str(sampling).unwrap_or(serde_json::Value::Null);
            object.insert("sampling".into(), value);
        }
    }
    knobs
}

/// Why a system under test could not run a turn (the replicate is abandoned with this).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SutError(pub String);

/// A system under test.
pub trait SystemUnderTest: Send + Sync {
    /// Its name in rows.
    fn kind(&self) -> Sut;

    /// What lane `lane` records. Replicates are spread over lanes round-robin (the single
    /// agent: one lane per reachable worker; the swarm: the same, for the judge panel).
    fn lane(&self, lane: usize, users: Users) -> Lane;

    /// Builds one turn in `turn.project`.
    fn build<'a>(&'a self, turn: TurnRequest<'a>) -> BoxFuture<'a, Result<TurnOutcome, SutError>>;
}

/// The fleet, connected once for a run.
pub struct Connected {
    /// Reachable workers, in fleet order (at least one).
    pub workers: Vec<Arc<LiveNode>>,
    /// Reachable judges.
    pub judges: Vec<JudgeNode>,
    /// The first reachable brain, when the fleet has one.
    pub brain: Option<crate::user_sim::Brain>,
}

/// Refuses a fleet with a node whose server does not list the node's model: a server asked
/// for a model it does not list answers with the model it has, so an A/B would silently
/// compare a model with itself.
fn refuse_unserved_models(lines: &[swarm::ProbeLine]) -> Result<(), String> {
    let wrong: Vec<String> = lines
        .iter()
        .filter(|line| line.wrong_model.is_some())
        .map(|line| format!("node {} {}", line.node, line.detail))
        .collect();
    if wrong.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}. Fix the model id (in the fleet file or --model; an arm's model=; --a-model/--b-model) or load the model on that server",
        wrong.join("; ")
    ))
}

/// Probes `fleet` and checks that every reachable node serves its model, without keeping
/// the connections (an A/B checks both arms before either runs).
pub async fn check_models(fleet: &Fleet, knobs: &Knobs) -> Result<(), String> {
    let (_, lines) = swarm::connect(fleet, knobs).await;
    refuse_unserved_models(&lines)
}

/// Connects every node of `fleet` under `knobs`. Errors when no worker answers, or when a
/// node's server does not list the node's model.
pub async fn connect_fleet(fleet: &Fleet, knobs: &Knobs) -> Result<Connected, String> {
    let (nodes, lines) = swarm::connect(fleet, knobs).await;
    refuse_unserved_models(&lines)?;
    let mut connected = Connected {
        workers: Vec::new(),
        judges: Vec::new(),
        brain: None,
    };
    let mut down = Vec::new();
    for (node, line) in nodes.into_iter().zip(lines) {
        if !line.ok {
            if node.node.has_role(Role::Worker) {
                down.push(format!(
                    "{} ({}): {}",
                    node.node.name, node.node.url, line.detail
                ));
            }
            continue;
        }
        if node.node.has_role(Role::Judge) {
            connected.judges.push(JudgeNode {
                name: node.node.name.clone(),
                model: node.node.model.clone(),
                client: node.client.clone(),
                context_length: node.context_length,
                slots: node.slots,
            });
        }
        if connected.brain.is_none() && node.node.has_role(Role::Brain) {
            connected.brain = Some(crate::user_sim::Brain {
                model: node.node.model.clone(),
                client: node.client.clone(),
            });
        }
        if node.node.has_role(Role::Worker) {
            connected.workers.push(Arc::new(node));
        }
    }
    if connected.workers.is_empty() {
        return Err(format!(
            "no worker node of the fleet answers: {}",
            if down.is_empty() {
                "the fleet has no node with the worker role".to_string()
            } else {
                down.join("; ")
            }
        ));
    }
    Ok(connected)
}

/// The system under test `kind` on a connected fleet.
pub fn connect_sut(
    kind: Sut,
    fleet: &Fleet,
    knobs: &Knobs,
    workers: Vec<Arc<LiveNode>>,
) -> Arc<dyn SystemUnderTest> {
    match kind {
        Sut::Single => Arc::new(single::Single::new(workers, knobs.clone())),
        Sut::Swarm => Arc::new(swarm_sut::Swarm::new(workers, fleet.clone(), knobs.clone())),
    }
}

/// The first reachable node with the brain role.
pub async fn probe_brain(fleet: &Fleet, knobs: &Knobs) -> Result<crate::user_sim::Brain, String> {
    let brains = Fleet {
        nodes: fleet
            .nodes
            .iter()
            .filter(|n| n.has_role(Role::Brain))
            .cloned()
            .collect(),
    };
    let (nodes, lines) = swarm::connect(&brains, knobs).await;
    nodes
        .into_iter()
        .zip(lines)
        .find(|(_, line)| line.ok)
        .map(|(node, _)| crate::user_sim::Brain {
            model: node.node.model.clone(),
            client: node.client.clone(),
        })
        .ok_or_else(|| {
            "--simulate-user needs a reachable node with the brain role in the fleet".to_string()
        })
}
