//! Recovers tool calls that a model wrote as text in its content instead of the native
//! `tool_calls` field: what happens when a server's template does not parse the model's
//! tool syntax. Four dialects are recognised:
//!
//! - Hermes / Qwen2.5: `<tool_call>{"name": …, "arguments": {…}}</tool_call>`
//! - Qwen3-Coder: `<function=NAME><parameter=KEY>VALUE</parameter>…</function>`
//!   (optionally inside `<tool_call>`)
//! - LM Studio: `[TOOL_REQUEST]{"name": …, "arguments": {…}}[END_TOOL_REQUEST]`
//! - Mistral: `[TOOL_CALLS][{"name": …, "arguments": {…}}]` or `[TOOL_CALLS]NAME[ARGS]{…}`
//!
//! Whatever is not a call stays as content. Nothing here panics on any input.

use super::types::ToolCall;
use serde_json::{Map, Value};

/// Calls found in `content` and the content left once they are taken out. Returns `None`
/// when the content holds no recognisable call.
pub fn recover_text_tool_calls(content: &str) -> Option<(String, Vec<ToolCall>)> {
    let mut calls = Vec::new();
    let mut rest = String::new();
    let mut cursor = content;
    loop {
        let Some((start, dialect)) = next_marker(cursor) else {
            rest.push_str(cursor);
            break;
        };
        rest.push_str(&cursor[..start]);
        let after = &cursor[start..];
        match dialect.parse(after, calls.len()) {
            Some((found, consumed)) => {
                calls.extend(found);
                cursor = &after[consumed.min(after.len())..];
            }
            None => {
                // Not a call after all: keep the marker as text and move past it.
                let marker_len = dialect.marker().len().min(after.len());
                rest.push_str(&after[..marker_len]);
                cursor = &after[marker_len..];
            }
        }
    }
    if calls.is_empty() {
        None
    } else {
        Some((rest.trim().to_string(), calls))
    }
}

#[derive(Clone, Copy)]
enum Dialect {
    Hermes,
    QwenCoder,
    LmStudio,
    Mistral,
}

impl Dialect {
    fn marker(self) -> &'static str {
        match self {
            Dialect::Hermes => "<tool_call>",
            Dialect::QwenCoder => "<function=",
            Dialect::LmStudio => "[TOOL_REQUEST]",
            Dialect::Mistral => "[TOOL_CALLS]",
        }
    }

    /// Parses calls at the start of `text` (which begins with the marker); returns the calls
    /// and how many bytes they took.
    fn parse(self, text: &str, numbered_from: usize) -> Option<(Vec<ToolCall>, usize)> {
        let body = &text[self.marker().len()..];
        let marker_len = self.marker().len();
        match self {
            Dialect::Hermes => {
                let (inner, used) = until_close(body, "</tool_call>");
                let inner_trimmed = inner.trim_start();
                let calls = if inner_trimmed.starts_with("<function=") {
                    parse_qwen_function(inner_trimmed, numbered_from).map(|(call, _)| vec![call])
                } else {
                    leading_json(inner)
                        .and_then(|(value, _)| calls_from_json(&value, numbered_from))
                }?;
                Some((calls, marker_len + used))
            }
            Dialect::QwenCoder => {
                let (call, used) = parse_qwen_function(text, numbered_from)?;
                Some((vec![call], used))
            }
            Dialect::LmStudio => {
                let (inner, used) = until_close(body, "[END_TOOL_REQUEST]");
                let (value, _) = leading_json(inner)?;
                Some((calls_from_json(&value, numbered_from)?, marker_len + used))
            }
            Dialect::Mistral => {
                let trimmed_start = body.len() - body.trim_start().len();
                let trimmed = body.trim_start();
                if trimmed.starts_with('[') || trimmed.starts_with('{') {
                    let (value, used) = leading_json(trimmed)?;
                    let calls = calls_from_json(&value, numbered_from)?;
                    return Some((calls, marker_len + trimmed_start + used));
                }
                // v11 form: NAME[ARGS]{json} (optionally NAME[CALL_ID]id[ARGS]{json})
                let args_at = trimmed.find("[ARGS]")?;
                let name = trimmed[..args_at].split("[CALL_ID]").next()?.trim();
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return None;
                }
                let after_args = &trimmed[args_at + "[ARGS]".len()..];
                let (args, used) = leading_json(after_args)?;
                let call = make_call(numbered_from, name, &args)?;
                Some((
                    vec![call],
                    marker_len + trimmed_start + args_at + "[ARGS]".len() + used,
                ))
            }
        }
    }
}

