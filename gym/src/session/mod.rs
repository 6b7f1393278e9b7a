//! The user simulator's open sessions (`--simulate-user`): after a task's scripted turns,
//! the brain plays a persona ([`personas`]) and, after each turn, sees what a user would see
//! — the app's files, what its advertised commands print when run, and whether the turn
//! seemed to work (a crash, a wrong answer; never the hidden checks' text) — and chooses the
//! next move from a fixed set, with a reason, a request and checks, under a JSON schema. A
//! session ends when the user stops or at the turn cap. The checks are vetted ([`vet`])
//! before the turn is built, so open turns stay honest.

pub mod personas;
pub mod vet;

use crate::user_sim::Brain;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use swarm::llm::{JsonSchemaFormat, Message, Role};
use swarm::sandbox::{Limits, Sandbox, SandboxCommand};

pub use personas::{Persona, Tolerance};
pub use vet::{Discarded, Vetted};

/// Name of the move's JSON schema.
pub const MOVE_SCHEMA_NAME: &str = "user_move";
/// Turns in a session when nothing else is said (scripted turns included).
pub const DEFAULT_MAX_TURNS: usize = 6;
/// Times the brain is asked for a usable move before the session ends.
const ASKS: usize = 2;

/// What a simulated user does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    /// Ask for something new.
    Feature,
    /// Ask to repair what is broken.
    Fix,
    /// Ask for tests.
    Tests,
    /// Ask to restructure without changing behaviour.
    Refactor,
    /// Change what the app should do.
    ChangeDirection,
    /// The user is done.
    Stop,
}

impl Move {
    /// Every move, in schema order.
    pub const ALL: [Move; 6] = [
        Move::Feature,
        Move::Fix,
        Move::Tests,
        Move::Refactor,
        Move::ChangeDirection,
        Move::Stop,
    ];

    /// The name rows and the schema use.
    pub fn name(self) -> &'static str {
        match self {
            Move::Feature => "feature",
            Move::Fix => "fix",
            Move::Tests => "tests",
            Move::Refactor => "refactor",
            Move::ChangeDirection => "change_direction",
            Move::Stop => "stop",
        }
    }
}

/// What the user noticed of the last turn, in a user's words (from the hidden verdict and
/// whether the app crashed; never a check's text).
pub fn noticed(hidden: graders::HiddenVerdict, crashed: bool) -> &'static str {
    match (hidden, crashed) {
        (graders::HiddenVerdict::Fail, true) => {
            "When you tried it, the app crashed on something you asked for."
        }
        (graders::HiddenVerdict::Fail, false) => {
            "When you tried it, something you asked for gave a wrong answer or did not work."
        }
        (graders::HiddenVerdict::Pass, _) => "When you tried it, it did what you asked.",
        (graders::HiddenVerdict::Inconclusive, _) => {
            "You could not tell whether it did what you asked."
        }
    }
}

/// Whether a grading's failed checks show the app crashing (a traceback or a panic in their
/// output): the one thing of the checks a user would notice beyond pass or fail.
pub fn crashed(outcomes: &[graders::checks::CheckOutcome]) -> bool {
    outcomes.iter().any(|o| {
        o.verdict == graders::checks::Verdict::Fail
            && [
                "Traceback (most recent call last)",
                "panicked at",
                "Uncaught",
                "    at ",
            ]
            .iter()
            .any(|sign| o.evidence.contains(sign))
    })
}

/// What the user sees before choosing a move.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observation {
    /// The app's files: (path, start of the text).
    pub files: Vec<(String, String)>,
    /// The advertised commands run: (command, what it printed and how it exited).
    pub tried: Vec<(String, String)>,
    /// [`noticed`] for the last turn.
    pub noticed: String,
    /// Earlier turns: (request, move).
    pub history: Vec<(String, String)>,
}

/// Most characters of the files shown.
const FILES_SHOWN: usize = 6_000;
/// Most characters of one command's output shown.
const OUTPUT_SHOWN: usize = 600;
/// Most commands tried.
const COMMANDS_TRIED: usize = 8;

/// The files of `project` as a user would skim them: every path, the start of the text.
pub fn skim(project: &Path) -> Vec<(String, String)> {
    let mut budget = FILES_SHOWN;
    graders::fsutil::text_files(project, 100_000)
        .into_iter()
        .map(|(path, text)| {
            let shown: String = text.chars().take(budget.min(1_500)).collect();
            budget = budget.saturating_sub(shown.len());
            (path, shown)
        })
        .collect()
}

