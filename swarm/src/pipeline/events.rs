//! `events.jsonl`: every decision of a run with its reason and time, appended one JSON line
//! at a time and flushed, so a killed run leaves a readable log that resume continues from.

use crate::verify::{Finding, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One pipeline event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run started (or was resumed).
    RunStarted {
        /// Run id.
        run_id: String,
        /// Spec title.
        spec: String,
        /// Output directory.
        out: String,
        /// Node names.
        nodes: Vec<String>,
        /// Knobs that differ from their defaults.
        knobs: std::collections::BTreeMap<String, String>,
        /// Whether this is a resume.
        resumed: bool,
    },
    /// A phase started, finished or was skipped.
    Phase {
        /// scout, plan, contract, build, verify, fix.
        phase: String,
        /// started, finished, skipped.
        status: String,
        /// Why, or what it produced.
        reason: String,
    },
    /// A node was probed.
    Node {
        /// Name.
        node: String,
        /// Reachable.
        ok: bool,
        /// What was found, or why it failed.
        detail: String,
    },
    /// A node failed and is left out for a while.
    NodeDown {
        /// Name.
        node: String,
        /// Why.
        reason: String,
        /// Seconds it stays out.
        cooldown_s: f64,
    },
    /// Acceptance commands the planner proposed.
    AcceptanceDerived {
        /// The console block.
        block: String,
    },
    /// A scout ended.
    Scout {
        /// libraries, edge_cases, module_split.
        lens: String,
        /// Node.
        node: String,
        /// Whether it produced notes.
        ok: bool,
        /// The notes, or why there are none.
        notes: String,
    },
    /// A plan draft was checked.
    PlanDraft {
        /// Round (0: first drafts, 1..: repairs).
        round: u32,
        /// Index in its round.
        draft: usize,
        /// Node.
        node: String,
        /// Valid or not.
        valid: bool,
        /// Its score, when valid.
        score: Option<i64>,
        /// Why it is invalid.
        problems: Vec<String>,
        /// Mechanical mistakes repaired before validation.
        #[serde(default)]
        repairs: Vec<String>,
    },
    /// The scorer chose a plan.
    PlanChosen {
        /// Round.
        round: u32,
        /// Index.
        draft: usize,
        /// Score.
        score: i64,
        /// Width.
        width: usize,
        /// Depth.
        depth: usize,
        /// Tasks in it.
        tasks: usize,
        /// Why this one.
        reason: String,
    },
    /// The contract task ended.
    Contract {
        /// committed, rejected.
        status: String,
        /// Signatures frozen.
        signatures: usize,
        /// Why rejected.
        problems: Vec<String>,
        /// Commit, when committed.
        commit: Option<String>,
    },
    /// A task went to a node.
    Dispatch {
        /// Task id.
        task: String,
        /// Node.
        node: String,
        /// 1-based attempt.
        attempt: u32,
        /// Why this node.
        reason: String,
    },
    /// An action of a worker.
    Action {
        /// Task.
        task: String,
        /// Node.
        node: String,
        /// Tool.
        tool: String,
        /// Target.
        target: String,
        /// Whether it wrote.
        wrote: bool,
    },
    /// The judge refused a done or stopped a worker.
    Judge {
        /// Task.
        task: String,
        /// Node.
        node: String,
        /// Rule.
        rule: String,
        /// Decision.
        decision: String,
        /// Why.
        reason: String,
    },
    /// A worker's run ended.
    TaskEnded {
        /// Task.
        task: String,
        /// Node.
        node: String,
        /// done, out_of_budget, failed, stopped.
        outcome: String,
        /// Its summary or failure.
        summary: String,
        /// Actions.
        actions: usize,
        /// Prompt tokens.
        tokens_in: u64,
        /// Generated tokens.
        tokens_out: u64,
        /// Wall time.
        wall_ms: u64,
        /// Server error kind, when one ended it.
        error_kind: Option<String>,
    },
    /// A finished task failed its check and goes back.
    SentBack {
        /// Task.
        task: String,
        /// Why.
        reasons: Vec<String>,
    },
    /// A task lost its node and goes to another.
    Rerouted {
        /// Task.
        task: String,
        /// The node it left.
        from: String,
        /// Why.
        reason: String,
    },
    /// A task's work was merged into main.
    Merged {
        /// Task.
        task: String,
        /// Commit on main.
        commit: String,
        /// build or fix-N.
        stage: String,
    },
    /// A task gave up.
    TaskFailed {
        /// Task.
        task: String,
        /// Why.
        reason: String,
    },
    /// A gate answered.
    Gate {
        /// Verification round (0: first).
        round: u32,
        /// Gate.
        gate: String,
        /// Verdict.
        verdict: Verdict,
        /// Summary.
        summary: String,
    },
    /// A finding of a gate.
    Finding {
        /// Verification round.
        round: u32,
        /// The finding.
        finding: Finding,
        /// Task that owns its file.
        owner: Option<String>,
    },
    /// A fix round started.
    FixRound {
        /// 1-based round.
        round: u32,
        /// Tasks that get fix work.
        tasks: Vec<String>,
    },
    /// The run ended.
    Verdict {
        /// The verdict.
        verdict: Verdict,
        /// Why.
        reason: String,
    },
}

/// One line of events.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Unix milliseconds.
    pub t: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// Receives events for progress display; cheap to clone.
pub type Sink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Appends events to the log and passes them to the sink.
#[derive(Clone)]
pub struct Recorder {
    file: Arc<Mutex<std::fs::File>>,
    path: PathBuf,
    sink: Sink,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Recorder {
    /// Opens `path` for appending (created if missing).
    pub fn open(path: &Path, sink: Sink) -> std::io::Result<Recorder> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Recorder {
            file: Arc::new(Mutex::new(file)),
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one event: a whole line, flushed, then shown.
    pub fn emit(&self, event: Event) {
        let record = Record { t: now_ms(), event };
        if let Ok(mut line) = serde_json::to_string(&record) {
            line.push('\n');
            if let Ok(mut file) = self.file.lock() {
                // A failed write must not stop the run; the sink still shows the event.
                let _ = file.write_all(line.as_bytes()).and_then(|_| file.flush());
            }
        }
        (self.sink)(&record.event);
    }
}

/// Reads a log; a torn last line (the run was killed mid-write) is skipped, as are lines of
/// kinds this version does not know.
pub fn read_log(path: &Path) -> std::io::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let value: Value = serde_json::from_str(line).ok()?;
            serde_json::from_value(value).ok()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let recorder = Recorder::open(&path, Arc::new(|_| {})).unwrap();
        recorder.emit(Event::Merged {
            task: "a".into(),
            commit: "abc".into(),
            stage: "build".into(),
        });
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"t\":1,\"event\":\"merg")
            .unwrap();
        let records = read_log(&path).unwrap();
        assert_eq!(records.len(), 1);
        assert!(matches!(&records[0].event, Event::Merged { task, .. } if task == "a"));
    }
}
