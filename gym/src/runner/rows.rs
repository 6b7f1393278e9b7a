//! From a graded turn to its results row, and the files kept beside it.

use crate::results::ResultRow;
use crate::sut::Lane;
use crate::task::{Task, Turn};
use graders::checks::Check;
use graders::{Grades, TurnOutcome};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// What every row of one task replicate shares.
pub(super) struct RowContext<'a> {
    /// The run id.
    pub run_id: &'a str,
    /// `AB_ID:ARM`, or empty.
    pub experiment: &'a str,
    /// The harness commit.
    pub commit: &'a str,
    /// The fleet file's name.
    pub fleet: &'a str,
    /// The system under test's name.
    pub sut: String,
}

/// The row a replicate's turns fill in: identity, settings and empty scores.
pub(super) fn row_template(
    context: &RowContext<'_>,
    task: &Task,
    replicate: u32,
    lane: &Lane,
) -> ResultRow {
    let knobs = knobs_json(lane.knobs.clone());
    ResultRow {
        run_id: context.run_id.to_string(),
        experiment: context.experiment.to_string(),
        timestamp: String::new(),
        commit: context.commit.to_string(),
        suite: task.suite.clone(),
        task: task.id.clone(),
        manifest_hash: task.manifest_hash.clone(),
        turn: 0,
        replicate,
        sut: context.sut.clone(),
        builder_model: lane.builder_model.clone(),
        brain_model: String::new(),
        judge_model: String::new(),
        fleet: context.fleet.to_string(),
        knobs_hash: short_hash(&knobs),
        knobs,
        checks: None,
        swarm: None,
        cluster: None,
        diagnostics: None,
        requirements: None,
        code_quality: None,
        bugs: None,
        overall: None,
        hidden_verdict: String::new(),
        claimed_verdict: String::new(),
        wall_seconds: 0.0,
        tokens_in: 0,
        tokens_out: 0,
        malformed_replies: 0,
        tool_errors: 0,
        context_overflows: 0,
        occupancy: None,
        stalls: 0,
        errors: 0,
        transcript: String::new(),
        events: String::new(),
        test_depth: None,
        test_depth_detail: String::new(),
        sampling: lane.sampling.clone(),
        cache_hit: None,
        tokens_per_second: None,
        first_byte_ms: None,
        build_occupancy: None,
        makespan_over_bound: None,
        ..ResultRow::default()
    }
}

/// The `knobs` column: the lane's settings, plus a note when generated code ran unsealed
/// (sealed rows keep the JSON, and so the hash, they always had).
fn knobs_json(mut knobs: serde_json::Value) -> String {
    if let (Some(note), Some(object)) = (
        swarm::Sandbox::detect().unsealed_note(),
        knobs.as_object_mut(),
    ) {
        object.insert("sandbox".into(), serde_json::Value::String(note));
    }
    knobs.to_string()
}

/// A stable 64-bit FNV-1a hash, hex (the `knobs_hash` column).
fn short_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Where a turn's files are, as rows name them (relative to the results directory).
pub(super) struct TurnFiles<'a> {
    /// The results directory.
    pub results_dir: &'a Path,
    /// The turn's directory.
    pub turn_dir: &'a Path,
}

impl TurnFiles<'_> {
    fn relative(&self, name: &str) -> String {
        let path = self.turn_dir.join(name);
        path.strip_prefix(self.results_dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| path.to_string_lossy().into_owned())
    }
}

/// The template filled with one graded turn.
pub(super) fn graded_row(
    template: &ResultRow,
    turn: &Turn,
    outcome: &TurnOutcome,
    grades: &Grades,
    files: &TurnFiles<'_>,
) -> ResultRow {
    let facts = &outcome.facts;
    let replies = reply_figures(&outcome.events);
    ResultRow {
        timestamp: swarm::now_rfc3339(),
        turn: turn.number as u32,
        checks: grades.score("checks"),
        swarm: grades.score("swarm"),
        cluster: grades.score("cluster"),
        diagnostics: grades.score("diagnostics"),
        test_depth: grades.score("test_depth"),
        test_depth_detail: grades.test_depth_detail.clone(),
        requirements: grades.score("requirements"),
        code_quality: grades.score("code_quality"),
        bugs: grades.score("bugs"),
        judge_model: grades.judge_models(),
        overall: grades.overall(),
        hidden_verdict: grades.hidden.to_string(),
        claimed_verdict: outcome.claim.map(|c| c.to_string()).unwrap_or_default(),
        wall_seconds: outcome.wall_ms as f64 / 1000.0,
        tokens_in: outcome.tokens_in,
        tokens_out: outcome.tokens_out,
        malformed_replies: outcome.malformed_replies,
        tool_errors: outcome.tool_errors,
        context_overflows: outcome.context_overflows,
        occupancy: facts.occupancy,
        stalls: facts.stalls,
        errors: facts.server_errors,
        transcript: files.relative("transcript.jsonl"),
        events: files.relative("events.jsonl"),
        cache_hit: replies.cache_hit,
        tokens_per_second: replies.tokens_per_second,
        first_byte_ms: replies.first_byte_ms,
        build_occupancy: outcome.build_occupancy,
        makespan_over_bound: outcome.makespan_over_bound,
        // A task's checks were proven by `tasks check`; an open turn's counts replace these.
        checks_proven: Some(turn.checks.len() as u32),
        checks_unproven: Some(0),
        checks_discarded: Some(0),
        ..template.clone()
    }
}