/// Runs `commands` (the spec's and the checks' `$` lines: what the app advertises) on a copy
/// of `project`, sealed, as a user would try them; each with what it printed and its exit.
pub async fn try_commands(
    project: &Path,
    commands: &[String],
    sandbox: &Sandbox,
) -> Vec<(String, String)> {
    let Ok(copy) = tempfile::Builder::new().prefix("swarm-gym-try-").tempdir() else {
        return Vec::new();
    };
    if graders::fsutil::copy_tree(project, copy.path()).is_err() {
        return Vec::new();
    }
    let _ =
        swarm::verify::compile_typescript(sandbox, copy.path(), std::time::Duration::from_secs(60))
            .await;
    let mut tried = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for command in commands
        .iter()
        .filter(|c| seen.insert(c.to_string()))
        .take(COMMANDS_TRIED)
    {
        let limits = Limits {
            wall: std::time::Duration::from_secs(10),
            cpu_seconds: 20,
            ..Limits::default()
        };
        let said = match sandbox
            .run(&SandboxCommand::shell(format!("{command} 2>&1"), copy.path()).with_limits(limits))
            .await
        {
            Ok(outcome) => {
                let text: String = outcome.stdout.text().chars().take(OUTPUT_SHOWN).collect();
                let exit = match (outcome.timed_out, outcome.exit_code) {
                    (true, _) => "(it did not finish in 10 s)".to_string(),
                    (_, Some(code)) => format!("(exit {code})"),
                    (_, None) => "(killed)".to_string(),
                };
                format!("{text}{exit}")
            }
            Err(err) => format!("(could not run: {err})"),
        };
        tried.push((command.clone(), said));
    }
    tried
}

/// The commands an app advertises: its spec's `$` lines, then those of the checks kept so far.
pub fn advertised(spec: &str, kept: &[graders::checks::Check]) -> Vec<String> {
    let mut commands: Vec<String> = swarm::spec::parse_spec(spec, "spec.md", true)
        .map(|s| s.acceptance.into_iter().map(|step| step.command).collect())
        .unwrap_or_default();
    for check in kept {
        if let graders::checks::Check::Console(block) = check {
            commands.extend(swarm::parse_console(block).into_iter().map(|s| s.command));
        }
    }
    commands
}

/// The brain's choice, as asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    /// The move.
    #[serde(rename = "move")]
    pub next: Move,
    /// Why, in the persona's words.
    pub reason: String,
    /// The request to the system under test (empty for `stop`).
    #[serde(default)]
    pub request: String,
    /// Console blocks that fail now and pass once the request is done.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Files that would satisfy the request (relative path → whole content); may be empty.
    #[serde(default)]
    pub reference: Vec<ReferenceFile>,
}

/// One file of a reference patch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceFile {
    /// Relative path.
    pub path: String,
    /// Whole content.
    pub content: String,
}

impl Proposal {
    /// The reference patch as a map.
    pub fn patch(&self) -> BTreeMap<String, String> {
        self.reference
            .iter()
            .map(|f| (f.path.clone(), f.content.clone()))
            .collect()
    }
}

/// The move's JSON schema.
pub fn move_schema() -> JsonSchemaFormat {
    let moves: Vec<&str> = Move::ALL.iter().map(|m| m.name()).collect();
    JsonSchemaFormat {
        name: MOVE_SCHEMA_NAME.into(),
        schema: serde_json::json!({
            "type": "object",
            "properties": {
                "move": {"type": "string", "enum": moves},
                "reason": {"type": "string"},
                "request": {"type": "string"},
                "checks": {"type": "array", "items": {"type": "string"}, "maxItems": vet::MAX_CHECKS},
                "reference": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                    "required": ["path", "content"]
                }}
            },
            "required": ["move", "reason", "request", "checks"]
        }),
    }
}

/// Why a reply cannot be used as a move, when it cannot.
fn unusable(value: serde_json::Value) -> Result<Proposal, String> {
    let proposal: Proposal =
        serde_json::from_value(value).map_err(|err| format!("the reply is not a move: {err}"))?;
    if proposal.reason.trim().is_empty() {
        return Err("the move gives no reason".into());
    }
    if proposal.next != Move::Stop && proposal.request.trim().is_empty() {
        return Err(format!(
            "a `{}` move with an empty request",
            proposal.next.name()
        ));
    }
    Ok(proposal)
}

/// The brain's next move, or why none came (after [`ASKS`] tries), with the reasons of every
/// rejected reply.
pub async fn next_move(
    brain: &Brain,
    persona: &Persona,
    spec: &str,
    seen: &Observation,
) -> (Result<Proposal, String>, Vec<String>) {
    let messages = prompt(persona, spec, seen);
    let mut rejected = Vec::new();
    for _ in 0..ASKS {
        match brain
            .ask_json(messages.clone(), move_schema(), Some(2_000), 0.7)
            .await
            .and_then(unusable)
        {
            Ok(proposal) => return (Ok(proposal), rejected),
            Err(why) => rejected.push(why),
        }
    }
    let last = rejected.last().cloned().unwrap_or_default();
    (
        Err(format!("no usable move in {ASKS} tries: {last}")),
        rejected,
    )
}

