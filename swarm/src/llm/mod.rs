//! A client for OpenAI-compatible local model servers (LM Studio, Ollama, llama-server,
//! vLLM): chat completions streamed or not, tool calls native or written as text, reasoning
//! kept apart, JSON-schema output, typed errors and backend probes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), swarm::llm::LlmError> {
//! use swarm::llm::{ChatRequest, ClientConfig, LlmClient, Message, Role};
//! let client = LlmClient::new(ClientConfig::new("http://127.0.0.1:8080"))?;
//! let reply = client
//!     .chat(&ChatRequest::new("default", vec![Message::text(Role::User, "hi")]))
//!     .await?;
//! println!("{}", reply.content);
//! # Ok(()) }
//! ```

mod assemble;
mod client;
mod error;
mod probe;
mod reasoning;
mod sse;
mod text_calls;
mod types;

pub use assemble::{ChunkKind, ReplyAssembler};
pub use client::{normalize_base_url, ClientConfig, LlmClient, Notices};
pub use error::{
    classify_http_error, detect_context_overflow, error_in_payload, ErrorKind, LlmError,
};
pub use probe::{
    parse_llama_props, parse_llama_slots, parse_lmstudio_models, parse_ollama, parse_openai_models,
    parse_vllm_metrics, probe, Backend, ModelInfo, ProbeReport,
};
pub use reasoning::split_think;
pub use sse::{SseDecoder, SseItem};
pub use text_calls::recover_text_tool_calls;
pub use types::{
    ChatRequest, ChatResponse, FunctionCall, JsonSchemaFormat, Message, Role, ToolCall,
    ToolCallSource, ToolSpec, Usage,
};
