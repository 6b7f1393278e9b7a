//! The live board: what a running `run`, `ab`, `study` or `nightly` is doing, read from each
//! run's `live.jsonl` (see [`crate::runner::live`]) — turns in progress, each node's current
//! task and generation speed, turns graded with their verdicts, and the ETA. The page follows
//! it with server-sent events: the server re-reads the logs every second and sends the board
//! when it changed.

use super::page::{false_green, frame, verdict};
use crate::runner::live::LIVE_FILE;
use maud::{html, Markup, PreEscaped};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A run whose log has not moved for this long, and never said it finished, is shown as
/// stopped (killed, or its machine went away), not running.
pub const QUIET: Duration = Duration::from_secs(600);
/// Runs shown.
const RUNS_SHOWN: usize = 12;
/// Graded turns listed per run.
const RECENT: usize = 8;

/// One turn being built.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// Task.
    pub task: String,
    /// Replicate.
    pub replicate: u32,
    /// Turn.
    pub turn: u32,
    /// When it started (ms since the epoch).
    pub since: u64,
    /// The pipeline's phase, when the swarm said.
    pub phase: String,
}

/// One node's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeNow {
    /// What it is working on (empty: idle).
    pub task: String,
    /// Its last reply's generation speed.
    pub tokens_per_second: Option<f64>,
}

/// One graded turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    /// `task r1 t2`.
    pub what: String,
    /// Hidden verdict.
    pub hidden: String,
    /// Claimed.
    pub claimed: String,
    /// checks score.
    pub checks: Option<f64>,
}

/// What one run's live log says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    /// Run id.
    pub run_id: String,
    /// Suite(s).
    pub suite: String,
    /// SUT.
    pub sut: String,
    /// Experiment (`AB:A`…), or empty.
    pub experiment: String,
    /// Turns the run will build.
    pub turns: usize,
    /// Its wall time as earlier rows of the same turns say, when all have some.
    pub estimated: Option<f64>,
    /// Started (ms since the epoch).
    pub started: u64,
    /// The last event (ms since the epoch).
    pub last: u64,
    /// Graded turns, newest first (up to a few).
    pub recent: Vec<Graded>,
    /// Turns graded.
    pub graded: usize,
    /// Turns skipped (their rows existed).
    pub skipped: usize,
    /// Replicates given up, with why.
    pub abandoned: Vec<String>,
    /// Retries of turns after infrastructure failures.
    pub retries: usize,
    /// Turns being built.
    pub building: Vec<Building>,
    /// Nodes by name.
    pub nodes: BTreeMap<String, NodeNow>,
    /// The run wrote its last line.
    pub finished: bool,
    /// Lines that were not JSON (a line being written, or damage).
    pub unreadable: usize,
}

