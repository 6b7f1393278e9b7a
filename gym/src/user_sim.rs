//! The user simulator: the brain model, in the task's persona, writes the next request.
//!
//! It reads what the user saw of the turns so far (each request, what the system under test
//! claimed and summarised, the files it left) and the task's goal for the next turn, and
//! writes that goal as the persona would — reacting to the outcome — under a JSON schema.
//! The hidden checks of the turn stay valid because the goal's concrete requirements must
//! survive: every `backticked` text and every `--flag` of the goal must appear in the
//! request, or the simulated request is rejected and the scripted one is used (and the row
//! says so: `brain_model` stays empty).

use serde::{Deserialize, Serialize};
use swarm::llm::{ChatRequest, JsonSchemaFormat, LlmClient, Message, Role};

/// Name of the simulator's JSON schema.
pub const USER_SCHEMA_NAME: &str = "user_turn";

/// The brain node.
#[derive(Debug, Clone)]
pub struct Brain {
    /// Model id.
    pub model: String,
    /// Client.
    pub client: LlmClient,
}

impl Brain {
    /// Asks for one JSON object under `schema`; the error says what was wrong with the reply.
    pub async fn ask_json(
        &self,
        messages: Vec<Message>,
        schema: JsonSchemaFormat,
        max_tokens: Option<u32>,
        temperature: f32,
    ) -> Result<serde_json::Value, String> {
        let mut request = ChatRequest::new(self.model.clone(), messages);
        request.response_format = Some(schema);
        request.max_tokens = max_tokens;
        request.temperature = Some(temperature);
        let reply = self
            .client
            .chat(&request)
            .await
            .map_err(|err| format!("the brain failed: {err}"))?;
        swarm::first_json_object(&reply.content)
            .ok_or_else(|| "the brain's reply holds no JSON object".to_string())
    }
}

/// What the user saw of one turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeenTurn {
    /// The request given.
    pub request: String,
    /// done, out_of_budget or failed.
    pub claimed: String,
    /// The system's own summary.
    pub summary: String,
    /// Files in the project afterwards.
    pub files: Vec<String>,
}

#[derive(Deserialize)]
struct UserTurn {
    request: String,
}

/// The concrete requirements of a goal: backticked spans and `--flags`.
pub fn concrete_terms(goal: &str) -> Vec<String> {
    let mut terms: Vec<String> = goal
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    for word in goal.split_whitespace() {
        let word = word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'));
        if word.starts_with("--") && word.len() > 2 && !terms.iter().any(|t| t.contains(word)) {
            terms.push(word.to_string());
        }
    }
    terms
}

/// Asks the brain for the next request; `Err` carries why the scripted request must be used.
pub async fn next_request(
    brain: &Brain,
    persona: &str,
    seen: &[SeenTurn],
    goal: &str,
) -> Result<String, String> {
    let history: String = seen
        .iter()
        .enumerate()
        .map(|(i, turn)| {
            format!(
                "Turn {}: you asked: {}\nIt answered ({}): {}\nFiles now: {}\n",
                i + 1,
                turn.request.chars().take(600).collect::<String>(),
                turn.claimed,
                turn.summary.chars().take(400).collect::<String>(),
                if turn.files.is_empty() {
                    "(none)".to_string()
                } else {
                    turn.files.join(", ")
                }
            )
        })
        .collect();
    let system = format!(
        "You play a user of a coding assistant. Your persona: {persona}\nWrite your next message to the assistant. \
         React briefly to how the last turn went, then ask for your next goal in your own words. Keep every exact \
         name, flag, output text and exit status of the goal unchanged."
    );
    let user = format!("What happened so far:\n{history}\nYour next goal:\n{goal}\n\nAnswer with JSON: {{\"request\": \"...\"}}");
    let value = brain
        .ask_json(
            vec![
                Message::text(Role::System, system),
                Message::text(Role::User, user),
            ],
            JsonSchemaFormat {
                name: USER_SCHEMA_NAME.into(),
                schema: serde_json::json!({"type": "object", "properties": {"request": {"type": "string"}}, "required": ["request"]}),
            },
            Some(800),
            0.7,
        )
        .await?;
    let turn: UserTurn = serde_json::from_value(value)
        .map_err(|err| format!("the brain's reply is not a request: {err}"))?;
    let text = turn.request.trim();
    if text.is_empty() {
        return Err("the brain wrote an empty request".into());
    }
    let dropped: Vec<String> = concrete_terms(goal)
        .into_iter()
        .filter(|term| !text.contains(term.as_str()))
        .collect();
    if !dropped.is_empty() {
        return Err(format!(
            "the simulated request dropped {}",
            dropped
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn concrete_terms_are_backticks_and_flags() {
        let goal =
            "Add a --top N option. --top 0 prints `error: --top must be positive` and exits 2.";
        assert_eq!(
            concrete_terms(goal),
            vec!["error: --top must be positive".to_string()]
        );
        assert_eq!(
            concrete_terms("Use --json and `clear`."),
            vec!["clear".to_string(), "--json".to_string()]
        );
    }
}