fn next_marker(text: &str) -> Option<(usize, Dialect)> {
    [
        Dialect::Hermes,
        Dialect::QwenCoder,
        Dialect::LmStudio,
        Dialect::Mistral,
    ]
    .into_iter()
    .filter_map(|dialect| text.find(dialect.marker()).map(|at| (at, dialect)))
    .min_by_key(|(at, _)| *at)
}

/// The text before `close` and the bytes consumed including `close`; an unclosed block runs
/// to the end (models often stop right after the call).
fn until_close<'a>(body: &'a str, close: &str) -> (&'a str, usize) {
    match body.find(close) {
        Some(at) => (&body[..at], at + close.len()),
        None => (body, body.len()),
    }
}

/// The first JSON value in `text` (after whitespace) and the bytes it took.
fn leading_json(text: &str) -> Option<(Value, usize)> {
    let skipped = text.len() - text.trim_start().len();
    let mut stream = serde_json::Deserializer::from_str(&text[skipped..]).into_iter::<Value>();
    let value = stream.next()?.ok()?;
    Some((value, skipped + stream.byte_offset()))
}

fn calls_from_json(value: &Value, numbered_from: usize) -> Option<Vec<ToolCall>> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let calls: Vec<ToolCall> = items
        .iter()
        .enumerate()
        .filter_map(|(offset, item)| {
            let object = item.as_object()?;
            // Some templates nest as {"function": {"name", "arguments"}}.
            let object = object
                .get("function")
                .and_then(Value::as_object)
                .unwrap_or(object);
            let name = object.get("name")?.as_str()?;
            let args = object
                .get("arguments")
                .or_else(|| object.get("parameters"))
                .cloned()
                .unwrap_or(Value::Object(Map::new()));
            make_call(numbered_from + offset, name, &args)
        })
        .collect();
    if calls.is_empty() {
        None
    } else {
        Some(calls)
    }
}

/// Arguments may come as an object or as a string holding JSON.
fn make_call(number: usize, name: &str, args: &Value) -> Option<ToolCall> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let args = match args {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
        other => other.clone(),
    };
    Some(ToolCall::new(format!("text_call_{number}"), name, &args))
}

/// Parses `<function=NAME> <parameter=K>V</parameter>… </function>` at the start of `text`.
fn parse_qwen_function(text: &str, number: usize) -> Option<(ToolCall, usize)> {
    let body = text.strip_prefix("<function=")?;
    let name_end = body.find('>')?;
    let name = body[..name_end].trim();
    if name.is_empty() || name.contains('<') {
        return None;
    }
    let mut cursor = name_end + 1;
    let mut args = Map::new();
    loop {
        let remaining = &body[cursor..];
        let trimmed = remaining.trim_start();
        let skipped = remaining.len() - trimmed.len();
        if let Some(after) = trimmed.strip_prefix("<parameter=") {
            let Some(key_end) = after.find('>') else {
                break;
            };
            let key = after[..key_end].trim().to_string();
            let value_start = &after[key_end + 1..];
            // A value ends at its closing tag, or where the next parameter or the function ends.
            let ends = ["</parameter>", "<parameter=", "</function>"];
            let (value_len, close_len) = ends
                .iter()
                .filter_map(|end| {
                    value_start
                        .find(end)
                        .map(|at| (at, if *end == "</parameter>" { end.len() } else { 0 }))
                })
                .min_by_key(|(at, _)| *at)
                .unwrap_or((value_start.len(), 0));
            let value = trim_one_newline(&value_start[..value_len]);
            args.insert(key, Value::String(value.to_string()));
            cursor += skipped + "<parameter=".len() + key_end + 1 + value_len + close_len;
        } else if let Some(_after) = trimmed.strip_prefix("</function>") {
            cursor += skipped + "</function>".len();
            break;
        } else {
            // Anything else ends the function (an unclosed call at the end of a reply).
            break;
        }
    }
    let consumed = "<function=".len() + cursor;
    // Swallow a closing </tool_call> that wraps it.
    let tail = &text[consumed.min(text.len())..];
    let extra = tail
        .trim_start()
        .strip_prefix("</tool_call>")
        .map(|_| tail.len() - tail.trim_start().len() + "</tool_call>".len())
        .unwrap_or(0);
    let call = make_call(number, name, &Value::Object(args))?;
    Some((call, consumed + extra))
}