impl Board {
    /// Reads a live log's text.
    pub fn from_text(text: &str) -> Board {
        let mut board = Board::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Value>(line) {
                Ok(value) => board.apply(&value),
                Err(_) => board.unreadable += 1,
            }
        }
        board.recent.reverse();
        board.recent.truncate(RECENT);
        board
    }

    fn apply(&mut self, value: &Value) {
        let t = value["t"].as_u64().unwrap_or(self.last);
        self.last = self.last.max(t);
        let text = |key: &str| value[key].as_str().unwrap_or("").to_string();
        let number = |key: &str| value[key].as_u64().unwrap_or(0) as u32;
        let key = (text("task"), number("replicate"), number("turn"));
        match value["event"].as_str().unwrap_or("") {
            "run_started" => {
                self.run_id = text("run_id");
                self.suite = text("suite");
                self.sut = text("sut");
                self.experiment = text("experiment");
                self.turns = value["turns"].as_u64().unwrap_or(0) as usize;
                self.estimated = value["estimated_seconds"].as_f64();
                self.started = t;
            }
            "turn_started" => {
                self.building
                    .retain(|b| (&b.task, b.replicate, b.turn) != (&key.0, key.1, key.2));
                self.building.push(Building {
                    task: key.0.clone(),
                    replicate: key.1,
                    turn: key.2,
                    since: t,
                    phase: String::new(),
                });
                // The single agent builds on one node for the whole turn.
                if self.sut == "single" {
                    let node = self.nodes.entry(text("node")).or_default();
                    node.task = format!("{} r{} t{}", key.0, key.1, key.2);
                }
            }
            "progress" => self.progress(&key, &value["record"]),
            "turn_graded" => {
                self.done(&key);
                self.graded += 1;
                self.recent.push(Graded {
                    what: format!("{} r{} t{}", key.0, key.1, key.2),
                    hidden: text("hidden"),
                    claimed: text("claimed"),
                    checks: value["checks"].as_f64(),
                });
            }
            "turn_skipped" => self.skipped += 1,
            "retrying" => self.retries += 1,
            "abandoned" => {
                self.building
                    .retain(|b| (&b.task, b.replicate) != (&key.0, key.1));
                self.abandoned
                    .push(format!("{} r{}: {}", key.0, key.1, text("reason")));
            }
            "run_finished" => {
                self.finished = true;
                self.building.clear();
                for node in self.nodes.values_mut() {
                    node.task.clear();
                }
            }
            _ => {}
        }
    }

    fn done(&mut self, key: &(String, u32, u32)) {
        self.building
            .retain(|b| (&b.task, b.replicate, b.turn) != (&key.0, key.1, key.2));
        let what = format!("{} r{} t{}", key.0, key.1, key.2);
        for node in self.nodes.values_mut() {
            if node.task.starts_with(&what) {
                node.task.clear();
            }
        }
    }

    /// A pipeline or agent record inside a turn.
    fn progress(&mut self, key: &(String, u32, u32), record: &Value) {
        let node_name = record["node"].as_str().unwrap_or("").to_string();
        let turn = format!("{} r{} t{}", key.0, key.1, key.2);
        match record["event"].as_str().unwrap_or("") {
            "phase" if record["status"] == "started" => {
                if let Some(building) = self
                    .building
                    .iter_mut()
                    .find(|b| (&b.task, b.replicate, b.turn) == (&key.0, key.1, key.2))
                {
                    building.phase = record["phase"].as_str().unwrap_or("").to_string();
                }
            }
            "dispatch" if !node_name.is_empty() => {
                self.nodes.entry(node_name).or_default().task =
                    format!("{turn}: {}", record["task"].as_str().unwrap_or("?"));
            }
            "task_ended" if !node_name.is_empty() => {
                self.nodes.entry(node_name).or_default().task.clear();
            }
            "agent" if !node_name.is_empty() => {
                let node = self.nodes.entry(node_name).or_default();
                if let Some(speed) = record["agent"]["tokens_per_second"].as_f64() {
                    node.tokens_per_second = Some(speed);
                }
                if node.task.is_empty() && self.sut == "swarm" {
                    node.task = format!("{turn}: {}", record["task"].as_str().unwrap_or("?"));
                }
            }
            _ => {}
        }
    }

    /// Seconds left before any turn is graded, from the earlier rows' estimate (None without
    /// one, or once a turn is graded and the pace is measured).
    pub fn estimated_left(&self) -> Option<f64> {
        if self.graded > 0 || self.finished {
            return None;
        }
        let elapsed = self.last.saturating_sub(self.started) as f64 / 1000.0;
        self.estimated.map(|total| (total - elapsed).max(0.0))
    }

    /// Seconds left, from the pace of the turns graded so far (None before the first).
    pub fn eta_seconds(&self) -> Option<f64> {
        if self.graded == 0 || self.finished {
            return None;
        }
        let elapsed = self.last.saturating_sub(self.started) as f64 / 1000.0;
        let total = self.turns.saturating_sub(self.skipped);
        crate::summary::eta(elapsed, self.graded, total)
    }
}

