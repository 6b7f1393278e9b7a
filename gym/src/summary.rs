//! What rows say at a glance in a terminal: a table per task and turn (the end of `run`, and
//! `report` on rows of plain runs), the turns that failed with their failed hidden checks
//! (the end of `run`, as a test runner ends), and the same as JSON for scripts.

use crate::view::turn::{read_grades, StoredCheck};
use crate::ResultRow;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// `m:ss` (or `h:mm:ss` from an hour), and the time left at the pace so far: the swarm's,
/// so both binaries count alike.
pub use swarm::clock::{duration_text as clock, eta};

/// The rows of one task and turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskLine {
    /// Suite.
    pub suite: String,
    /// Task id.
    pub task: String,
    /// Turn.
    pub turn: u32,
    /// SUT.
    pub sut: String,
    /// Who played the user: `scripted` (the task's turns) or `simulated` (`--simulate-user`;
    /// its open turns are the brain's own requests, one per session).
    pub user: String,
    /// Builder model(s), `/`-joined.
    pub model: String,
    /// Rows.
    pub runs: usize,
    /// Rows whose hidden checks passed.
    pub passed: usize,
    /// Rows claimed done whose hidden checks failed.
    pub false_greens: usize,
    /// Mean of each dimension and of overall, over the rows that have it.
    pub means: BTreeMap<String, Option<f64>>,
}

/// The columns the table shows, of [`TaskLine::means`].
const TABLE: [(&str, &str); 5] = [
    ("checks", "checks"),
    ("swarm", "swarm"),
    ("diagnostics", "diagn."),
    ("test_depth", "tests"),
    ("overall", "overall"),
];

/// Who played the user in a row's session (rows of older versions: scripted).
fn user_of(row: &ResultRow) -> &str {
    if row.session.is_empty() {
        "scripted"
    } else {
        &row.session
    }
}

/// One line per (suite, task, turn, SUT, user), in that order: scripted and simulated
/// sessions are never pooled.
pub fn task_lines(rows: &[ResultRow]) -> Vec<TaskLine> {
    type Key<'a> = (&'a str, &'a str, u32, &'a str, &'a str);
    let mut groups: BTreeMap<Key<'_>, Vec<&ResultRow>> = BTreeMap::new();
    for row in rows {
        groups
            .entry((&row.suite, &row.task, row.turn, &row.sut, user_of(row)))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((suite, task, turn, sut, user), rows)| {
            let mut models: Vec<&str> = rows.iter().map(|r| r.builder_model.as_str()).collect();
            models.sort_unstable();
            models.dedup();
            let means = graders::DIMENSIONS
                .iter()
                .chain(["overall"].iter())
                .map(|name| {
                    let values: Vec<f64> = rows.iter().filter_map(|r| r.dimension(name)).collect();
                    let mean = (!values.is_empty())
                        .then(|| values.iter().sum::<f64>() / values.len() as f64);
                    (name.to_string(), mean)
                })
                .collect();
            TaskLine {
                suite: suite.to_string(),
                task: task.to_string(),
                turn,
                sut: sut.to_string(),
                user: user.to_string(),
                model: models.join("/"),
                runs: rows.len(),
                passed: rows.iter().filter(|r| r.hidden_pass()).count(),
                false_greens: rows.iter().filter(|r| r.false_green()).count(),
                means,
            }
        })
        .collect()
}

/// The task table as text.
pub fn render_task_table(lines: &[TaskLine]) -> String {
    let mut out = format!(
        "{:<16} {:>4} {:<7} {:<9} {:>5} {:>9}",
        "task", "turn", "SUT", "user", "runs", "hidden ok"
    );
    for (_, header) in TABLE {
        let _ = write!(out, " {header:>7}");
    }
    let _ = writeln!(out, " {:>11}", "false green");
    for line in lines {
        let _ = write!(
            out,
            "{:<16} {:>4} {:<7} {:<9} {:>5} {:>9}",
            line.task,
            line.turn,
            line.sut,
            line.user,
            line.runs,
            format!("{}/{}", line.passed, line.runs)
        );
        for (name, _) in TABLE {
            let mean = line.means.get(name).copied().flatten();
            let shown = mean.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
            let _ = write!(out, " {shown:>7}");
        }
        let _ = writeln!(out, " {:>11}", line.false_greens);
    }
    out
}

/// A turn whose hidden checks did not pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// Its number for `swarm-gym show N` (1-based data row of the results file), when found.
    pub row: Option<usize>,
    /// Task id.
    pub task: String,
    /// Turn.
    pub turn: u32,
    /// Replicate.
    pub replicate: u32,
    /// Hidden verdict (fail or inconclusive).
    pub hidden: String,
    /// What the system under test claimed.
    pub claimed: String,
    /// Claimed done, hidden checks failed.
    pub false_green: bool,
    /// The checks that did not pass, with their output (empty when grades.json is unreadable;
    /// then `unreadable` says why).
    pub checks: Vec<FailedCheck>,
    /// Why the checks could not be read.
    pub unreadable: Option<String>,
}

