//! The single agent: a turn loop over one model with file and command tools.
//!
//! Flow of a run: system prompt + task → request (native tools, or the JSON-action schema)
//! → the reply's actions are executed in order, each recorded in the action log (tool,
//! target, whether it wrote, when) → results go back to the model → repeat until `done`, the
//! action budget runs out, or the model keeps answering without a usable action. Before each
//! request the context budget shortens old tool results. The agent never prints: it emits
//! [`AgentEvent`]s and returns an [`AgentReport`].

use crate::clock::unix_ms;

mod context;
mod events;
mod judge;
mod protocol;
mod tools;
mod workspace;

use judge::JudgeWatch;

pub use events::{no_events, AgentEvent, EventSink};

pub use context::{ContextBudget, Pressure, Shortened};
pub use protocol::{
    action_schema, actions_from_reply, first_json_object, Action, ActionMode, ACTION_SCHEMA_NAME,
};
pub use tools::{execute, tool_specs, walk, RunSettings, ToolResult, TOOL_NAMES};
pub use workspace::{Access, PathRefused, Workspace};

use crate::llm::{ChatRequest, LlmClient, LlmError, Message, Role, ToolCall};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Settings of one agent run.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Model id for requests.
    pub model: String,
    /// Native or JSON (resolve `auto` before building the config).
    pub action_mode: ActionMode,
    /// Most tool calls the agent may make.
    pub max_actions: u32,
    /// The model's context window, from the probe; `None` disables shortening.
    pub context_length: Option<u64>,
    /// Cap on tokens per reply.
    pub max_reply_tokens: u32,
    /// Sampling temperature (None: server default).
    pub temperature: Option<f32>,
    /// Replies in a row without a usable action before the run fails.
    pub max_consecutive_malformed: u32,
    /// Sandbox settings of the `run` tool.
    pub run: RunSettings,
    /// Text appended to the system prompt (the pipeline's frozen contracts); when given, the
    /// owned-files line moves to the task message so the prefix stays the same for every
    /// worker (prompt-cache reuse).
    pub preamble: Option<String>,
    /// Tools the agent may use (None: all); scouts get the read-only ones.
    pub allowed_tools: Option<Vec<String>>,
    /// The judge's rules (None: no judge).
    pub judge: Option<JudgeRules>,
    /// The server slot every request of this run goes to (llama-server; None: the server
    /// chooses).
    pub cache_slot: Option<u32>,
}

/// Decides whether `done` may end the run: `Some(reason)` refuses it.
pub type DoneGate = Arc<dyn Fn(&Workspace) -> Option<String> + Send + Sync>;

/// The judge: it counts actions and never reads them for meaning.
#[derive(Clone)]
pub struct JudgeRules {
    /// Consecutive actions that write nothing before the worker is stopped.
    pub max_idle_actions: u32,
    /// Identical actions in a row before the worker is stopped.
    pub max_repeats: u32,
    /// Refuses `done` (e.g. owned files unchanged or still stubs); refused twice, the worker
    /// is stopped.
    pub done_gate: Option<DoneGate>,
}

impl std::fmt::Debug for JudgeRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgeRules")
            .field("max_idle_actions", &self.max_idle_actions)
            .field("max_repeats", &self.max_repeats)
            .field("done_gate", &self.done_gate.is_some())
            .finish()
    }
}

/// Read-only tools, for scouts.
pub const READ_ONLY_TOOLS: [&str; 4] = ["read_file", "list_files", "search", "done"];

impl AgentConfig {
    /// The protocol requests use: `auto` (not resolved from a probe) falls back to JSON.
    fn resolved_mode(&self) -> ActionMode {
        if self.action_mode == ActionMode::Auto {
            ActionMode::Json
        } else {
            self.action_mode
        }
    }