/// One run's log, read.
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// The log.
    pub path: PathBuf,
    /// What it says.
    pub board: Board,
    /// Its last change.
    pub modified: SystemTime,
}

impl LiveRun {
    /// Whether it is still running (not finished and written to recently).
    pub fn running(&self, now: SystemTime) -> bool {
        !self.board.finished
            && now
                .duration_since(self.modified)
                .is_ok_and(|quiet| quiet < QUIET)
    }
}

/// The newest live logs under the results directories `bases` (`BASE/runs/*/live.jsonl`).
pub fn newest_runs(bases: &[&Path]) -> Vec<LiveRun> {
    let mut logs: Vec<(SystemTime, PathBuf)> = Vec::new();
    for base in bases {
        let Ok(entries) = std::fs::read_dir(base.join("runs")) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path().join(LIVE_FILE);
            if let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) {
                logs.push((modified, path));
            }
        }
    }
    logs.sort_by_key(|log| std::cmp::Reverse(log.0));
    logs.dedup_by(|a, b| a.1 == b.1);
    logs.into_iter()
        .take(RUNS_SHOWN)
        .filter_map(|(modified, path)| {
            let text = std::fs::read_to_string(&path).ok()?;
            Some(LiveRun {
                board: Board::from_text(&text),
                path,
                modified,
            })
        })
        .collect()
}

/// The boards of the runs, as the page shows them (and as each server-sent event carries).
pub fn boards(runs: &[LiveRun], now: SystemTime) -> Markup {
    let running = runs.iter().filter(|r| r.running(now)).count();
    html! {
        p id="live-status" { (running) " run(s) running · updated " (chrono::Utc::now().format("%H:%M:%S UTC")) }
        @if runs.is_empty() {
            p.muted { "No run has written a live log here yet. Start one (" code { "swarm-gym run …" } ") and this page follows it." }
        }
        @for run in runs {
            (board(run, now))
        }
    }
}

fn board(run: &LiveRun, now: SystemTime) -> Markup {
    let b = &run.board;
    let state = if b.finished {
        "finished"
    } else if run.running(now) {
        "running"
    } else {
        "stopped without finishing (killed?)"
    };
    let elapsed = b.last.saturating_sub(b.started) / 1000;
    html! {
        section.board {
            h2 {
                (b.run_id) " — " (state)
                @if !b.experiment.is_empty() { " · " (b.experiment) }
            }
            p {
                "suite " (b.suite) " · SUT " (b.sut) " · "
                b { "[" (b.graded + b.skipped) "/" (b.turns) "]" } " turns"
                @if b.skipped > 0 { " (" (b.skipped) " skipped: rows existed)" }
                " · elapsed " (crate::summary::clock(elapsed as f64))
                @if let Some(eta) = b.eta_seconds() { " · ETA " (crate::summary::clock(eta)) }
                @if let Some(left) = b.estimated_left() { " · ETA about " (crate::summary::clock(left)) " (from earlier rows of these turns)" }
                @if b.retries > 0 { " · " (b.retries) " retr(ies)" }
                @if b.unreadable > 0 { " · " (b.unreadable) " unreadable line(s)" }
                " · " a href=(format!("/?run={}", super::catalog::encode(&b.run_id))) { "its rows" }
            }
            @if !b.building.is_empty() {
                table {
                    tr { th { "building" } th { "phase" } th { "for" } }
                    @for turn in &b.building {
                        tr { td { (turn.task) " r" (turn.replicate) " t" (turn.turn) } td { (turn.phase) }
                             td.num { (crate::summary::clock(b.last.saturating_sub(turn.since) as f64 / 1000.0)) } }
                    }
                }
            }
            @if !b.nodes.is_empty() {
                table {
                    tr { th { "node" } th { "now" } th { "tokens/s (last reply)" } }
                    @for (name, node) in &b.nodes {
                        tr { td { (name) } td { @if node.task.is_empty() { span.muted { "idle" } } @else { (node.task) } }
                             td.num { (node.tokens_per_second.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into())) } }
                    }
                }
            }
            @if !b.recent.is_empty() {
                table {
                    tr { th { "graded" } th { "hidden" } th { "claimed" } th { "checks" } }
                    @for graded in &b.recent {
                        tr { td { (graded.what) } td { (verdict(&graded.hidden)) }
                             td { (graded.claimed) @if graded.claimed == "done" && graded.hidden == "fail" { " " (false_green()) } }
                             td.num { (super::page::score(graded.checks)) } }
                    }
                }
            }
            @for why in &b.abandoned { div.bad { "abandoned: " (why) } }
        }
    }
}

