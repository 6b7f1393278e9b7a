//! Turns a scripted reply into what a server would send: the pieces of a stream (reasoning,
//! content, tool-call fragments), or one JSON body. Faults that change the text (tool calls
//! written as text, reasoning in tags) are applied here.

use super::scenario::{Fault, Reply, ScriptedCall, TextDialect};
use serde_json::{json, Value};

/// A reply as text pieces, before timing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// Reasoning text (sent as `reasoning_content`).
    pub reasoning: String,
    /// Answer text.
    pub content: String,
    /// Native tool calls: (id, name, arguments JSON text).
    pub tool_calls: Vec<(String, String, String)>,
}

/// What the request looked like, as far as rendering cares.
#[derive(Debug, Clone, Copy)]
pub struct RequestShape {
    /// It carried a response_format (JSON mode).
    pub has_schema: bool,
    /// It offered native tools.
    pub has_tools: bool,
}

/// Applies the protocol and the text faults.
pub fn render(reply: &Reply, fault: &Fault, shape: RequestShape) -> Rendered {
    let mut out = Rendered {
        reasoning: reply.reasoning.clone().unwrap_or_default(),
        ..Rendered::default()
    };
    let native = |calls: &[ScriptedCall]| {
        calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                (
                    format!("call_sim_{i}"),
                    call.tool.clone(),
                    call.args.to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    if let Some(action) = &reply.action {
        if shape.has_tools && !shape.has_schema {
            out.tool_calls = native(std::slice::from_ref(action));
        } else {
            out.content = json!({"tool": action.tool, "args": action.args}).to_string();
        }
    } else if let Some(calls) = &reply.tool_calls {
        out.tool_calls = native(calls);
    } else if let Some(value) = &reply.json {
        out.content = value.to_string();
    } else if let Some(text) = &reply.content {
        out.content = text.clone();
    }
    if let Some(dialect) = fault.text_tool_calls {
        let written: Vec<String> = out
            .tool_calls
            .drain(..)
            .map(|(_, name, args)| as_text(dialect, &name, &args))
            .collect();
        out.content = format!("{}{}", out.content, written.join("\n"));
    }
    if fault.reasoning_tags {
        let thought = if out.reasoning.is_empty() {
            "Let me work through this."
        } else {
            &out.reasoning
        };
        out.content = format!("<think>\n{thought}\n</think>\n\n{}", out.content);
        out.reasoning.clear();
    }
    out
}

fn as_text(dialect: TextDialect, name: &str, args: &str) -> String {
    let parsed: Value = serde_json::from_str(args).unwrap_or(Value::Null);
    let object = json!({"name": name, "arguments": parsed});
    match dialect {
        TextDialect::Hermes => format!("<tool_call>\n{object}\n</tool_call>"),
        TextDialect::Lmstudio => format!("[TOOL_REQUEST]{object}[END_TOOL_REQUEST]"),
        TextDialect::Mistral => format!("[TOOL_CALLS][{object}]"),
        TextDialect::Qwen3Coder => {
            let params: String = parsed
                .as_object()
                .map(|map| {
                    map.iter()
                        .map(|(key, value)| {
                            let text = value
                                .as_str()
                                .map(String::from)
                                .unwrap_or_else(|| value.to_string());
                            format!("<parameter={key}>\n{text}\n</parameter>\n")
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>")
        }
    }
}

/// Splits text into stream pieces of about four characters (a token's worth).
pub fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(4)
        .map(|chunk| chunk.iter().collect())
        .collect()
}

/// Rough token count of text, as the sim charges it.
pub fn token_estimate(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::recover_text_tool_calls;

    #[test]
    fn text_dialects_round_trip_through_the_client_recovery() {
        let reply = Reply {
            tool_calls: Some(vec![ScriptedCall {
                tool: "write_file".into(),
                args: json!({"path": "a.py", "content": "x = 1"}),
            }]),
            ..Reply::default()
        };
        for dialect in [
            TextDialect::Hermes,
            TextDialect::Qwen3Coder,
            TextDialect::Lmstudio,
            TextDialect::Mistral,
        ] {
            let fault = Fault {
                text_tool_calls: Some(dialect),
                ..Fault::default()
            };
            let rendered = render(
                &reply,
                &fault,
                RequestShape {
                    has_schema: false,
                    has_tools: true,
                },
            );
            assert!(rendered.tool_calls.is_empty());
            let (_, calls) = recover_text_tool_calls(&rendered.content).expect("recovered");
            let args: Value = serde_json::from_str(&calls[0].function.arguments).unwrap();
            assert_eq!(
                (calls[0].function.name.as_str(), args),
                ("write_file", json!({"path": "a.py", "content": "x = 1"})),
                "{dialect:?}"
            );
        }
    }

    #[test]
    fn actions_follow_the_request_protocol() {
        let reply = Reply {
            action: Some(ScriptedCall {
                tool: "done".into(),
                args: json!({"summary": "s"}),
            }),
            ..Reply::default()
        };
        let json_mode = render(
            &reply,
            &Fault::default(),
            RequestShape {
                has_schema: true,
                has_tools: false,
            },
        );
        assert_eq!(
            json_mode.content,
            r#"{"args":{"summary":"s"},"tool":"done"}"#
        );
        let native = render(
            &reply,
            &Fault::default(),
            RequestShape {
                has_schema: false,
                has_tools: true,
            },
        );
        assert_eq!(native.tool_calls[0].1, "done");
    }
}
