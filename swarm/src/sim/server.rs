//! The simulated servers: one HTTP listener per node, speaking enough of llama-server's API
//! (`/v1/chat/completions` streamed or not, `/v1/models`, `/props`, `/slots`, `/health`) for
//! the client, the probes and the agent to treat it as a real backend.
//!
//! Per request: estimate the prompt, refuse it as a context overflow when it does not fit,
//! pick the first matching rule with uses left, wait for a free slot, wait the prefill time,
//! then stream the reply at the node's speed, applying the rule's fault.

use super::render::{pieces, render, token_estimate, RequestShape};
use super::scenario::{Fault, NodeSpec, Scenario, When};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};

/// A request the fleet served, for tests and reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServedRequest {
    /// Node that served it.
    pub node: String,
    /// Conversation turn (1 + assistant messages).
    pub turn: u32,
    /// response_format schema name.
    pub schema: Option<String>,
    /// Whether tools were offered.
    pub tools: bool,
    /// Index of the rule that answered (None: default reply or no match).
    pub rule: Option<usize>,
    /// Estimated prompt tokens.
    pub prompt_tokens: u64,
}

struct Shared {
    scenario: Scenario,
    uses: Mutex<Vec<u32>>,
    log: Mutex<Vec<ServedRequest>>,
}

#[derive(Clone)]
struct NodeState {
    spec: NodeSpec,
    slots: Arc<Semaphore>,
    shared: Arc<Shared>,
    /// The prompt each slot last held (its prompt cache). A request naming `id_slot` uses
    /// that slot; one that does not is served from slot 0, as a server keeping no
    /// conversation on a slot would be.
    cache: Arc<Mutex<Vec<String>>>,
}

/// One running node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNode {
    /// Its name in the scenario.
    pub name: String,
    /// Base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The model it serves.
    pub model: String,
}