    /// Defaults for `model` in `mode`.
    pub fn new(model: impl Into<String>, mode: ActionMode) -> Self {
        AgentConfig {
            model: model.into(),
            action_mode: mode,
            max_actions: 40,
            context_length: None,
            max_reply_tokens: 2048,
            temperature: Some(0.2),
            max_consecutive_malformed: 3,
            run: RunSettings::default(),
            preamble: None,
            allowed_tools: None,
            judge: None,
            cache_slot: None,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The model called `done` (its claim; graders check the work).
    Done,
    /// The action budget ran out first.
    OutOfBudget,
    /// The model kept answering without usable actions, or the server failed.
    Failed,
    /// The judge stopped it (idle, looping, or claiming done without the work).
    Stopped,
}

crate::named!(Outcome { Done => "done", OutOfBudget => "out_of_budget", Failed => "failed", Stopped => "stopped" });

impl AgentReport {
    /// A report of a run that did nothing yet (or could not start).
    pub fn empty(outcome: Outcome, summary: impl Into<String>) -> AgentReport {
        AgentReport {
            outcome,
            summary: summary.into(),
            actions: Vec::new(),
            files_written: BTreeMap::new(),
            requests: 0,
            tokens_in: 0,
            tokens_out: 0,
            malformed_replies: 0,
            tool_errors: 0,
            context_overflows: 0,
            context_shortenings: 0,
            error_kind: None,
            wall_ms: 0,
            model_ms: 0,
            server_retries: 0,
            judge_interventions: 0,
            transcript: Vec::new(),
        }
    }
}

/// One executed action, for the judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// 1-based position.
    pub index: u32,
    /// Tool name.
    pub tool: String,
    /// Path, command or pattern the call was about.
    pub target: String,
    /// Whether the call changed a file.
    pub wrote: bool,
    /// Whether the tool succeeded.
    pub ok: bool,
    /// Milliseconds since the run started.
    pub at_ms: u64,
    /// Wall-clock time, Unix milliseconds.
    pub unix_ms: u64,
}

/// Everything a run produced besides the files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// How it ended.
    pub outcome: Outcome,
    /// The model's `done` summary, or why it failed.
    pub summary: String,
    /// The action log.
    pub actions: Vec<ActionRecord>,
    /// Files written, with their size on disk at the end.
    pub files_written: BTreeMap<String, u64>,
    /// Requests sent.
    pub requests: u32,
    /// Prompt tokens over all requests.
    pub tokens_in: u64,
    /// Generated tokens over all requests.
    pub tokens_out: u64,
    /// Replies without a usable action.
    pub malformed_replies: u32,
    /// Tool calls that failed.
    pub tool_errors: u32,
    /// Context overflows the server reported.
    pub context_overflows: u32,
    /// Tool results shortened to fit the window.
    pub context_shortenings: u32,
    /// Server error kind that ended the run, when one did.
    pub error_kind: Option<crate::llm::ErrorKind>,
    /// Wall time.
    pub wall_ms: u64,
    /// Time spent waiting for the model's replies (the rest is tools and overhead).
    pub model_ms: u64,
    /// Server failures the client retried successfully (fleet trouble the run survived).
    pub server_retries: u32,
    /// Times the judge refused `done` or stopped the run.
    #[serde(default)]
    pub judge_interventions: u32,
    /// Every message of the conversation as sent and received (tool results unshortened).
    #[serde(skip)]
    pub transcript: Vec<Message>,
}

/// Appends to what the model sees and to the full transcript.
fn push(messages: &mut Vec<Message>, transcript: &mut Vec<Message>, message: Message) {
    transcript.push(message.clone());
    messages.push(message);
}