fn prompt(persona: &Persona, spec: &str, seen: &Observation) -> Vec<Message> {
    let tolerance = match persona.bug_tolerance {
        Tolerance::Low => {
            "A crash or a wrong answer bothers you: you want it fixed before anything else."
        }
        Tolerance::Medium => "You want broken things fixed when they get in your way.",
        Tolerance::High => "You shrug off bugs as long as new features arrive.",
    };
    let prefers: Vec<&str> = persona.prefers.iter().map(|m| m.name()).collect();
    let system = format!(
        "You play a user of a coding assistant that builds an app for you. You are: {}\n\
         How you write: {}\n{tolerance}\nYou reach first for these moves: {}.\n\
         After each turn you choose one move: feature (something new), fix (repair what is broken), \
         tests (ask for tests), refactor (restructure without changing behaviour), change_direction \
         (change what the app should do), or stop (you are satisfied, or done with it). Give a reason.\n\
         Unless you stop, write the request to the assistant, and 1 to {} checks that prove the request \
         was done: each a console transcript, `$ command` lines run from the app's folder, each followed \
         by the exact lines it must print (`[..]` matches any text within a line; `? N` for a non-zero \
         exit). A check must fail on the app as it is now and pass once your request is done. You may \
         add `reference`: the files (path and whole content) that would do it.",
        persona.description,
        persona.wording,
        prefers.join(", "),
        vet::MAX_CHECKS
    );
    let mut user = format!("The app's spec:\n{spec}\n\n");
    for (index, (request, chosen)) in seen.history.iter().enumerate() {
        user.push_str(&format!(
            "Turn {} ({chosen}): you asked: {}\n",
            index + 1,
            request.chars().take(500).collect::<String>()
        ));
    }
    user.push_str(&format!("\n{}\n\nThe app's files now:\n", seen.noticed));
    if seen.files.is_empty() {
        user.push_str("(none)\n");
    }
    for (path, text) in &seen.files {
        user.push_str(&format!("--- {path}\n{text}\n"));
    }
    if !seen.tried.is_empty() {
        user.push_str("\nWhat you saw running its commands:\n");
        for (command, said) in &seen.tried {
            user.push_str(&format!("$ {command}\n{said}\n"));
        }
    }
    user.push_str(
        "\nAnswer with JSON: {\"move\": \"...\", \"reason\": \"...\", \"request\": \"...\", \"checks\": [\"$ ...\\n...\"], \"reference\": [{\"path\": \"...\", \"content\": \"...\"}]}",
    );
    vec![
        Message::text(Role::System, system),
        Message::text(Role::User, user),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_a_move_only_with_a_reason_and_a_request_unless_it_stops() {
        let ok = unusable(serde_json::json!({"move": "feature", "reason": "more", "request": "add x", "checks": []})).unwrap();
        assert_eq!(ok.next, Move::Feature);
        assert!(unusable(
            serde_json::json!({"move": "stop", "reason": "done", "request": "", "checks": []})
        )
        .is_ok());
        assert!(unusable(
            serde_json::json!({"move": "dance", "reason": "r", "request": "x", "checks": []})
        )
        .unwrap_err()
        .contains("not a move"));
        assert!(unusable(
            serde_json::json!({"move": "fix", "reason": " ", "request": "x", "checks": []})
        )
        .unwrap_err()
        .contains("no reason"));
        assert!(unusable(
            serde_json::json!({"move": "fix", "reason": "r", "request": "", "checks": []})
        )
        .unwrap_err()
        .contains("empty request"));
        let names: Vec<&str> = Move::ALL.iter().map(|m| m.name()).collect();
        for name in names {
            let parsed: Move = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed.name(), name);
        }
    }

    #[test]
    fn the_user_notices_crashes_and_wrong_answers_but_reads_no_check() {
        let outcome = |verdict, evidence: &str| graders::checks::CheckOutcome {
            label: "console: $ python3 secret_check.py".into(),
            verdict,
            evidence: evidence.into(),
        };
        assert!(crashed(&[outcome(
            graders::checks::Verdict::Fail,
            "Traceback (most recent call last):\n  KeyError"
        )]));
        assert!(!crashed(&[outcome(
            graders::checks::Verdict::Fail,
            "expected 3, got 4"
        )]));
        assert!(!crashed(&[outcome(
            graders::checks::Verdict::Pass,
            "Traceback (most recent call last)"
        )]));
        let said = noticed(graders::HiddenVerdict::Fail, true);
        assert!(said.contains("crashed") && !said.contains("secret_check"));
        assert!(noticed(graders::HiddenVerdict::Fail, false).contains("wrong answer"));
    }
}