/// A running simulated fleet; the servers stop when it is dropped.
pub struct SimFleet {
    /// The nodes, in scenario order.
    pub nodes: Vec<SimNode>,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SimFleet {
    /// Binds every node (on `host`) and starts serving.
    pub async fn start(scenario: Scenario, host: &str) -> std::io::Result<SimFleet> {
        let shared = Arc::new(Shared {
            uses: Mutex::new(vec![0; scenario.rules.len()]),
            log: Mutex::new(Vec::new()),
            scenario,
        });
        let mut nodes = Vec::new();
        let mut tasks = Vec::new();
        for spec in shared.scenario.nodes.clone() {
            let listener = tokio::net::TcpListener::bind((host, spec.port)).await?;
            let address = listener.local_addr()?;
            let state = NodeState {
                slots: Arc::new(Semaphore::new(spec.slots as usize)),
                spec: spec.clone(),
                shared: shared.clone(),
                cache: Arc::new(Mutex::new(vec![String::new(); spec.slots.max(1) as usize])),
            };
            let app = Router::new()
                .route("/v1/chat/completions", post(chat))
                .route("/chat/completions", post(chat))
                .route("/v1/models", get(models))
                .route("/props", get(props))
                .route("/slots", get(slots))
                .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
                .with_state(state);
            tasks.push(tokio::spawn(async move {
                // The server ends only when the fleet is dropped (the task is aborted).
                let _ = axum::serve(listener, app).await;
            }));
            nodes.push(SimNode {
                name: spec.name,
                url: format!("http://{address}"),
                model: spec.model,
            });
        }
        Ok(SimFleet {
            nodes,
            shared,
            tasks,
        })
    }

    /// The URL of the node called `name`.
    pub fn url(&self, name: &str) -> Option<&str> {
        self.nodes
            .iter()
            .find(|node| node.name == name)
            .map(|node| node.url.as_str())
    }

    /// Requests served so far.
    pub fn served(&self) -> Vec<ServedRequest> {
        self.shared
            .log
            .lock()
            .map(|log| log.clone())
            .unwrap_or_default()
    }
}

impl Drop for SimFleet {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The node's model, then every model its rules answer as (one server answering as several
/// models, like LM Studio with more than one loaded).
async fn models(State(state): State<NodeState>) -> Json<Value> {
    let mut ids = vec![state.spec.model.clone()];
    for rule in &state.shared.scenario.rules {
        let here = rule.node.as_deref().is_none_or(|n| n == state.spec.name);
        if let Some(model) = rule.when.model.as_ref().filter(|_| here) {
            if !ids.contains(model) {
                ids.push(model.clone());
            }
        }
    }
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "owned_by": "swarm-sim"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

async fn props(State(state): State<NodeState>) -> Json<Value> {
    Json(json!({
        "default_generation_settings": {"n_ctx": state.spec.context_length},
        "total_slots": state.spec.slots,
        "model_alias": state.spec.model,
        "model_path": format!("swarm-sim/{}", state.spec.model),
        "chat_template_caps": {"supports_tools": state.spec.supports_tools},
        "build_info": "swarm-sim",
    }))
}

async fn slots(State(state): State<NodeState>) -> Json<Value> {
    let free = state.slots.available_permits() as u32;
    let busy = state.spec.slots.saturating_sub(free);
    Json(Value::Array(
        (0..state.spec.slots)
            .map(|id| json!({"id": id, "is_processing": id < busy}))
            .collect(),
    ))
}

fn error_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn message_texts(body: &Value) -> Vec<String> {
    body.get("messages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    let content = match m.get("content") {
                        Some(Value::String(text)) => text.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    };
                    let calls = m
                        .get("tool_calls")
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    format!("{content}{calls}")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn matches(when: &When, schema: Option<&str>, tools: bool, turn: u32, texts: &[String]) -> bool {
    when.schema
        .as_deref()
        .is_none_or(|want| schema == Some(want))
        && when.tools.is_none_or(|want| want == tools)
        && when.turn.is_none_or(|want| want == turn)
        && when
            .contains
            .as_deref()
            .is_none_or(|want| texts.iter().any(|t| t.contains(want)))
        && when
            .contains_all
            .iter()
            .all(|want| texts.iter().any(|t| t.contains(want.as_str())))
        && when
            .last_contains
            .as_deref()
            .is_none_or(|want| texts.last().is_some_and(|t| t.contains(want)))
}

async fn chat(State(state): State<NodeState>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": 400, "message": "body is not JSON", "type": "invalid_request_error"}}),
        );
    };
    let texts = message_texts(&body);
    let turn = 1 + body
        .get("messages")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
                .count()
        })
        .unwrap_or(0) as u32;
    let schema = body
        .get("response_format")
        .and_then(|f| f.get("json_schema"))
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .map(String::from);
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let prompt_tokens = texts.iter().map(|t| token_estimate(t) + 4).sum::<u64>()
        + body
            .get("tools")
            .map(|t| token_estimate(&t.to_string()))
            .unwrap_or(0);
    let cached_tokens = cached(&state, &body, &texts, prompt_tokens);
    // A cache warm-up is answered "OK" as any server would, without spending a rule.
    let warm_up = texts
        .last()
        .is_some_and(|t| t.starts_with(crate::agent::WARM_UP_MARKER));
    let scenario = &state.shared.scenario;
    let chosen = if warm_up {
        None
    } else {
        let Ok(mut uses) = state.shared.uses.lock() else {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": {"message": "swarm-sim state poisoned"}}),
            );
        };
        let found = scenario.rules.iter().enumerate().find(|(index, rule)| {
            rule.node.as_deref().is_none_or(|n| n == state.spec.name)
                && rule.times.is_none_or(|times| uses[*index] < times)
                && rule
                    .when
                    .model
                    .as_deref()
                    .is_none_or(|want| body.get("model").and_then(Value::as_str) == Some(want))
                && matches(&rule.when, schema.as_deref(), tools, turn, &texts)
        });
        found.map(|(index, rule)| {
            uses[index] += 1;
            (index, rule.reply.clone(), rule.fault.clone())
        })
    };
    // The log is of the scripted conversation; warm-ups are not in it.
    if !warm_up {
        if let Ok(mut log) = state.shared.log.lock() {
            log.push(ServedRequest {
                node: state.spec.name.clone(),
                turn,
                schema: schema.clone(),
                tools,
                rule: chosen.as_ref().map(|(index, _, _)| *index),
                prompt_tokens,
            });
        }
    }
    if prompt_tokens > state.spec.context_length {
        return overflow(prompt_tokens, state.spec.context_length);
    }
    let (reply, fault) = match chosen {
        Some((_, reply, fault)) => (reply, fault),
        None if warm_up => (
            super::scenario::Reply {
                content: Some("OK".into()),
                ..Default::default()
            },
            Fault::default(),
        ),
        None => match &scenario.default_reply {
            Some(reply) => (reply.clone(), Fault::default()),
            None => {
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": {"code": 500, "message": format!(
                        "swarm-sim: no rule matched on node {} (turn {turn}, schema {}, tools {tools}) and the scenario has no default_reply",
                        state.spec.name, schema.as_deref().unwrap_or("none"))}}),
                )
            }
        },
    };
    if fault.http_500 {
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": {"code": 500, "message": "swarm-sim: simulated server error"}}),
        );
    }
    if fault.context_overflow {
        return overflow(
            prompt_tokens.max(state.spec.context_length + 1),
            state.spec.context_length,
        );
    }
    let shape = RequestShape {
        has_schema: schema.is_some(),
        has_tools: tools,
    };
    let rendered = render(&reply, &fault, shape);
    let plan = StreamPlan {
        state: state.clone(),
        rendered,
        fault,
        prompt_tokens,
        cached_tokens,
    };
    if stream {
        stream_reply(plan)
    } else {
        whole_reply(plan).await
    }
}