/// The live page: the boards now, then kept current by server-sent events from `/live/events`.
pub fn page(runs: &[LiveRun]) -> Markup {
    let script = r#"
const target = document.getElementById('boards');
const source = new EventSource('/live/events');
source.onmessage = (event) => { target.innerHTML = event.data; };
source.onerror = () => { document.getElementById('live-status').textContent += ' · connection lost, retrying'; };
"#;
    frame(
        "Live",
        html! {
            h1 { "Live runs" }
            p.muted { "Follows every run writing under these results directories (its runs/RUN/live.jsonl); updates by itself." }
            div id="boards" { (boards(runs, SystemTime::now())) }
            script { (PreEscaped(script)) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_board_follows_turns_nodes_and_the_eta() {
        let text = [
            r#"{"event":"run_started","t":0,"run_id":"r","suite":"smoke","sut":"swarm","experiment":"","turns":4}"#,
            r#"{"event":"turn_started","t":0,"task":"a","replicate":1,"turn":1,"node":"n1"}"#,
            r#"{"event":"progress","t":10,"task":"a","replicate":1,"turn":1,"record":{"t":10,"event":"phase","phase":"build","status":"started"}}"#,
            r#"{"event":"progress","t":20,"task":"a","replicate":1,"turn":1,"record":{"t":20,"event":"dispatch","task":"a-t1","node":"n1","attempt":1,"reason":""}}"#,
            r#"{"event":"progress","t":30,"task":"a","replicate":1,"turn":1,"record":{"t":30,"event":"agent","task":"a-t1","node":"n1","agent":{"event":"reply","tokens_per_second":42.5}}}"#,
            "{\"event\":\"turn_gr",
        ]
        .join("\n");
        let board = Board::from_text(&text);
        assert_eq!(board.building[0].phase, "build");
        assert_eq!(board.nodes["n1"].task, "a r1 t1: a-t1");
        assert_eq!(board.nodes["n1"].tokens_per_second, Some(42.5));
        assert_eq!(board.unreadable, 1);
        assert_eq!(board.eta_seconds(), None);
        assert_eq!(board.estimated_left(), None, "no estimate in the header");
        let estimated = Board::from_text(
            &text.replace(r#""turns":4}"#, r#""turns":4,"estimated_seconds":100.0}"#),
        );
        // 30 ms of 100 s gone; the estimate speaks until the pace is measured.
        assert_eq!(estimated.estimated_left(), Some(99.97));
        let more = format!(
            "{text}\n{}\n{}",
            r#"{"event":"turn_graded","t":60000,"task":"a","replicate":1,"turn":1,"hidden":"fail","claimed":"done","checks":0.0}"#,
            r#"{"event":"turn_skipped","t":60000,"task":"b","replicate":1,"turn":1}"#
        );
        let board = Board::from_text(&more);
        assert!(board.building.is_empty());
        assert_eq!(board.graded, 1);
        // 60 s for one graded turn, 2 turns left.
        assert_eq!(board.eta_seconds(), Some(120.0));
        assert_eq!(board.estimated_left(), None);
        assert!(boards(
            &[LiveRun {
                path: PathBuf::new(),
                board,
                modified: SystemTime::now()
            }],
            SystemTime::now()
        )
        .into_string()
        .contains("FALSE GREEN"));
    }
}