fn owned_line(workspace: &Workspace) -> String {
    workspace
        .owned()
        .map(|files| {
            format!(
                "\nYou may write only these files: {}.",
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .unwrap_or_default()
}

fn system_prompt(mode: ActionMode, workspace: &Workspace, config: &AgentConfig) -> String {
    let owned = if config.preamble.is_some() {
        String::new()
    } else {
        owned_line(workspace)
    };
    system_prompt_with(mode, &owned, config)
}

fn system_prompt_with(mode: ActionMode, owned: &str, config: &AgentConfig) -> String {
    let allowed = config
        .allowed_tools
        .as_ref()
        .map(|tools| format!("\nYou may use only these tools: {}.", tools.join(", ")))
        .unwrap_or_default();
    let protocol = match mode {
        ActionMode::Json => "Answer every turn with exactly one JSON object {\"tool\": NAME, \"args\": {...}} and nothing else. Tools: read_file{path}, write_file{path, content}, edit_file{path, old, new}, list_files{path}, search{pattern, path}, run{command}, done{summary}.",
        _ => "Use the tools to act; one or more tool calls per turn.",
    };
    let mut prompt = format!(
        "You are a careful software engineer working in a project directory. Paths are relative to it.{owned}{allowed}\n\
         {protocol}\n\
         Write complete files, run them to check they work, fix what fails, and call done with a short summary only when the task is finished and checked."
    );
    if let Some(preamble) = &config.preamble {
        prompt.push_str("\n\n");
        prompt.push_str(preamble);
    }
    prompt
}

/// Marks a request that only fills a server slot's prompt cache (scripted fleets answer it
/// without spending a scripted reply).
pub const WARM_UP_MARKER: &str = "WARM-UP";

/// A request that puts an agent's stable prefix — its system prompt with the preamble (spec
/// and frozen contracts), and in the native protocol its tool list — into the prompt cache
/// of `config.cache_slot`, so that the first request of a conversation started there later
/// finds it cached. It asks for one token; only the prefill counts. Meant for configs with
/// a preamble (whose system prompt is the same for every worker).
pub fn warm_up_request(config: &AgentConfig) -> ChatRequest {
    let mode = config.resolved_mode();
    let messages = vec![
        Message::text(Role::System, system_prompt_with(mode, "", config)),
        Message::text(
            Role::User,
            format!("{WARM_UP_MARKER}: nothing to do yet; reply OK."),
        ),
    ];
    let mut request = ChatRequest::new(config.model.clone(), messages);
    request.max_tokens = Some(1);
    request.temperature = Some(0.0);
    request.cache_slot = config.cache_slot;
    if mode != ActionMode::Json {
        request.tools = tool_specs();
    }
    request
}

fn target_of(action: &Action) -> String {
    ["path", "command", "pattern", "summary"]
        .iter()
        .find_map(|key| action.args.get(*key).and_then(|v| v.as_str()))
        .map(|text| text.chars().take(120).collect())
        .unwrap_or_default()
}

/// Runs one agent over `workspace` until it is done, out of budget, or failed.
pub async fn run_agent(
    client: &LlmClient,
    workspace: &Workspace,
    config: &AgentConfig,
    task: &str,
    events: &EventSink,
) -> AgentReport {
    let started = Instant::now();
    let mode = config.resolved_mode();
    events(&AgentEvent::Started {
        model: config.model.clone(),
        action_mode: mode,
        max_actions: config.max_actions,
        context_length: config.context_length,
    });
    let mut report = AgentReport::empty(Outcome::OutOfBudget, "");
    let mut watch = JudgeWatch::default();
    // `messages` is what the model sees (old tool results get shortened); `transcript` keeps
    // every message as it was, for the gym and for humans.
    let task_text = if config.preamble.is_some() {
        format!("{task}{}", owned_line(workspace))
    } else {
        task.to_string()
    };
    let mut messages = vec![
        Message::text(Role::System, system_prompt(mode, workspace, config)),
        Message::text(Role::User, task_text),
    ];
    let mut transcript = messages.clone();
    let mut tool_results: Vec<usize> = Vec::new();
    let mut budget = ContextBudget::new(config.context_length, u64::from(config.max_reply_tokens));
    let mut consecutive_malformed = 0;
    let mut pressure = Pressure::Estimate;
    // Every request either executes an action, counts a malformed reply, or shortens the
    // context; this cap makes termination certain whatever the server does.
    let max_requests = config.max_actions * 2 + config.max_consecutive_malformed + 4;
    let mut finished: Option<(Outcome, String)> = None;
    while finished.is_none()
        && (report.actions.len() as u32) < config.max_actions
        && report.requests < max_requests
    {
        let shortened = budget.fit(&mut messages, &tool_results, pressure);
        pressure = Pressure::Estimate;
        if shortened.messages > 0 {
            report.context_shortenings += shortened.messages as u32;
            events(&AgentEvent::ContextShortened {
                messages: shortened.messages,
                chars_removed: shortened.chars_removed,
            });
        }
        let mut request = ChatRequest::new(config.model.clone(), messages.clone());
        request.max_tokens = Some(config.max_reply_tokens);
        request.temperature = config.temperature;
        request.cache_slot = config.cache_slot;
        match mode {
            ActionMode::Json => request.response_format = Some(action_schema()),
            _ => request.tools = tool_specs(),
        }
        report.requests += 1;
        events(&AgentEvent::Request {
            number: report.requests,
            estimated_tokens: budget.estimate(&messages),
        });
        let reply = match client.chat(&request).await {
            Ok(reply) => reply,
            Err(LlmError::ContextOverflow { message, .. }) => {
                report.context_overflows += 1;
                events(&AgentEvent::ContextOverflow {
                    message: message.clone(),
                });
                if report.context_overflows > 3 {
                    report.error_kind = Some(crate::llm::ErrorKind::ContextOverflow);
                    finished = Some((
                        Outcome::Failed,
                        format!("context overflow persisted after shortening: {message}"),
                    ));
                } else {
                    pressure = Pressure::Overflowed;
                }
                continue;
            }
            Err(err) => {
                report.error_kind = Some(err.kind());
                finished = Some((Outcome::Failed, format!("model server failed: {err}")));
                continue;
            }
        };
        report.tokens_in += reply.usage.prompt_tokens;
        report.model_ms += reply.total_ms;
        report.server_retries += reply.retries;
        report.tokens_out += reply.usage.completion_tokens;
        budget.calibrate(&messages, reply.usage.prompt_tokens);
        events(&AgentEvent::Reply {
            tokens_in: reply.usage.prompt_tokens,
            tokens_out: reply.usage.completion_tokens,
            cached_tokens: reply.usage.cached_prompt_tokens,
            tokens_per_second: reply.usage.tokens_per_second,
            first_byte_ms: reply.first_byte_ms,
            total_ms: reply.total_ms,
            tool_calls: reply.tool_calls.len(),
            recovered_from_text: reply.tool_call_source
                == Some(crate::llm::ToolCallSource::RecoveredFromText),
        });
        let parsed = actions_from_reply(&reply, report.requests as usize).and_then(|actions| {
            if actions.is_empty() {
                Err("your reply holds no action".to_string())
            } else {
                Ok(actions)
            }
        });
        let actions = match parsed {
            Ok(actions) => actions,
            Err(reason) => {
                report.malformed_replies += 1;
                consecutive_malformed += 1;
                events(&AgentEvent::MalformedReply {
                    reason: reason.clone(),
                });
                push(
                    &mut messages,
                    &mut transcript,
                    Message::text(Role::Assistant, reply.content.clone()),
                );
                push(
                    &mut messages,
                    &mut transcript,
                    Message::text(
                        Role::User,
                        format!("{reason}. Call done{{summary}} when the task is finished."),
                    ),
                );
                if consecutive_malformed >= config.max_consecutive_malformed {
                    finished = Some((
                        Outcome::Failed,
                        format!("the model gave {consecutive_malformed} replies in a row without a usable action"),
                    ));
                }
                continue;
            }
        };
        consecutive_malformed = 0;
        match mode {
            ActionMode::Json => push(
                &mut messages,
                &mut transcript,
                Message::text(Role::Assistant, reply.content.clone()),
            ),
            _ => push(
                &mut messages,
                &mut transcript,
                Message {
                    role: Role::Assistant,
                    content: reply.content.clone(),
                    tool_calls: actions
                        .iter()
                        .map(|a| ToolCall::new(a.id.clone(), a.tool.clone(), &a.args))
                        .collect(),
                    tool_call_id: None,
                },
            ),
        }
        for action in actions {
            if finished.is_some() || report.actions.len() as u32 >= config.max_actions {
                // Unexecuted calls still need an answer in the native protocol.
                if mode != ActionMode::Json {
                    push(
                        &mut messages,
                        &mut transcript,
                        Message::tool_result(action.id.clone(), "not executed"),
                    );
                }
                continue;
            }
            let allowed = config
                .allowed_tools
                .as_ref()
                .is_none_or(|tools| tools.iter().any(|t| t == &action.tool));
            let mut result = if allowed {
                execute(workspace, &config.run, &action.tool, &action.args).await
            } else {
                ToolResult {
                    output: format!("ERROR: the tool `{}` is not available to you", action.tool),
                    ok: false,
                    wrote: None,
                    done: None,
                }
            };
            let mut verdict = None;
            if let Some(rules) = &config.judge {
                verdict = watch.observe(rules, &action, &mut result, workspace);
            }
            let record = ActionRecord {
                index: report.actions.len() as u32 + 1,
                tool: action.tool.clone(),
                target: target_of(&action),
                wrote: result.wrote.is_some(),
                ok: result.ok,
                at_ms: started.elapsed().as_millis() as u64,
                unix_ms: unix_ms(),
            };
            events(&AgentEvent::Action(record.clone()));
            report.actions.push(record);
            if !result.ok {
                report.tool_errors += 1;
            }
            if let Some(path) = &result.wrote {
                report.files_written.insert(path.clone(), 0);
            }
            if let Some(summary) = result.done.clone() {
                finished = Some((Outcome::Done, summary));
            }
            if let Some(verdict) = verdict {
                report.judge_interventions += 1;
                events(&AgentEvent::Judge {
                    rule: verdict.rule.to_string(),
                    decision: if verdict.stop {
                        "stopped"
                    } else {
                        "refused_done"
                    }
                    .to_string(),
                    reason: verdict.reason.clone(),
                });
                if verdict.stop {
                    finished = Some((
                        Outcome::Stopped,
                        format!("the judge stopped the worker: {}", verdict.reason),
                    ));
                }
            }
            tool_results.push(messages.len());
            push(
                &mut messages,
                &mut transcript,
                match mode {
                    ActionMode::Json => Message::text(
                        Role::User,
                        format!("Result of {}:\n{}", action.tool, result.output),
                    ),
                    _ => Message::tool_result(action.id.clone(), result.output),
                },
            );
        }
    }
    let (outcome, summary) = finished.unwrap_or_else(|| {
        (
            Outcome::OutOfBudget,
            format!(
                "the action budget of {} ran out before done",
                config.max_actions
            ),
        )
    });
    // Sizes as they are on disk now: what the model wrote is what the report claims.
    for (path, size) in report.files_written.iter_mut() {
        *size = std::fs::metadata(workspace.root().join(path))
            .map(|m| m.len())
            .unwrap_or(0);
    }
    report.transcript = transcript;
    report.outcome = outcome;
    report.summary = summary.clone();
    report.wall_ms = started.elapsed().as_millis() as u64;
    events(&AgentEvent::Finished { outcome, summary });
    report
}