fn overflow(prompt_tokens: u64, context_length: u64) -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        json!({"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it",
            "type": "exceed_context_size_error", "n_prompt_tokens": prompt_tokens, "n_ctx": context_length}}),
    )
}

struct StreamPlan {
    state: NodeState,
    rendered: super::render::Rendered,
    fault: Fault,
    prompt_tokens: u64,
    /// Of those, found in the slot's cache (not prefilled again).
    cached_tokens: u64,
}

/// Prompt tokens the request finds in its slot's cache: the longest common prefix with what
/// the slot held, in proportion to the prompt's tokens. The slot then holds this prompt.
fn cached(state: &NodeState, body: &Value, texts: &[String], prompt_tokens: u64) -> u64 {
    let slot = body.get("id_slot").and_then(Value::as_u64).unwrap_or(0) as usize;
    let prompt = texts.concat();
    let Ok(mut cache) = state.cache.lock() else {
        return 0;
    };
    let Some(held) = cache.get_mut(slot) else {
        return 0;
    };
    let common = held
        .bytes()
        .zip(prompt.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let share = if prompt.is_empty() {
        0.0
    } else {
        common as f64 / prompt.len() as f64
    };
    *held = prompt;
    (prompt_tokens as f64 * share) as u64
}

impl StreamPlan {
    fn prefill(&self) -> Duration {
        let uncached = self.prompt_tokens.saturating_sub(self.cached_tokens);
        let prefill = uncached as f64 / self.state.spec.prefill_tokens_per_second;
        Duration::from_secs_f64(prefill)
            + Duration::from_millis(self.fault.first_byte_delay_ms.unwrap_or(0))
    }

    fn token_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.state.spec.tokens_per_second)
    }

    /// The chunks of the stream, in order, each counting as one token.
    fn chunks(&self) -> Vec<Value> {
        let mut chunks = Vec::new();
        let delta = |delta: Value| json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
        for piece in pieces(&self.rendered.reasoning) {
            chunks.push(delta(json!({"reasoning_content": piece})));
        }
        for piece in pieces(&self.rendered.content) {
            chunks.push(delta(json!({"content": piece})));
        }
        for (index, (id, name, args)) in self.rendered.tool_calls.iter().enumerate() {
            chunks.push(delta(json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]})));
            for piece in pieces(args) {
                chunks.push(delta(
                    json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                ));
            }
        }
        chunks
    }

    fn usage(&self, completion: u64, elapsed: Duration) -> (Value, Value) {
        let per_second = completion as f64 / elapsed.as_secs_f64().max(1e-3);
        (
            json!({"prompt_tokens": self.prompt_tokens, "completion_tokens": completion, "total_tokens": self.prompt_tokens + completion,
                "prompt_tokens_details": {"cached_tokens": self.cached_tokens}}),
            json!({"prompt_n": self.prompt_tokens.saturating_sub(self.cached_tokens), "cache_n": self.cached_tokens, "predicted_n": completion, "predicted_per_second": per_second,
                "prompt_per_second": self.state.spec.prefill_tokens_per_second}),
        )
    }

    fn finish_reason(&self) -> &'static str {
        if self.rendered.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
    }
}

