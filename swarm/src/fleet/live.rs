//! The fleet as the pipeline uses it: one client per node, its resolved action protocol and
//! context window, free slots, health (a node that failed sits out a cooldown, then rejoins)
//! and measured speed (for giving hard tasks to the fastest free node).

use crate::agent::ActionMode;
use crate::fleet::{Fleet, Node, Role};
use crate::knobs::Knobs;
use crate::llm::{probe, Backend, ClientConfig, LlmClient};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One node, ready to use.
#[derive(Debug)]
pub struct LiveNode {
    /// From the fleet file.
    pub node: Node,
    /// Its client.
    pub client: LlmClient,
    /// Action protocol, resolved from the probe.
    pub mode: ActionMode,
    /// Context window, from the probe or the `node.context_cap` knob.
    pub context_length: Option<u64>,
    /// Parallel requests.
    pub slots: u32,
    /// The server, as probed.
    pub backend: Option<Backend>,
    /// Slots the server itself reported (llama-server's `/props`).
    pub server_slots: Option<u32>,
    state: Mutex<NodeState>,
}

#[derive(Debug, Default)]
struct NodeState {
    busy: u32,
    /// Which permits are taken (grown on demand up to `slots`).
    taken: Vec<bool>,
    down_until: Option<Instant>,
    /// Measured generation speed, tokens/s (moving average).
    speed: Option<f64>,
}

impl LiveNode {
    /// Whether it can take work now.
    pub fn available(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.busy < self.slots && s.down_until.is_none_or(|t| Instant::now() >= t))
            .unwrap_or(false)
    }

    /// Whether it is out for a cooldown.
    pub fn down(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.down_until.is_some_and(|t| Instant::now() < t))
            .unwrap_or(true)
    }

    /// Busy slots.
    pub fn busy(&self) -> u32 {
        self.state.lock().map(|s| s.busy).unwrap_or(0)
    }

    /// Measured speed.
    pub fn speed(&self) -> Option<f64> {
        self.state.lock().ok().and_then(|s| s.speed)
    }

    /// Takes a slot: `prefer` when it is free (the slot that holds a conversation), else
    /// the lowest free one. Returns the slot's index.
    pub fn acquire(&self, prefer: Option<u32>) -> u32 {
        let Ok(mut s) = self.state.lock() else {
            return 0;
        };
        let permits = self.slots.max(1) as usize;
        if s.taken.len() < permits {
            s.taken.resize(permits, false);
        }
        let free = |i: usize| !s.taken.get(i).copied().unwrap_or(true);
        let slot = prefer
            .map(|p| p as usize)
            .filter(|p| free(*p))
            .or_else(|| (0..s.taken.len()).find(|i| free(*i)))
            .unwrap_or(0);
        if let Some(t) = s.taken.get_mut(slot) {
            *t = true;
        }
        s.busy += 1;
        slot as u32
    }

    /// The slots taken now.
    pub fn taken_slots(&self) -> Vec<u32> {
        self.state
            .lock()
            .map(|s| {
                (0..s.taken.len())
                    .filter(|i| s.taken[*i])
                    .map(|i| i as u32)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Gives slot `slot` back.
    pub fn release(&self, slot: u32) {
        if let Ok(mut s) = self.state.lock() {
            s.busy = s.busy.saturating_sub(1);
            if let Some(t) = s.taken.get_mut(slot as usize) {
                *t = false;
            }
        }
    }

    /// The server slot requests on permit `slot` should name: llama-server only (where
    /// `id_slot` and `cache_prompt` keep a conversation's prompt cached), and only a slot
    /// the server has. Elsewhere None: LM Studio, Ollama and vLLM cache prompts on their
    /// own and take no slot id.
    pub fn cache_slot(&self, slot: u32) -> Option<u32> {
        (self.backend == Some(Backend::LlamaServer) && self.server_slots.is_none_or(|n| slot < n))
            .then_some(slot)
    }

    /// Leaves the node out for `cooldown`.
    pub fn mark_down(&self, cooldown: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.down_until = Some(Instant::now() + cooldown);
        }
    }

    /// Records a measured speed.
    pub fn observe_speed(&self, tokens_per_second: f64) {
        if let Ok(mut s) = self.state.lock() {
            s.speed = Some(match s.speed {
                Some(old) => old * 0.7 + tokens_per_second * 0.3,
                None => tokens_per_second,
            });
        }
    }

    /// When it rejoins, if it is down.
    pub fn rejoins_in(&self) -> Option<Duration> {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.down_until)
            .map(|t| t.saturating_duration_since(Instant::now()))
    }
}

/// A probe result, for events.
#[derive(Debug, Clone)]
pub struct ProbeLine {
    /// Node.
    pub node: String,
    /// Reachable.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// The node answers but does not list its model: the names it does list. Such a node
    /// is left down (a request for a model a server does not list is answered by another).
    pub wrong_model: Option<Vec<String>>,
}

