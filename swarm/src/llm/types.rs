//! Wire types for OpenAI-compatible chat completions, kept small and tolerant: every field a
//! server may omit is optional, and what we send is only what every backend accepts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the whole conversation.
    System,
    /// The task giver (also where JSON-mode tool results go back).
    User,
    /// The model.
    Assistant,
    /// A native tool result, answering one tool call by id.
    Tool,
}

/// One chat message as sent to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// The text; servers accept an empty string for assistant turns that only call tools.
    pub content: String,
    /// Native tool calls made by an assistant turn (sent back so the model sees its history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the id of the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with only text.
    pub fn text(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
    /// A native tool result.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
        }
    }
}

/// A tool call as the wire carries it: `arguments` is a JSON *string*.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Server-chosen id (we invent one when the server gives none).
    pub id: String,
    /// Always "function".
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// Name and raw arguments.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".to_string()
}

/// The function part of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Tool name.
    pub name: String,
    /// Arguments as JSON text, exactly as the model produced them.
    pub arguments: String,
}

impl ToolCall {
    /// Builds a call from a name and already-parsed arguments.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: &Value) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_type(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.to_string(),
            },
        }
    }
}

/// A tool offered to the model (native protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Tool name the model calls.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON schema of the arguments object.
    pub parameters: Value,
}

/// Structured output: the reply must be JSON matching `schema`.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonSchemaFormat {
    /// Schema name; servers and swarm-sim scenarios use it to tell replies apart.
    pub name: String,
    /// The JSON schema.
    pub schema: Value,
}

/// One chat completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Model id as the server names it.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Native tools; empty means none offered.
    pub tools: Vec<ToolSpec>,
    /// Constrains the reply to a JSON schema.
    pub response_format: Option<JsonSchemaFormat>,
    /// Sampling temperature; `None` leaves the server default.
    pub temperature: Option<f32>,
    /// Cap on generated tokens.
    pub max_tokens: Option<u32>,
    /// Stream with SSE (lets the stall timeout see progress).
    pub stream: bool,
    /// llama-server only: the server slot to use, so that a conversation finds its own
    /// prompt in that slot's cache (sent as `id_slot` with `cache_prompt: true`).
    pub cache_slot: Option<u32>,
}

impl ChatRequest {
    /// A plain streaming request.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            tools: Vec::new(),
            response_format: None,
            temperature: None,
            max_tokens: None,
            stream: true,
            cache_slot: None,
        }
    }

    /// The JSON body sent to `/v1/chat/completions`.
    pub fn to_body(&self) -> Value {
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": self.messages,
            "stream": self.stream,
        });
        if self.stream {
            // Asks OpenAI-style servers for a final usage chunk; others ignore it.
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        if !self.tools.is_empty() {
            body["tools"] = Value::Array(
                self.tools
                    .iter()
                    .map(|tool| {
                        serde_json::json!({"type": "function", "function": {
                            "name": tool.name,
                            "description": tool.description,
                            "parameters": tool.parameters,
                        }})
                    })
                    .collect(),
            );
        }
        if let Some(format) = &self.response_format {
            body["response_format"] = serde_json::json!({
                "type": "json_schema",
                "json_schema": {"name": format.name, "strict": true, "schema": format.schema},
            });
        }
        if let Some(temperature) = self.temperature {
            body["temperature"] = serde_json::json!(temperature);
        }
        if let Some(max_tokens) = self.max_tokens {
            body["max_tokens"] = serde_json::json!(max_tokens);
        }
        if let Some(slot) = self.cache_slot {
            body["id_slot"] = serde_json::json!(slot);
            body["cache_prompt"] = serde_json::json!(true);
        }
        body
    }
}

/// Token accounting, read from whichever fields the backend fills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens processed (including cached ones).
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Prompt tokens served from the server's cache, when it says.
    pub cached_prompt_tokens: Option<u64>,
    /// Generation speed as the server measured it, when it says.
    pub tokens_per_second: Option<f64>,
    /// Prompt processing speed of the uncached prompt tokens, when the server says
    /// (llama-server's `timings.prompt_per_second`).
    #[serde(default)]
    pub prefill_tokens_per_second: Option<f64>,
}

/// How the model's tool calls reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallSource {
    /// The server's native `tool_calls` field.
    Native,
    /// Recovered from text in the content (Hermes, Qwen3-Coder, LM Studio, Mistral forms).
    RecoveredFromText,
}

/// A finished reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer, with reasoning and text tool calls taken out.
    pub content: String,
    /// Reasoning kept apart from the answer.
    pub reasoning: String,
    /// Tool calls, native or recovered.
    pub tool_calls: Vec<ToolCall>,
    /// Where `tool_calls` came from, when there are any.
    pub tool_call_source: Option<ToolCallSource>,
    /// Why generation stopped ("stop", "length", "tool_calls"); empty strings become `None`.
    pub finish_reason: Option<String>,
    /// Tokens and speed.
    pub usage: Usage,
    /// True when the reply was all reasoning: no answer and no tool call.
    pub all_reasoning: bool,
    /// Stream chunks that were not valid JSON and were skipped.
    pub malformed_chunks: u32,
    /// Failed attempts (server errors, dropped connections) retried before this reply.
    pub retries: u32,
    /// Milliseconds from sending to the first byte of the reply.
    pub first_byte_ms: u64,
    /// Milliseconds from sending to the end of the reply.
    pub total_ms: u64,
}
