//! The scenario format of swarm-sim: a YAML file with the nodes of a simulated fleet and the
//! rules that script their replies.
//!
//! ```yaml
//! nodes:
//!   - name: fast                  # unique; the node's URL is printed under this name
//!     model: sim-careful          # id in /v1/models and /props
//!     tokens_per_second: 400      # streaming speed (default 200)
//!     prefill_tokens_per_second: 4000   # prompt processing speed (default 4000)
//!     slots: 2                    # requests served at once; more wait in a queue (default 1)
//!     context_length: 8192        # prompts estimated above this get a context overflow
//!     supports_tools: true        # reported in /props, so `--action-mode auto` picks native
//!     port: 0                     # 0 (default): any free port
//! rules:                          # first matching rule with uses left answers
//!   - name: write the app         # optional, shows in the request log
//!     node: fast                  # optional: only this node answers with it
//!     when:                       # every condition given must hold
//!       schema: agent_action      # response_format json_schema name
//!       contains: "task T3"       # substring of any message
//!       last_contains: "exit code 0"  # substring of the last message
//!       turn: 2                   # 1 + assistant messages in the request
//!       tools: true               # request offers native tools (true) or not (false)
//!       model: qwen3.6-27b        # the request's `model` field
//!     reply:                      # exactly one of action / content / json / tool_calls
//!       action: {tool: write_file, args: {path: app.py, content: "print(1)\n"}}
//!       reasoning: "thinking..."  # optional, sent as reasoning_content
//!     fault: {stall_after_tokens: 5}   # optional, see below
//!     times: 1                    # optional: uses across the whole fleet (default: unlimited)
//! default_reply:                  # optional: used when no rule matches (else HTTP 500)
//!   content: "I have nothing scripted for this."
//! ```
//!
//! `action` is written the way the request asks: JSON content `{"tool","args"}` when the
//! request carries a response_format, native `tool_calls` when it offers tools, JSON content
//! otherwise — so one scenario serves both action protocols.
//!
//! Faults: `http_500: true`; `context_overflow: true` (llama-server's 400);
//! `stall_after_tokens: N` (stream N chunks, then silence); `drop_after_tokens: N` (stream
//! N chunks, then cut the connection); `pause_after_tokens: N` with `pause_ms: M` (stream N
//! chunks, pause M ms, go on); `first_byte_delay_ms: N`; `keepalive_ms: N` (an SSE
//! comment every N ms until the first token); `garbage: true` (bytes that
//! are not SSE JSON); `text_tool_calls: hermes | qwen3_coder | lmstudio | mistral` (tool calls
//! written as text in the content); `reasoning_tags: true` (reasoning as `<think>` in the
//! content instead of its own field).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The fleet.
    pub nodes: Vec<NodeSpec>,
    /// Scripted replies, first match wins.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Reply when nothing matches.
    #[serde(default)]
    pub default_reply: Option<Reply>,
}

/// One simulated server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique name.
    pub name: String,
    /// Model id it serves.
    #[serde(default = "default_model")]
    pub model: String,
    /// Streaming speed.
    #[serde(default = "default_tps")]
    pub tokens_per_second: f64,
    /// Prompt processing speed.
    #[serde(default = "default_prefill")]
    pub prefill_tokens_per_second: f64,
    /// Parallel slots.
    #[serde(default = "default_slots")]
    pub slots: u32,
    /// Context window in tokens.
    #[serde(default = "default_context")]
    pub context_length: u64,
    /// Whether /props says the template handles tools.
    #[serde(default)]
    pub supports_tools: bool,
    /// Port to bind, 0 for any.
    #[serde(default)]
    pub port: u16,
}

fn default_model() -> String {
    "sim-model".into()
}
fn default_tps() -> f64 {
    200.0
}
fn default_prefill() -> f64 {
    4000.0
}
fn default_slots() -> u32 {
    1
}
fn default_context() -> u64 {
    8192
}

/// A scripted reply and when to give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Label for logs.
    #[serde(default)]
    pub name: Option<String>,
    /// Only this node uses the rule.
    #[serde(default)]
    pub node: Option<String>,
    /// Conditions.
    #[serde(default)]
    pub when: When,
    /// The reply (may be empty when the fault alone answers, e.g. `http_500`).
    #[serde(default)]
    pub reply: Reply,
    /// A fault to inject.
    #[serde(default)]
    pub fault: Fault,
    /// Uses across the fleet; unlimited when absent.
    #[serde(default)]
    pub times: Option<u32>,
}

/// Conditions on a request; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// response_format json_schema name.
    #[serde(default)]
    pub schema: Option<String>,
    /// Substring of any message.
    #[serde(default)]
    pub contains: Option<String>,
    /// Substrings that must all occur in the messages (each in any one of them): a
    /// scripted judge that answers one way only when every file it is shown is intact.
    #[serde(default)]
    pub contains_all: Vec<String>,
    /// Substring of the last message.
    #[serde(default)]
    pub last_contains: Option<String>,
    /// 1 + number of assistant messages.
    #[serde(default)]
    pub turn: Option<u32>,
    /// Whether the request offers native tools.
    #[serde(default)]
    pub tools: Option<bool>,
    /// The model the request names (one server answering as several models).
    #[serde(default)]
    pub model: Option<String>,
}

/// What to answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// A tool action, rendered per the request's protocol.
    #[serde(default)]
    pub action: Option<ScriptedCall>,
    /// Plain content.
    #[serde(default)]
    pub content: Option<String>,
    /// A JSON value sent as content (structured output such as a plan).
    #[serde(default)]
    pub json: Option<Value>,
    /// Native tool calls.
    #[serde(default)]
    pub tool_calls: Option<Vec<ScriptedCall>>,
    /// Reasoning sent before the answer.
    #[serde(default)]
    pub reasoning: Option<String>,
}

