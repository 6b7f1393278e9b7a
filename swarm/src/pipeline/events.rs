//! `events.jsonl`: every decision of a run with its reason and time, appended one JSON line
//! at a time and flushed, so a killed run leaves a readable log that resume continues from.

use crate::verify::{Finding, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The phases of a run, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Read-only lenses on the spec and the existing code.
    Scout,
    /// Best-of-N plans, validated and scored.
    Plan,
    /// Frozen stubs and schemas.
    Contract,
    /// The plan's tasks on the fleet.
    Build,
    /// Smoke, review, acceptance.
    Verify,
    /// Targeted fix tasks.
    Fix,
}

/// What happened to a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// It began.
    Started,
    /// It ended (its reason says how).
    Finished,
    /// It did not run (its reason says why).
    Skipped,
}

crate::named!(Phase { Scout => "scout", Plan => "plan", Contract => "contract", Build => "build", Verify => "verify", Fix => "fix" });
/// What became of the contract task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// Its stubs passed the checks and were committed and frozen.
    Committed,
    /// Its stubs failed the checks; another attempt follows.
    Rejected,
    /// Every attempt was rejected; BUILD goes on without frozen contracts.
    Abandoned,
}

crate::named!(ContractStatus { Committed => "committed", Rejected => "rejected", Abandoned => "abandoned" });
crate::named!(PhaseStatus { Started => "started", Finished => "finished", Skipped => "skipped" });

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
        /// The app's language and how it was decided.
        #[serde(default)]
        language: crate::spec::Language,
        /// How.
        #[serde(default)]
        language_reason: String,
        /// What of the language's toolchain this machine lacks (the gates that need it will be
        /// inconclusive); empty when nothing is missing.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        toolchain_missing: Vec<String>,
    },
    /// A phase started, finished or was skipped.
    Phase {
        /// Which phase.
        phase: Phase,
        /// What happened to it.
        status: PhaseStatus,
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
    /// Something a node's client did that a user would wonder about (waiting on a busy
    /// server's Retry-After).
    NodeNotice {
        /// Name.
        node: String,
        /// What it is doing.
        message: String,
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
        /// What became of it.
        status: ContractStatus,
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
        /// The node's slot it held (0-based; what the timeline's lanes show).
        #[serde(default)]
        slot: Option<u32>,
        /// How the agent ended.
        outcome: crate::agent::Outcome,
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
        error_kind: Option<crate::llm::ErrorKind>,
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
    /// BUILD begins: how many tasks the plan has and how many were merged before (a resume:
    /// as git records them, the truth for what merged).
    BuildPlanned {
        /// Tasks in the plan.
        tasks: usize,
        /// Of those, merged before this BUILD (skipped).
        merged_before: usize,
    },
    /// A task git shows merged but the log had lost (a kill between the merge commit and its
    /// event, or a cut or deleted log); written on resume so the log agrees with git.
    MergeRecovered {
        /// Task.
        task: String,
        /// The merge commit on main.
        commit: String,
        /// build or fix-N.
        stage: String,
    },
    /// A server slot's prompt cache was filled with the stable prefix of the workers' prompts
    /// while the slot had nothing else to do (`cache.prewarm`): during CONTRACT the prefix
    /// up to the contracts (spec, acceptance), at the start of BUILD the whole of it.
    WarmUp {
        /// Node.
        node: String,
        /// The server slot.
        slot: u32,
        /// `contract` or `build`.
        stage: String,
        /// Prompt tokens of the warm-up request.
        prompt_tokens: u64,
        /// Of those, already in the slot's cache.
        cached_tokens: u64,
        /// How long the request took, ms.
        ms: u64,
        /// Why it failed, when it did (the run goes on: a cold slot is only slower).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// An early look at the app as merged so far, taken while worker slots sat idle in BUILD
    /// or FIX (`sched.prereview`): the smoke and review gates (no acceptance) on a copy of
    /// main. Its verdict is never the run's; a merged task with a failing finding of its own
    /// gets an early fix on an idle slot.
    PreReview {
        /// `build` or `fix-N`: the phase it ran in.
        stage: String,
        /// Tasks in main when the copy was taken.
        merged: usize,
        /// Failing findings of the whole look (most belong to tasks still being built).
        failing: usize,
        /// Tasks given an early fix.
        fixes: Vec<String>,
        /// The findings acted on (`kind file:line task`).
        #[serde(default)]
        acted_on: Vec<String>,
        /// How long the look took, ms.
        ms: u64,
        /// Why it could not run, when it could not (the run goes on).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// An early fix that did not merge: the task stays as it was merged, for VERIFY to judge.
    EarlyFixDropped {
        /// Task.
        task: String,
        /// Why.
        reason: String,
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
        gate: crate::verify::Gate,
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
    /// What an agent did that the pipeline does not report in its own words (its requests
    /// and replies with their figures, malformed replies, shortened context, overflows): the
    /// agent's own event, under the task and node it works for. Its actions, judge decisions
    /// and ending are the pipeline's `action`, `judge` and `task_ended`.
    Agent {
        /// The task (`scout:LENS`, `contract`, a plan task id; `turn` for the gym's single
        /// agent).
        task: String,
        /// The node it runs on.
        node: String,
        /// The agent's event.
        agent: crate::agent::AgentEvent,
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

/// Receives the run's stream live, each event stamped exactly as events.jsonl records it:
/// the progress printer, the gym, a live viewer. Cheap to clone.
pub type Sink = Arc<dyn Fn(&Record) + Send + Sync>;

/// Appends events to the log and passes them to the sink.
#[derive(Clone)]
pub struct Recorder {
    file: Arc<Mutex<std::fs::File>>,
    path: PathBuf,
    sink: Sink,
}

impl Recorder {
    /// Opens `path` for appending (created if missing). A torn last line (the run was killed
    /// mid-write) is first moved aside to `<path>.torn` and cut from the log, so nothing is
    /// ever appended onto it.
    pub fn open(path: &Path, sink: Sink) -> std::io::Result<Recorder> {
        let mut torn = path.as_os_str().to_owned();
        torn.push(".torn");
        crate::fsutil::set_torn_tail_aside(path, Path::new(&torn))?;
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
        let record = Record {
            t: crate::clock::unix_ms(),
            event,
        };
        if let Ok(mut line) = serde_json::to_string(&record) {
            line.push('\n');
            if let Ok(mut file) = self.file.lock() {
                // A failed write must not stop the run; the sink still shows the event.
                let _ = file.write_all(line.as_bytes()).and_then(|_| file.flush());
            }
        }
        (self.sink)(&record);
    }
}

/// Reads a log line by line; a line that is not a whole record (a torn last line, a torn
/// UTF-8 character, a kind this version does not know) is skipped and never hides the
/// others.
pub fn read_log(path: &Path) -> std::io::Result<Vec<Record>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .split(|byte| *byte == b'\n')
        .filter_map(|line| {
            let value: Value = serde_json::from_slice(line).ok()?;
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

    #[test]
    fn a_torn_utf8_tail_hides_nothing_and_is_moved_aside_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let recorder = Recorder::open(&path, Arc::new(|_| {})).unwrap();
        recorder.emit(Event::Merged {
            task: "a".into(),
            commit: "abc".into(),
            stage: "build".into(),
        });
        drop(recorder);
        // Killed in the middle of a three-byte character ("€" is e2 82 ac).
        let mut torn =
            b"{\"t\":1,\"event\":\"task_failed\",\"task\":\"b\",\"reason\":\"\xe2\x82".to_vec();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&torn)
            .unwrap();
        assert_eq!(
            read_log(&path).unwrap().len(),
            1,
            "the whole lines still read"
        );
        let recorder = Recorder::open(&path, Arc::new(|_| {})).unwrap();
        recorder.emit(Event::Merged {
            task: "c".into(),
            commit: "def".into(),
            stage: "build".into(),
        });
        let tasks: Vec<String> = read_log(&path)
            .unwrap()
            .into_iter()
            .filter_map(|r| match r.event {
                Event::Merged { task, .. } => Some(task),
                _ => None,
            })
            .collect();
        assert_eq!(tasks, vec!["a".to_string(), "c".to_string()]);
        torn.push(b'\n');
        assert_eq!(
            std::fs::read(dir.path().join("events.jsonl.torn")).unwrap(),
            torn
        );
    }
}