/// One failed hidden check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedCheck {
    /// What was checked.
    pub label: String,
    /// fail or inconclusive.
    pub verdict: String,
    /// Its output.
    pub evidence: String,
}

impl From<&StoredCheck> for FailedCheck {
    fn from(check: &StoredCheck) -> Self {
        FailedCheck {
            label: check.label.clone(),
            verdict: check.verdict.clone(),
            evidence: check.evidence.clone(),
        }
    }
}

/// The rows among `rows` whose hidden checks did not pass, with their failed checks read
/// from grades.json under `base`; `numbered` gives each row's `show` number.
pub fn failures(
    base: &Path,
    rows: &[ResultRow],
    numbered: &dyn Fn(&ResultRow) -> Option<usize>,
) -> Vec<Failure> {
    rows.iter()
        .filter(|row| !row.hidden_pass())
        .map(|row| {
            let grades = read_grades(base, row);
            let (checks, unreadable) = match &grades {
                Ok(grades) => (
                    grades.failed_checks().into_iter().map(Into::into).collect(),
                    None,
                ),
                Err(err) => (Vec::new(), Some(err.clone())),
            };
            Failure {
                row: numbered(row),
                task: row.task.clone(),
                turn: row.turn,
                replicate: row.replicate,
                hidden: row.hidden_verdict.clone(),
                claimed: row.claimed_verdict.clone(),
                false_green: row.false_green(),
                checks,
                unreadable,
            }
        })
        .collect()
}

/// Totals of a run, for its last line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Turns whose hidden checks passed.
    pub passed: usize,
    /// Turns that failed them.
    pub failed: usize,
    /// Turns the checks could not decide.
    pub inconclusive: usize,
    /// Of the failed, those claimed done.
    pub false_greens: usize,
    /// Task replicates abandoned.
    pub abandoned: usize,
    /// Turns skipped as already recorded.
    pub skipped: u32,
    /// The run's wall seconds.
    pub wall_seconds: f64,
}

impl Totals {
    /// Counts `rows`.
    pub fn of(rows: &[ResultRow], abandoned: usize, skipped: u32, wall_seconds: f64) -> Totals {
        let verdict = |v: &str| rows.iter().filter(|r| r.hidden_verdict == v).count();
        Totals {
            passed: rows.iter().filter(|r| r.hidden_pass()).count(),
            failed: verdict("fail"),
            inconclusive: verdict("inconclusive"),
            false_greens: rows.iter().filter(|r| r.false_green()).count(),
            abandoned,
            skipped,
            wall_seconds,
        }
    }

    /// `3 failed (1 false green), 5 passed, 1 inconclusive in 1:32`, naming only what is
    /// there.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if self.failed > 0 {
            let false_greens = if self.false_greens > 0 {
                format!(" ({} FALSE GREEN)", self.false_greens)
            } else {
                String::new()
            };
            parts.push(format!("{} failed{false_greens}", self.failed));
        }
        parts.push(format!("{} passed", self.passed));
        for (count, what) in [
            (self.inconclusive, "inconclusive"),
            (self.abandoned, "abandoned"),
            (self.skipped as usize, "skipped"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {what}"));
            }
        }
        format!("{} in {}", parts.join(", "), clock(self.wall_seconds))
    }
}

/// A check's output in a few lines: its first line (what was expected) and its last
/// two (where an error says what went wrong), blank lines and the bare `stdout:` / `stderr:`
/// headers left out.
pub fn excerpt(evidence: &str) -> Vec<String> {
    let lines: Vec<&str> = evidence
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty() && !matches!(line.trim(), "stdout:" | "stderr:"))
        .collect();
    if lines.len() <= 3 {
        return lines.into_iter().map(String::from).collect();
    }
    let mut kept = vec![lines[0].to_string(), "...".to_string()];
    kept.extend(lines[lines.len() - 2..].iter().map(|l| l.to_string()));
    kept
}

