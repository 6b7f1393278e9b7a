//! Assembles a reply from streamed chunks (or from one non-streamed body): content,
//! reasoning, tool calls accumulated from deltas, finish reason and usage.
//!
//! Tool-call deltas come in several shapes. OpenAI and llama-server send argument fragments
//! keyed by `index`, with `id` and `name` only on the first fragment. Ollama sends each call
//! whole in one chunk, sometimes without `index`. Some servers send `finish_reason: ""` on
//! every chunk. The rules below handle all of them: a fragment with an index goes to that
//! slot; without one, a new id or a new name opens a slot, anything else extends the last.

use super::reasoning::split_think;
use super::text_calls::recover_text_tool_calls;
use super::types::{ChatResponse, FunctionCall, ToolCall, ToolCallSource, Usage};
use serde_json::Value;

#[derive(Debug, Default, Clone)]
struct Slot {
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

/// What one chunk carried, for the stall accounting: tokens, or only a sign of life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// Content, reasoning or tool-call text arrived.
    Tokens,
    /// Nothing generated (a role header, progress, usage, an empty delta): alive, not a token.
    Alive,
}

/// Accumulates one reply.
#[derive(Debug, Default)]
pub struct ReplyAssembler {
    content: String,
    reasoning: String,
    slots: Vec<Slot>,
    finish_reason: Option<String>,
    usage: Usage,
}