fn trim_one_newline(value: &str) -> &str {
    let value = value.strip_prefix('\n').unwrap_or(value);
    value.strip_suffix('\n').unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn names_and_args(content: &str) -> (String, Vec<(String, Value)>) {
        let (rest, calls) = recover_text_tool_calls(content).expect("calls");
        let pairs = calls
            .into_iter()
            .map(|call| {
                (
                    call.function.name,
                    serde_json::from_str(&call.function.arguments).unwrap(),
                )
            })
            .collect();
        (rest, pairs)
    }

    #[test]
    fn hermes_two_calls_with_text_between() {
        let content = "I will write it.\n<tool_call>\n{\"name\": \"write_file\", \"arguments\": {\"path\": \"a.py\", \"content\": \"x = 1\\n\"}}\n</tool_call>\n<tool_call>{\"name\": \"done\", \"arguments\": \"{\\\"summary\\\": \\\"ok\\\"}\"}</tool_call>";
        assert_eq!(
            names_and_args(content),
            (
                "I will write it.".to_string(),
                vec![
                    (
                        "write_file".into(),
                        json!({"path": "a.py", "content": "x = 1\n"})
                    ),
                    ("done".into(), json!({"summary": "ok"})),
                ]
            )
        );
    }

    #[test]
    fn qwen3_coder_function_form() {
        let content = "<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/app.py\n</parameter>\n<parameter=content>\nprint('hi')\n</parameter>\n</function>\n</tool_call>";
        assert_eq!(
            names_and_args(content),
            (
                String::new(),
                vec![(
                    "write_file".into(),
                    json!({"path": "src/app.py", "content": "print('hi')"})
                )]
            )
        );
    }

    #[test]
    fn lm_studio_request_form() {
        let content =
            "[TOOL_REQUEST]{\"name\": \"list_files\", \"arguments\": {}}[END_TOOL_REQUEST]";
        assert_eq!(
            names_and_args(content),
            (String::new(), vec![("list_files".into(), json!({}))])
        );
    }

    #[test]
    fn mistral_both_forms() {
        let array = "[TOOL_CALLS][{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}]";
        assert_eq!(
            names_and_args(array),
            (
                String::new(),
                vec![("read_file".into(), json!({"path": "a"}))]
            )
        );
        let v11 = "[TOOL_CALLS]run[ARGS]{\"command\": \"ls\"}";
        assert_eq!(
            names_and_args(v11),
            (
                String::new(),
                vec![("run".into(), json!({"command": "ls"}))]
            )
        );
    }

    #[test]
    fn unclosed_hermes_call_at_end_is_recovered() {
        let content = "<tool_call>{\"name\": \"done\", \"arguments\": {\"summary\": \"s\"}}";
        assert_eq!(
            names_and_args(content).1,
            vec![("done".into(), json!({"summary": "s"}))]
        );
    }

    #[test]
    fn broken_markup_is_left_as_text() {
        assert_eq!(
            recover_text_tool_calls("<tool_call>not json</tool_call> hi"),
            None
        );
        assert_eq!(recover_text_tool_calls("plain answer"), None);
    }
}
