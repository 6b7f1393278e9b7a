//! What the agent tells whoever watches it: its start, each request and reply with their
//! figures, each action, malformed replies, shortened context, the judge, overflows, its end.
//! The pipeline forwards them into its own stream (`Event::Agent`).

use super::{ActionMode, ActionRecord, Outcome};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What the agent is doing, for whoever renders progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The run started.
    Started {
        /// Model.
        model: String,
        /// Protocol.
        action_mode: ActionMode,
        /// Budget.
        max_actions: u32,
        /// Window, when known.
        context_length: Option<u64>,
    },
    /// A request is going out.
    Request {
        /// 1-based request number.
        number: u32,
        /// Estimated prompt tokens.
        estimated_tokens: u64,
    },
    /// A reply came back.
    Reply {
        /// Prompt tokens.
        tokens_in: u64,
        /// Generated tokens.
        tokens_out: u64,
        /// Cached prompt tokens, when the server said.
        cached_tokens: Option<u64>,
        /// Generation speed.
        tokens_per_second: Option<f64>,
        /// Time to first byte.
        first_byte_ms: u64,
        /// Time from sending to the end of the reply.
        total_ms: u64,
        /// Tool calls in it.
        tool_calls: usize,
        /// Tool calls were recovered from text.
        recovered_from_text: bool,
    },
    /// An action ran.
    Action(ActionRecord),
    /// A reply held no usable action.
    MalformedReply {
        /// Why, as told to the model.
        reason: String,
    },
    /// Old tool results were shortened.
    ContextShortened {
        /// How many.
        messages: usize,
        /// Characters removed.
        chars_removed: usize,
    },
    /// The judge refused a `done` or stopped the run.
    Judge {
        /// idle, repeat, empty_done.
        rule: String,
        /// refused_done or stopped.
        decision: String,
        /// Why, with the counts.
        reason: String,
    },
    /// The server said the prompt overflowed.
    ContextOverflow {
        /// Its message.
        message: String,
    },
    /// The run ended.
    Finished {
        /// How.
        outcome: Outcome,
        /// Summary or reason.
        summary: String,
    },
}

/// Receives events; cheap to clone.
pub type EventSink = Arc<dyn Fn(&AgentEvent) + Send + Sync>;

/// An event sink that drops everything.
pub fn no_events() -> EventSink {
    Arc::new(|_| {})
}