/// The failures section and the totals line, as a test runner ends: each failed turn with
/// its first failed checks (a few lines of evidence each) and how to see all of it.
pub fn render_failures(failures: &[Failure], results: &Path, totals: &Totals) -> String {
    const CHECKS: usize = 3;
    let mut out = String::new();
    if !failures.is_empty() {
        let _ = writeln!(out, "=== failures ===");
    }
    for failure in failures {
        let mark = if failure.false_green {
            " FALSE GREEN (claimed done)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{} {} turn {} r{}: hidden {}, claimed {}{mark}",
            failure.hidden.to_uppercase(),
            failure.task,
            failure.turn,
            failure.replicate,
            failure.hidden,
            failure.claimed
        );
        if let Some(why) = &failure.unreadable {
            let _ = writeln!(out, "    (checks unreadable: {why})");
        }
        for check in failure.checks.iter().take(CHECKS) {
            let _ = writeln!(out, "    {} {}", check.verdict.to_uppercase(), check.label);
            for line in excerpt(&check.evidence) {
                let _ = writeln!(out, "        {line}");
            }
        }
        if failure.checks.len() > CHECKS {
            let _ = writeln!(
                out,
                "    ... {} more failed check(s)",
                failure.checks.len() - CHECKS
            );
        }
        if let Some(row) = failure.row {
            let _ = writeln!(
                out,
                "    all of it: swarm-gym show {row} --results {}",
                results.display()
            );
        }
    }
    let _ = writeln!(out, "=== {} ===", totals.line());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(task: &str, turn: u32, hidden: &str, claimed: &str, checks: Option<f64>) -> ResultRow {
        ResultRow {
            task: task.into(),
            turn,
            suite: "s".into(),
            sut: "swarm".into(),
            builder_model: "m".into(),
            hidden_verdict: hidden.into(),
            claimed_verdict: claimed.into(),
            checks,
            events: format!("runs/r/{task}/turn-{turn}/events.jsonl"),
            ..crate::test_support::row()
        }
    }

    #[test]
    fn the_task_table_counts_passes_false_greens_and_means_per_task_and_turn() {
        let rows = vec![
            row("todo", 1, "pass", "pass", Some(10.0)),
            row("todo", 1, "fail", "pass", Some(4.0)),
            row("todo", 2, "fail", "fail", None),
        ];
        let lines = task_lines(&rows);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].runs, lines[0].passed, lines[0].false_greens),
            (2, 1, 1)
        );
        assert_eq!(lines[0].means["checks"], Some(7.0));
        assert_eq!(lines[1].means["checks"], None);
        let text = render_task_table(&lines);
        assert!(text.lines().nth(1).unwrap().contains("1/2"), "{text}");
        assert!(text.lines().nth(1).unwrap().contains("7.0"), "{text}");
    }

    #[test]
    fn failures_come_with_their_checks_and_the_totals_name_only_what_happened() {
        let dir = tempfile::tempdir().unwrap();
        let turn = dir.path().join("runs/r/todo/turn-1");
        std::fs::create_dir_all(&turn).unwrap();
        std::fs::write(
            turn.join("grades.json"),
            r#"{"checks": [{"label": "add works", "verdict": "pass", "evidence": ""},
                           {"label": "list shows it", "verdict": "fail", "evidence": "expected `1 buy milk`\ngot nothing\nline 3\nline 4"}]}"#,
        )
        .unwrap();
        let rows = vec![
            row("todo", 1, "fail", "pass", Some(5.0)),
            row("todo", 2, "fail", "fail", Some(0.0)),
            row("units", 1, "pass", "pass", Some(10.0)),
        ];
        let found = failures(dir.path(), &rows, &|r| Some(r.turn as usize + 10));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].checks.len(), 1);
        assert_eq!(found[0].checks[0].label, "list shows it");
        assert!(found[0].false_green);
        assert!(found[1]
            .unreadable
            .as_deref()
            .unwrap()
            .contains("grades.json"));
        let totals = Totals::of(&rows, 0, 0, 92.0);
        let text = render_failures(&found, Path::new("r.csv"), &totals);
        assert!(
            text.contains("FAIL todo turn 1 r1: hidden fail, claimed pass FALSE GREEN"),
            "{text}"
        );
        assert!(text.contains("    FAIL list shows it\n        expected `1 buy milk`\n        ...\n        line 3\n        line 4\n    all of it: swarm-gym show 11 --results r.csv"), "{text}");
        assert!(!text.contains("got nothing"), "{text}");
        assert!(
            text.ends_with("=== 2 failed (1 FALSE GREEN), 1 passed in 1:32 ===\n"),
            "{text}"
        );
        let clean = Totals::of(&rows[2..], 1, 2, 3725.0);
        assert_eq!(clean.line(), "1 passed, 1 abandoned, 2 skipped in 1:02:05");
    }

    #[test]
    fn an_excerpt_keeps_what_was_expected_and_how_it_ended() {
        let evidence = "`python3 todo.py list` exited 2, expected 0\nstdout:\n\nstderr:\nTraceback (most recent call last):\n  File \"todo.py\", line 3\nKeyError: 'x'\n";
        assert_eq!(
            excerpt(evidence),
            vec![
                "`python3 todo.py list` exited 2, expected 0",
                "...",
                "  File \"todo.py\", line 3",
                "KeyError: 'x'"
            ]
        );
        assert_eq!(excerpt("a\n\nb\n"), vec!["a", "b"]);
        assert!(excerpt("").is_empty());
    }

    #[test]
    fn the_eta_is_the_pace_so_far() {
        assert_eq!(eta(30.0, 0, 4), None);
        assert_eq!(eta(30.0, 1, 4), Some(90.0));
        assert_eq!(eta(30.0, 4, 4), Some(0.0));
        assert_eq!(clock(59.6), "1:00");
    }
}