/// What a turn's model replies say about speed and the prompt cache.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ReplyFigures {
    pub cache_hit: Option<f64>,
    pub tokens_per_second: Option<f64>,
    pub first_byte_ms: Option<f64>,
}

/// Reads every agent `reply` event (the pipeline's record format, the single agent's too).
pub(crate) fn reply_figures(events: &[serde_json::Value]) -> ReplyFigures {
    let replies: Vec<&serde_json::Value> = events
        .iter()
        .filter_map(|e| e.get("agent"))
        .filter(|a| a.get("event").and_then(|v| v.as_str()) == Some("reply"))
        .collect();
    let number = |v: &serde_json::Value, key: &str| v.get(key).and_then(|x| x.as_f64());
    let prompt: f64 = replies.iter().filter_map(|r| number(r, "tokens_in")).sum();
    let cached: f64 = replies
        .iter()
        .filter_map(|r| Some(number(r, "cached_tokens")?.min(number(r, "tokens_in")?)))
        .sum();
    let median = |mut values: Vec<f64>| -> Option<f64> {
        values.retain(|v| v.is_finite());
        values.sort_by(f64::total_cmp);
        let n = values.len();
        (n > 0).then(|| {
            if n % 2 == 1 {
                values[n / 2]
            } else {
                (values[n / 2 - 1] + values[n / 2]) / 2.0
            }
        })
    };
    ReplyFigures {
        cache_hit: (prompt > 0.0).then(|| cached / prompt),
        tokens_per_second: median(
            replies
                .iter()
                .filter_map(|r| number(r, "tokens_per_second"))
                .collect(),
        ),
        first_byte_ms: median(
            replies
                .iter()
                .filter_map(|r| number(r, "first_byte_ms"))
                .collect(),
        ),
    }
}

/// Writes one JSON value per line.
pub(super) fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> std::io::Result<()> {
    let mut text = String::new();
    for item in items {
        text.push_str(&serde_json::to_string(item).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    std::fs::write(path, text)
}

/// Files a task's commands run directly (`python3 X.py`, `./x.sh`, `node dist/cli.js`): the
/// entry points that diagnostics must not call unwired.
pub fn entry_points(turn: &Turn) -> BTreeSet<String> {
    let mut commands: Vec<String> = Vec::new();
    for check in &turn.checks {
        match check {
            Check::Console(body) => {
                commands.extend(swarm::parse_console(body).into_iter().map(|s| s.command))
            }
            Check::CommandSucceeds(command) => commands.push(command.clone()),
            _ => {}
        }
    }
    commands
        .iter()
        .flat_map(|command| {
            command
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|word| word.ends_with(".py") || word.starts_with("./"))
        .map(|word| word.trim_start_matches("./").to_string())
        .chain(
            commands
                .iter()
                .flat_map(|c| swarm::review::sources_run_by(c)),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{reply_figures, ReplyFigures};
    use serde_json::json;

    #[test]
    fn replies_give_the_cache_share_and_median_speeds() {
        let reply = |tokens_in: u64, cached: Option<u64>, tps: f64, ttfb: u64| {
            json!({"t": 1, "event": "agent", "task": "a", "node": "n", "agent": {
                "event": "reply", "tokens_in": tokens_in, "tokens_out": 5, "cached_tokens": cached,
                "tokens_per_second": tps, "first_byte_ms": ttfb, "total_ms": 9,
                "tool_calls": 0, "recovered_from_text": false}})
        };
        let events = vec![
            reply(1000, Some(900), 30.0, 100),
            reply(1000, None, 10.0, 300),
            json!({"t": 2, "event": "dispatch", "task": "a"}),
            reply(2000, Some(2500), 20.0, 200),
        ];
        // Cached is capped at the prompt: 900 + 0 + 2000 of 4000.
        assert_eq!(
            reply_figures(&events),
            ReplyFigures {
                cache_hit: Some(0.725),
                tokens_per_second: Some(20.0),
                first_byte_ms: Some(200.0),
            }
        );
        assert_eq!(reply_figures(&[]), ReplyFigures::default());
    }
}