/// A tool call in a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    /// Tool name.
    pub tool: String,
    /// Arguments.
    #[serde(default = "empty_object")]
    pub args: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Text dialects for tool calls written in the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextDialect {
    /// `<tool_call>{json}</tool_call>`
    Hermes,
    /// `<function=NAME><parameter=K>V</parameter></function>`
    Qwen3Coder,
    /// `[TOOL_REQUEST]{json}[END_TOOL_REQUEST]`
    Lmstudio,
    /// `[TOOL_CALLS][{json}]`
    Mistral,
}

/// Faults to inject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Answer HTTP 500.
    #[serde(default)]
    pub http_500: bool,
    /// Answer llama-server's context overflow.
    #[serde(default)]
    pub context_overflow: bool,
    /// Stream this many chunks, then go silent.
    #[serde(default)]
    pub stall_after_tokens: Option<u32>,
    /// Stream this many chunks, then drop the connection.
    #[serde(default)]
    pub drop_after_tokens: Option<u32>,
    /// Wait before the first byte.
    #[serde(default)]
    pub first_byte_delay_ms: Option<u64>,
    /// Stream this many chunks, pause for `pause_ms`, then go on: a node that is alive but
    /// slow in bursts (swapping, a busy GPU), which a too-short stall timeout cuts.
    #[serde(default)]
    pub pause_after_tokens: Option<u32>,
    /// How long the pause of `pause_after_tokens` lasts.
    #[serde(default)]
    pub pause_ms: Option<u64>,
    /// While waiting for the first token, send an SSE comment (`: keep-alive`) this often,
    /// as servers do during long prefills.
    #[serde(default)]
    pub keepalive_ms: Option<u64>,
    /// Send bytes that are not valid SSE JSON.
    #[serde(default)]
    pub garbage: bool,
    /// Write tool calls as text in this dialect.
    #[serde(default)]
    pub text_tool_calls: Option<TextDialect>,
    /// Put reasoning in `<think>` tags in the content.
    #[serde(default)]
    pub reasoning_tags: bool,
}

/// A scenario that cannot be served, with the place and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScenarioError(pub String);

impl Scenario {
    /// Parses and validates YAML; `origin` names the file in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_yaml_ng::from_str(text)
            .map_err(|err| ScenarioError(format!("{origin}: not a valid scenario: {err}")))?;
        scenario.validate(origin)?;
        Ok(scenario)
    }

    /// Checks what YAML types cannot: names, speeds, references, reply shapes.
    pub fn validate(&self, origin: &str) -> Result<(), ScenarioError> {
        let fail = |what: String| Err(ScenarioError(format!("{origin}: {what}")));
        if self.nodes.is_empty() {
            return fail("`nodes` is empty; a scenario needs at least one node".into());
        }
        for (index, node) in self.nodes.iter().enumerate() {
            if node.name.trim().is_empty() {
                return fail(format!("nodes[{index}].name is empty"));
            }
            if self
                .nodes
                .iter()
                .filter(|other| other.name == node.name)
                .count()
                > 1
            {
                return fail(format!("nodes[{index}].name `{}` is used twice", node.name));
            }
            if !(node.tokens_per_second > 0.0 && node.prefill_tokens_per_second > 0.0) {
                return fail(format!(
                    "nodes[{index}] ({}): speeds must be above 0",
                    node.name
                ));
            }
            if node.slots == 0 {
                return fail(format!(
                    "nodes[{index}] ({}): slots must be at least 1",
                    node.name
                ));
            }
        }
        for (index, rule) in self.rules.iter().enumerate() {
            let label = rule
                .name
                .clone()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            if let Some(node) = &rule.node {
                if !self.nodes.iter().any(|n| &n.name == node) {
                    return fail(format!(
                        "rules[{index}]{label}: node `{node}` is not in `nodes`"
                    ));
                }
            }
            let shapes = [
                rule.reply.action.is_some(),
                rule.reply.content.is_some(),
                rule.reply.json.is_some(),
                rule.reply.tool_calls.is_some(),
            ]
            .iter()
            .filter(|given| **given)
            .count();
            let fault_answers =
                rule.fault.http_500 || rule.fault.context_overflow || rule.fault.garbage;
            if shapes > 1 {
                return fail(format!("rules[{index}]{label}: reply has more than one of action, content, json, tool_calls"));
            }
            if shapes == 0 && !fault_answers && rule.reply.reasoning.is_none() {
                return fail(format!(
                    "rules[{index}]{label}: reply needs one of action, content, json or tool_calls (or a fault that answers by itself: http_500, context_overflow, garbage)"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_place() {
        let bad_node = "nodes: [{name: a}]\nrules: [{node: b, reply: {content: x}}]";
        assert_eq!(
            Scenario::from_yaml(bad_node, "s.yaml").unwrap_err().0,
            "s.yaml: rules[0]: node `b` is not in `nodes`"
        );
        let no_reply = "nodes: [{name: a}]\nrules: [{name: r, when: {turn: 1}}]";
        assert!(Scenario::from_yaml(no_reply, "s.yaml")
            .unwrap_err()
            .0
            .contains("rules[0] (r): reply needs"));
        let typo = "nodes: [{name: a, tokens_per_secnd: 3}]";
        assert!(Scenario::from_yaml(typo, "s.yaml")
            .unwrap_err()
            .0
            .contains("unknown field `tokens_per_secnd`"));
    }
}