fn stream_reply(plan: StreamPlan) -> Response {
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        let Ok(_permit) = plan.state.slots.clone().acquire_owned().await else {
            return;
        };
        let prefill_done = Instant::now() + plan.prefill();
        if let Some(every) = plan.fault.keepalive_ms.filter(|ms| *ms > 0) {
            while Instant::now() + Duration::from_millis(every) < prefill_done {
                tokio::time::sleep(Duration::from_millis(every)).await;
                if sender
                    .send(Ok(Bytes::from_static(b": keep-alive\n\n")))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        tokio::time::sleep_until(prefill_done.into()).await;
        let send = |text: String| sender.send(Ok(Bytes::from(text)));
        if plan.fault.garbage {
            let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
            for _ in 0..4 {
                let bytes: Vec<u8> = (0..48)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed & 0xff) as u8
                    })
                    .filter(|b| *b != b'\n' && *b != b'\r')
                    .collect();
                let mut event = b"data: ".to_vec();
                event.extend_from_slice(&bytes);
                event.extend_from_slice(b"\n\n");
                if sender.send(Ok(Bytes::from(event))).await.is_err() {
                    return;
                }
            }
            let _ = send("data: [DONE]\n\n".into()).await;
            return;
        }
        let started = Instant::now();
        let interval = plan.token_interval();
        let role = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": null}]});
        if send(format!("data: {role}\n\n")).await.is_err() {
            return;
        }
        let chunks = plan.chunks();
        for (number, chunk) in chunks.iter().enumerate() {
            if plan.fault.stall_after_tokens == Some(number as u32) {
                // Silence while keeping the connection open, until the client gives up.
                tokio::select! {
                    _ = sender.closed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                }
                return;
            }
            if plan.fault.drop_after_tokens == Some(number as u32) {
                let _ = sender
                    .send(Err(std::io::Error::other(
                        "swarm-sim: simulated dropped connection",
                    )))
                    .await;
                return;
            }
            if plan.fault.pause_after_tokens == Some(number as u32) {
                let pause = Duration::from_millis(plan.fault.pause_ms.unwrap_or(0));
                tokio::select! {
                    _ = sender.closed() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
            let due = started + interval.mul_f64(number as f64 + 1.0);
            tokio::time::sleep_until(due.into()).await;
            if send(format!("data: {chunk}\n\n")).await.is_err() {
                return;
            }
        }
        let (usage, timings) = plan.usage(chunks.len() as u64, started.elapsed());
        let last = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": plan.finish_reason()}], "usage": usage, "timings": timings});
        let _ = send(format!("data: {last}\n\ndata: [DONE]\n\n")).await;
    });
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn whole_reply(plan: StreamPlan) -> Response {
    let Ok(_permit) = plan.state.slots.clone().acquire_owned().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    tokio::time::sleep(plan.prefill()).await;
    let started = Instant::now();
    let tokens = plan.chunks().len() as u64;
    if plan.fault.stall_after_tokens.is_some() || plan.fault.drop_after_tokens.is_some() {
        // Without streaming, a stall or a drop looks like a reply that never comes.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if plan.fault.pause_after_tokens.is_some() {
        tokio::time::sleep(Duration::from_millis(plan.fault.pause_ms.unwrap_or(0))).await;
    }
    if plan.fault.garbage {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "\u{0}\u{1}garbage{{{",
        )
            .into_response();
    }
    tokio::time::sleep(plan.token_interval().mul_f64(tokens as f64)).await;
    let (usage, timings) = plan.usage(tokens, started.elapsed());
    let calls: Vec<Value> = plan
        .rendered
        .tool_calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    let mut message = json!({"role": "assistant", "content": plan.rendered.content});
    if !plan.rendered.reasoning.is_empty() {
        message["reasoning_content"] = json!(plan.rendered.reasoning);
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    Json(
        json!({"object": "chat.completion", "model": plan.state.spec.model,
        "choices": [{"index": 0, "message": message, "finish_reason": plan.finish_reason()}],
        "usage": usage, "timings": timings}),
    )
    .into_response()
}
