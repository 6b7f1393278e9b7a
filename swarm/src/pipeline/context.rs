//! What every phase shares: the run's context ([`Ctx`]: the output directory, the run's
//! files, the spec, the knobs, the live fleet, the event recorder, the sandbox) and the few
//! things phases do with it (emit, pick nodes by role, ask a node for JSON, configure an
//! agent and forward its events into the run's stream).

use super::{Event, Phase, PhaseStatus, Recorder};
use crate::agent::{AgentConfig, AgentEvent, EventSink};
use crate::fleet::live as nodes;
use crate::fleet::{LiveNode, Role};
use crate::knobs::Knobs;
use crate::llm::{ChatRequest, JsonSchemaFormat, Message};
use crate::sandbox::Sandbox;
use crate::spec::Spec;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything a phase needs.
pub(crate) struct Ctx {
    pub out: PathBuf,
    pub run_dir: PathBuf,
    pub spec: Spec,
    pub knobs: Knobs,
    pub nodes: Vec<LiveNode>,
    pub recorder: Recorder,
    pub sandbox: &'static Sandbox,
    /// What the scheduler has learned about the nodes' speeds (BUILD and FIX share it).
    pub estimator: std::sync::Mutex<crate::fleet::sched::Estimator>,
}

impl Ctx {
    /// Records one event (the log and the run's sink).
    pub(super) fn emit(&self, event: Event) {
        self.recorder.emit(event);
    }

    /// The run's id (its directory's name), which its merge commits carry.
    pub(super) fn run_id(&self) -> String {
        self.run_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Records a phase event.
    pub(super) fn phase(&self, phase: Phase, status: PhaseStatus, reason: impl Into<String>) {
        self.emit(Event::Phase {
            phase,
            status,
            reason: reason.into(),
        });
    }
}

/// The model's text reply to a one-shot structured request on node `index`.
/// Asks one node for a JSON answer under `schema`; returns it with the tokens used (in, out)
/// whether or not the answer was usable: a weak model's unusable reply still cost its tokens.
pub(super) async fn ask_counted(
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
pub(super) fn role_nodes(ctx: &Ctx, role: Role) -> Vec<usize> {
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

/// A fan-out of `count` parallel pieces of work (scouts, plan drafts) over `candidates`,
/// spread over their slots: every node's first slot, then every second slot, and so on,
/// so a 1-slot node gets a second piece only when every slot of the others has one.
pub(super) fn spread_over_slots(
    candidates: &[usize],
    slots_of: impl Fn(usize) -> u32,
    count: usize,
) -> Vec<usize> {
    let mut order = Vec::new();
    let most = candidates
        .iter()
        .map(|i| slots_of(*i).max(1))
        .max()
        .unwrap_or(1);
    for round in 0..most {
        order.extend(
            candidates
                .iter()
                .copied()
                .filter(|i| slots_of(*i).max(1) > round),
        );
    }
    (0..count)
        .filter_map(|k| order.get(k % order.len().max(1)).copied())
        .collect()
}

/// One gate per node with as many permits as it has slots: a fan-out's pieces wait here,
/// never in a server's queue behind another request.
pub(super) fn slot_gates(ctx: &Ctx) -> Vec<Arc<tokio::sync::Semaphore>> {
    ctx.nodes
        .iter()
        .map(|n| Arc::new(tokio::sync::Semaphore::new(n.slots.max(1) as usize)))
        .collect()
}

pub(super) fn agent_config(ctx: &Ctx, index: usize, max_actions: u32) -> AgentConfig {
    let node = &ctx.nodes[index];
    let mut config = AgentConfig::new(node.node.model.clone(), node.mode);
    config.max_actions = max_actions;
    config.context_length = node.context_length;
    config.max_reply_tokens = ctx.knobs.get(crate::knobs::NODE_MAX_REPLY_TOKENS);
    config
}

/// An agent's events into the run's stream, under `task` and the node it runs on.
pub(super) fn forward(ctx: &Ctx, task: &str, index: usize) -> EventSink {
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
        // The pipeline reports how an agent ended itself (task_ended, contract, scout).
        AgentEvent::Finished { .. } => {}
        other => recorder.emit(Event::Agent {
            task: task.clone(),
            node: name.clone(),
            agent: other.clone(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::spread_over_slots;

    #[test]
    fn a_fan_out_fills_every_nodes_first_slot_before_any_second() {
        // Node 0 has one slot, node 1 two, node 2 one.
        let slots = |i: usize| [1, 2, 1][i];
        assert_eq!(spread_over_slots(&[0, 1, 2], slots, 3), vec![0, 1, 2]);
        assert_eq!(spread_over_slots(&[0, 1, 2], slots, 4), vec![0, 1, 2, 1]);
        // More pieces than slots: the next round starts over (those wait at the node's gate).
        assert_eq!(spread_over_slots(&[0, 1], slots, 5), vec![0, 1, 1, 0, 1]);
        assert!(spread_over_slots(&[], slots, 3).is_empty());
    }
}
