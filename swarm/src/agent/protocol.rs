//! The two action protocols. `native`: tools are offered in the request and the model
//! answers with tool calls (or writes them as text, which the client recovers). `json`: one
//! action per turn, `{"tool": NAME, "args": {…}}`, constrained by a response_format JSON
//! schema with one branch per tool — even tiny models obey a grammar. `auto` picks from the
//! probe: native when the server says its template handles tools, JSON otherwise.

use super::tools::tool_specs;
pub use crate::fleet::ActionMode;
use crate::llm::{ChatResponse, JsonSchemaFormat};
use serde_json::{json, Value};

/// Name of the JSON-action schema (swarm-sim scenarios match replies on it).
pub const ACTION_SCHEMA_NAME: &str = "agent_action";

/// The response_format for JSON mode: one branch per tool.
pub fn action_schema() -> JsonSchemaFormat {
    let branches: Vec<Value> = tool_specs()
        .into_iter()
        .map(|tool| {
            json!({
                "type": "object",
                "properties": {"tool": {"const": tool.name}, "args": tool.parameters},
                "required": ["tool", "args"],
            })
        })
        .collect();
    JsonSchemaFormat {
        name: ACTION_SCHEMA_NAME.into(),
        schema: json!({"oneOf": branches}),
    }
}

/// One action the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Call id (native) or a generated one (JSON).
    pub id: String,
    /// Tool name.
    pub tool: String,
    /// Arguments object.
    pub args: Value,
}

/// Reads the actions of a reply. Native tool calls win; in JSON mode (or when a native-mode
/// model answered with a JSON action as text) the content is parsed as an action.
pub fn actions_from_reply(reply: &ChatResponse, turn: usize) -> Result<Vec<Action>, String> {
    if !reply.tool_calls.is_empty() {
        return reply
            .tool_calls
            .iter()
            .map(|call| {
                let args = serde_json::from_str::<Value>(&call.function.arguments).map_err(|err| {
                    format!(
                        "the arguments of your {} call are not valid JSON ({err}); send a JSON object",
                        call.function.name
                    )
                })?;
                Ok(Action { id: call.id.clone(), tool: call.function.name.clone(), args })
            })
            .collect();
    }
    if reply.all_reasoning {
        return Err("your reply held only reasoning and no action; answer with one action".into());
    }
    let value = first_json_object(&reply.content).ok_or_else(|| {
        if reply.content.trim().is_empty() {
            "your reply was empty; answer with one action".to_string()
        } else {
            "your reply holds no action; answer with one JSON object {\"tool\": NAME, \"args\": {...}}".to_string()
        }
    })?;
    let tool = value
        .get("tool")
        .or_else(|| value.get("name"))
        .or_else(|| value.get("action"))
        .and_then(Value::as_str)
        .ok_or_else(|| "the JSON has no \"tool\" field naming the tool to use".to_string())?;
    let args = value
        .get("args")
        .or_else(|| value.get("arguments"))
        .or_else(|| value.get("parameters"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let args = match args {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    };
    Ok(vec![Action {
        id: format!("json_{turn}"),
        tool: tool.to_string(),
        args,
    }])
}

/// The first JSON object in text, allowing a code fence or words around it.
pub fn first_json_object(text: &str) -> Option<Value> {
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find('{') {
        let start = search_from + offset;
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        if let Some(Ok(value)) = stream.next() {
            if value.is_object() {
                return Some(value);
            }
        }
        search_from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Backend, ModelInfo};
    use pretty_assertions::assert_eq;

    #[test]
    fn json_action_in_a_code_fence() {
        let reply = ChatResponse {
            content: "```json\n{\"tool\": \"write_file\", \"args\": {\"path\": \"a\", \"content\": \"b\"}}\n```".into(),
            ..ChatResponse::default()
        };
        assert_eq!(
            actions_from_reply(&reply, 3).unwrap(),
            vec![Action {
                id: "json_3".into(),
                tool: "write_file".into(),
                args: json!({"path":"a","content":"b"})
            }]
        );
    }

    #[test]
    fn prose_is_not_an_action() {
        let reply = ChatResponse {
            content: "I think I am finished.".into(),
            ..ChatResponse::default()
        };
        assert!(actions_from_reply(&reply, 1)
            .unwrap_err()
            .contains("no action"));
    }

    #[test]
    fn auto_follows_the_probe() {
        let probe = |tools| crate::llm::ProbeReport {
            url: "u".into(),
            backend: Backend::LlamaServer,
            models: vec![ModelInfo {
                id: "m".into(),
                supports_tools: tools,
                ..ModelInfo::default()
            }],
            slots: None,
            slots_busy: None,
            requests_waiting: None,
            health: None,
        };
        assert_eq!(
            ActionMode::Auto.resolve(Some(&probe(Some(true))), None),
            ActionMode::Native
        );
        assert_eq!(
            ActionMode::Auto.resolve(Some(&probe(None)), None),
            ActionMode::Json
        );
        assert_eq!(ActionMode::Native.resolve(None, None), ActionMode::Native);
    }

    #[test]
    fn schema_has_one_branch_per_tool() {
        let schema = action_schema().schema;
        assert_eq!(schema["oneOf"].as_array().unwrap().len(), 7);
    }
}