impl ReplyAssembler {
    /// A fresh assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one streamed chunk (`{"choices":[{"delta":…}]…}`).
    pub fn push_chunk(&mut self, chunk: &Value) -> ChunkKind {
        self.read_usage(chunk);
        let mut kind = ChunkKind::Alive;
        let choices = chunk.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            if let Some(delta) = choice.get("delta").or_else(|| choice.get("message")) {
                if self.push_delta(delta) {
                    kind = ChunkKind::Tokens;
                }
            }
            self.read_finish_reason(choice);
        }
        // Ollama's native stream puts the message at the top level.
        if let Some(message) = chunk.get("message") {
            if self.push_delta(message) {
                kind = ChunkKind::Tokens;
            }
        }
        kind
    }

    /// Feeds a whole non-streamed body.
    pub fn push_full(&mut self, body: &Value) {
        self.push_chunk(body);
    }

    fn read_finish_reason(&mut self, choice: &Value) {
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            if !reason.is_empty() {
                self.finish_reason = Some(reason.to_string());
            }
        }
    }

    /// Returns whether the delta carried generated text.
    fn push_delta(&mut self, delta: &Value) -> bool {
        let mut generated = false;
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            generated |= !text.is_empty();
            self.content.push_str(text);
        }
        for field in ["reasoning_content", "reasoning", "thinking"] {
            if let Some(text) = delta.get(field).and_then(Value::as_str) {
                generated |= !text.is_empty();
                self.reasoning.push_str(text);
            }
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                generated |= self.push_tool_delta(call);
            }
        }
        generated
    }

    fn push_tool_delta(&mut self, call: &Value) -> bool {
        let index = call.get("index").and_then(Value::as_u64);
        let id = call.get("id").and_then(Value::as_str).unwrap_or("");
        let function = call.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let arguments = match function.and_then(|f| f.get("arguments")) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            // Some servers send the arguments as an object rather than JSON text.
            Some(other) => other.to_string(),
        };
        let position = match index {
            Some(index) => self.slots.iter().position(|slot| slot.index == Some(index)),
            None => {
                let last = self.slots.len().checked_sub(1);
                let opens_new = last.is_none_or(|last| {
                    let slot = &self.slots[last];
                    (!id.is_empty() && !slot.id.is_empty() && slot.id != id)
                        || (!name.is_empty() && !slot.name.is_empty())
                });
                if opens_new {
                    None
                } else {
                    last
                }
            }
        };
        let position = position.unwrap_or_else(|| {
            self.slots.push(Slot {
                index,
                ..Slot::default()
            });
            self.slots.len() - 1
        });
        let slot = &mut self.slots[position];
        if slot.id.is_empty() {
            slot.id = id.to_string();
        }
        if slot.name.is_empty() {
            slot.name = name.to_string();
        }
        slot.arguments.push_str(&arguments);
        !name.is_empty() || !arguments.is_empty()
    }

    fn read_usage(&mut self, chunk: &Value) {
        let number = |value: Option<&Value>| value.and_then(Value::as_u64);
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            if let Some(prompt) = number(usage.get("prompt_tokens")) {
                self.usage.prompt_tokens = prompt;
            }
            if let Some(completion) = number(usage.get("completion_tokens")) {
                self.usage.completion_tokens = completion;
            }
            let cached = usage
                .get("prompt_tokens_details")
                .and_then(|details| number(details.get("cached_tokens")));
            if cached.is_some() {
                self.usage.cached_prompt_tokens = cached;
            }
        }
        // llama-server: timings on the final chunk.
        if let Some(timings) = chunk.get("timings").filter(|t| t.is_object()) {
            if let Some(cache) = number(timings.get("cache_n")) {
                self.usage.cached_prompt_tokens = Some(cache);
            }
            if let Some(speed) = timings.get("predicted_per_second").and_then(Value::as_f64) {
                self.usage.tokens_per_second = Some(speed);
            }
            // Only a prefill of some length says how fast prefill is.
            if number(timings.get("prompt_n")).unwrap_or(0) > 0 {
                if let Some(speed) = timings.get("prompt_per_second").and_then(Value::as_f64) {
                    self.usage.prefill_tokens_per_second = Some(speed);
                }
            }
            if self.usage.completion_tokens == 0 {
                if let Some(predicted) = number(timings.get("predicted_n")) {
                    self.usage.completion_tokens = predicted;
                }
            }
            if self.usage.prompt_tokens == 0 {
                let prompt = number(timings.get("prompt_n")).unwrap_or(0)
                    + number(timings.get("cache_n")).unwrap_or(0);
                if prompt > 0 {
                    self.usage.prompt_tokens = prompt;
                }
            }
        }
        // LM Studio REST: stats.tokens_per_second.
        if let Some(speed) = chunk
            .get("stats")
            .and_then(|stats| stats.get("tokens_per_second"))
            .and_then(Value::as_f64)
        {
            self.usage.tokens_per_second = Some(speed);
        }
        // Ollama native: eval_count over eval_duration (nanoseconds).
        if let (Some(count), Some(duration)) = (
            number(chunk.get("eval_count")),
            number(chunk.get("eval_duration")),
        ) {
            self.usage.completion_tokens = count;
            if duration > 0 {
                self.usage.tokens_per_second = Some(count as f64 * 1e9 / duration as f64);
            }
            if let Some(prompt) = number(chunk.get("prompt_eval_count")) {
                self.usage.prompt_tokens = prompt;
            }
        }
    }

    /// The finished reply: reasoning split out, text tool calls recovered when no native
    /// ones came.
    pub fn finish(self) -> ChatResponse {
        let (think, answer) = split_think(&self.content);
        let mut reasoning = self.reasoning;
        if !think.is_empty() {
            if !reasoning.is_empty() {
                reasoning.push('\n');
            }
            reasoning.push_str(&think);
        }
        let mut tool_calls: Vec<ToolCall> = self
            .slots
            .into_iter()
            .enumerate()
            .filter(|(_, slot)| !slot.name.trim().is_empty())
            .map(|(position, slot)| ToolCall {
                id: if slot.id.is_empty() {
                    format!("call_{position}")
                } else {
                    slot.id
                },
                kind: "function".into(),
                function: FunctionCall {
                    name: slot.name.trim().to_string(),
                    arguments: if slot.arguments.trim().is_empty() {
                        "{}".into()
                    } else {
                        slot.arguments
                    },
                },
            })
            .collect();
        let mut content = answer;
        let mut source = (!tool_calls.is_empty()).then_some(ToolCallSource::Native);
        if tool_calls.is_empty() {
            if let Some((rest, calls)) = recover_text_tool_calls(&content) {
                content = rest;
                tool_calls = calls;
                source = Some(ToolCallSource::RecoveredFromText);
            }
        }
        let all_reasoning =
            content.trim().is_empty() && tool_calls.is_empty() && !reasoning.trim().is_empty();
        ChatResponse {
            content,
            reasoning,
            tool_calls,
            tool_call_source: source,
            finish_reason: self.finish_reason,
            usage: self.usage,
            all_reasoning,
            malformed_chunks: 0,
            retries: 0,
            first_byte_ms: 0,
            total_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn assemble(chunks: &[Value]) -> ChatResponse {
        let mut assembler = ReplyAssembler::new();
        for chunk in chunks {
            assembler.push_chunk(chunk);
        }
        assembler.finish()
    }

    fn call_pairs(response: &ChatResponse) -> Vec<(String, String, String)> {
        response
            .tool_calls
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.function.name.clone(),
                    c.function.arguments.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn fragments_keyed_by_index_with_id_only_first() {
        let response = assemble(&[
            json!({"choices":[{"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"write_file","arguments":""}}]},"finish_reason":""}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]},"finish_reason":""}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"c2","function":{"name":"done","arguments":"{}"}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.py\"}"}}]}}]}),
            json!({"choices":[{"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":50,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":32}}}),
        ]);
        assert_eq!(
            call_pairs(&response),
            vec![
                (
                    "c1".into(),
                    "write_file".into(),
                    "{\"path\":\"a.py\"}".into()
                ),
                ("c2".into(), "done".into(), "{}".into()),
            ]
        );
        assert_eq!(response.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(response.tool_call_source, Some(ToolCallSource::Native));
        assert_eq!(
            response.usage,
            Usage {
                prompt_tokens: 50,
                completion_tokens: 9,
                cached_prompt_tokens: Some(32),
                tokens_per_second: None,
                prefill_tokens_per_second: None,
            }
        );
    }

    #[test]
    fn ollama_whole_calls_without_index() {
        let response = assemble(&[json!({"choices":[{"delta":{"tool_calls":[
            {"id":"call_a","function":{"name":"read_file","arguments":"{\"path\":\"x\"}"}},
            {"id":"call_b","function":{"name":"list_files","arguments":"{}"}}
        ]},"finish_reason":"tool_calls"}]})]);
        assert_eq!(
            call_pairs(&response),
            vec![
                (
                    "call_a".into(),
                    "read_file".into(),
                    "{\"path\":\"x\"}".into()
                ),
                ("call_b".into(), "list_files".into(), "{}".into()),
            ]
        );
    }

    #[test]
    fn missing_index_fragments_extend_the_last_call() {
        let response = assemble(&[
            json!({"choices":[{"delta":{"tool_calls":[{"function":{"name":"run","arguments":"{\"comm"}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"and\":\"ls\"}"}}]}}]}),
        ]);
        assert_eq!(
            call_pairs(&response),
            vec![("call_0".into(), "run".into(), "{\"command\":\"ls\"}".into())]
        );
        assert_eq!(response.finish_reason, None);
    }

    #[test]
    fn reasoning_fields_and_think_tags_are_kept_apart() {
        let response = assemble(&[
            json!({"choices":[{"delta":{"reasoning_content":"first "}}]}),
            json!({"choices":[{"delta":{"reasoning":"second"}}]}),
            json!({"choices":[{"delta":{"content":"<think>third</think>answer"}}]}),
        ]);
        assert_eq!(
            (
                response.reasoning.as_str(),
                response.content.as_str(),
                response.all_reasoning
            ),
            ("first second\nthird", "answer", false)
        );
    }

    #[test]
    fn all_reasoning_reply_is_flagged() {
        let response = assemble(&[json!({"choices":[{"delta":{"content":"<think>never ends"}}]})]);
        assert!(response.all_reasoning);
        assert_eq!(response.content, "");
    }

    #[test]
    fn llama_server_timings_give_speed_and_cache() {
        let response = assemble(&[
            json!({"choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}],
            "timings":{"cache_n":120,"prompt_n":8,"predicted_n":2,"predicted_per_second":41.5,"prompt_per_second":640.0}}),
        ]);
        assert_eq!(
            response.usage,
            Usage {
                prompt_tokens: 128,
                completion_tokens: 2,
                cached_prompt_tokens: Some(120),
                tokens_per_second: Some(41.5),
                prefill_tokens_per_second: Some(640.0),
            }
        );
    }

    #[test]
    fn text_tool_calls_are_recovered_when_no_native_ones() {
        let response = assemble(&[
            json!({"choices":[{"message":{"content":"<tool_call>{\"name\":\"done\",\"arguments\":{\"summary\":\"ok\"}}</tool_call>"},"finish_reason":"stop"}]}),
        ]);
        assert_eq!(
            response.tool_call_source,
            Some(ToolCallSource::RecoveredFromText)
        );
        assert_eq!(response.tool_calls[0].function.name, "done");
    }
}