/// Probes every node and builds its client. Unreachable nodes are kept (they may come up
/// later) but start out down.
pub async fn connect(fleet: &Fleet, knobs: &Knobs) -> (Vec<LiveNode>, Vec<ProbeLine>) {
    let mut nodes = Vec::new();
    let mut lines = Vec::new();
    let probes = futures::future::join_all(fleet.nodes.iter().map(|node| {
        let key = node.api_key();
        let timeout = knobs.get(crate::knobs::NODE_CONNECT_TIMEOUT_S);
        async move { probe(&node.url, key.as_deref(), timeout).await }
    }))
    .await;
    for (node, probed) in fleet.nodes.iter().zip(probes) {
        let mut config = ClientConfig::new(node.url.clone());
        config.api_key = node.api_key();
        config.connect_timeout = knobs.get(crate::knobs::NODE_CONNECT_TIMEOUT_S);
        config.first_byte_timeout = knobs.get(crate::knobs::NODE_FIRST_BYTE_TIMEOUT_S);
        config.gap_timeout = knobs.get(crate::knobs::NODE_STALL_TIMEOUT_S);
        config.max_reply_tokens = knobs.get(crate::knobs::NODE_MAX_REPLY_TOKENS);
        config.sampling = node.sampling;
        let Ok(client) = LlmClient::new(config) else {
            lines.push(ProbeLine {
                node: node.name.clone(),
                ok: false,
                detail: "cannot build an HTTP client".into(),
                wrong_model: None,
            });
            continue;
        };
        let cap = knobs.get(crate::knobs::NODE_SLOTS_CAP);
        let slots = if cap > 0 {
            node.slots.min(cap)
        } else {
            node.slots
        };
        let context_cap = knobs.get(crate::knobs::NODE_CONTEXT_CAP);
        let mut wrong_model = None;
        let (mode, context_length, ok, detail) = match &probed {
            Ok(report) if !report.serves(&node.model) => {
                let served: Vec<String> = report
                    .served_names()
                    .into_iter()
                    .map(String::from)
                    .collect();
                let detail = format!(
                    "does not serve model `{}`; it serves: {}",
                    node.model,
                    served.join(", ")
                );
                wrong_model = Some(served);
                (
                    node.action_mode.resolve(None, Some(&node.model)),
                    None,
                    false,
                    detail,
                )
            }
            Ok(report) => {
                let info = report.model(Some(&node.model));
                let context = info.and_then(|m| m.context_length);
                let mode = node.action_mode.resolve(Some(report), Some(&node.model));
                (
                    mode,
                    context,
                    true,
                    format!(
                        "{:?} serving {}, context {}, {slots} slot(s), {mode:?} actions",
                        report.backend,
                        node.model,
                        context
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "unknown".into())
                    ),
                )
            }
            Err(err) => (
                node.action_mode.resolve(None, Some(&node.model)),
                None,
                false,
                format!("unreachable: {err}"),
            ),
        };
        let context_length = if context_cap > 0 {
            Some(context_length.map_or(u64::from(context_cap), |c| c.min(u64::from(context_cap))))
        } else {
            context_length
        };
        let (backend, server_slots) = match &probed {
            Ok(report) if ok => (Some(report.backend), report.slots),
            _ => (None, None),
        };
        let live = LiveNode {
            node: node.clone(),
            client,
            mode,
            context_length,
            slots,
            backend,
            server_slots,
            state: Mutex::new(NodeState::default()),
        };
        if !ok {
            live.mark_down(knobs.get(crate::knobs::NODE_COOLDOWN_S));
        }
        lines.push(ProbeLine {
            node: node.name.clone(),
            ok,
            detail,
            wrong_model,
        });
        nodes.push(live);
    }
    (nodes, lines)
}

/// Indices of the nodes with `role`.
pub fn with_role(nodes: &[LiveNode], role: Role) -> Vec<usize> {
    nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.node.has_role(role))
        .map(|(i, _)| i)
        .collect()
}

/// The node for the next piece of work among `candidates`: available ones only; for hard
/// work (when `fastest` is set) the fastest measured, else the least loaded; ties by fleet
/// order. `avoid` is skipped when another node is available.
pub fn pick(
    nodes: &[LiveNode],
    candidates: &[usize],
    hard: bool,
    fastest: bool,
    avoid: Option<usize>,
) -> Option<(usize, String)> {
    let available: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|i| nodes[*i].available())
        .collect();
    let pool: Vec<usize> = if available.iter().any(|i| Some(*i) != avoid) {
        available
            .into_iter()
            .filter(|i| Some(*i) != avoid)
            .collect()
    } else {
        available
    };
    let load = |i: usize| f64::from(nodes[i].busy()) / f64::from(nodes[i].slots.max(1));
    if hard && fastest {
        let best = pool.iter().copied().max_by(|a, b| {
            let (sa, sb) = (
                nodes[*a].speed().unwrap_or(0.0),
                nodes[*b].speed().unwrap_or(0.0),
            );
            sa.total_cmp(&sb)
                .then_with(|| load(*b).total_cmp(&load(*a)))
                .then_with(|| b.cmp(a))
        })?;
        let why = match nodes[best].speed() {
            Some(speed) => format!("hard task: fastest free node ({speed:.0} tok/s measured)"),
            None => "hard task: no speed measured yet, least loaded".into(),
        };
        return Some((best, why));
    }
    let best = pool
        .iter()
        .copied()
        .min_by(|a, b| load(*a).total_cmp(&load(*b)).then_with(|| a.cmp(b)))?;
    Some((
        best,
        format!(
            "least loaded free node ({}/{} slots busy)",
            nodes[best].busy(),
            nodes[best].slots
        ),
    ))
}
