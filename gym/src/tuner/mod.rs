//! The tuner: from stored rows to one confirmed knob change, or to a list for a human.
//!
//! Flow: **diagnose** every row (its columns and the events of its run) → cluster problems
//! and behavioural problems → **propose** one safe change for the most frequent cluster
//! problem, within the knob's declared range → **confirm** it with a short A/B on the
//! affected tasks (A: the stored settings, B: the change) → **decide**: keep it only if
//! `checks` did not drop and `cluster` improved. Behavioural problems (wrong code, drift,
//! unwired modules) are never "fixed" with a knob: they go to a review list with the paths
//! of their traces. Every step is a [`LogEntry`] with its figures.
//!
//! Cluster problems and the knob each maps to:
//!
//! | problem | evidence | change |
//! |---|---|---|
//! | stalls | a worker cut by `stalled` | raise `node.stall_timeout_s` |
//! | first-byte timeouts | `first_byte_timeout` | raise `node.first_byte_timeout_s` |
//! | context overflows | the row's `context_overflows` | halve `node.max_reply_tokens` |
//! | overloaded nodes | server errors (5xx, 429, dropped) | cap `node.slots_cap` at half the slots |
//! | out of actions while writing | a worker `out_of_budget` after writing | raise `build.max_actions` |
//!
//! "Raise" means back to the registry default when the stored value is below it, else
//! doubled; every value is clamped to the knob's safe range, and a change that cannot move
//! (already at the bound) is not proposed.

mod workflow;

pub use workflow::{tune, TuneEvent, TuneOptions, TuneOutcome};

use crate::results::ResultRow;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use swarm::ErrorKind;

/// A cluster problem kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterProblem {
    /// Workers cut for silence between chunks.
    Stalls,
    /// No first byte in time.
    FirstByteTimeouts,
    /// Prompts that did not fit.
    ContextOverflows,
    /// Servers answering errors under load.
    Overloaded,
    /// Workers out of actions while still writing.
    OutOfActions,
}

impl ClusterProblem {
    /// The knob it maps to.
    pub fn knob(self) -> &'static str {
        match self {
            ClusterProblem::Stalls => swarm::knobs::NODE_STALL_TIMEOUT_S.name(),
            ClusterProblem::FirstByteTimeouts => swarm::knobs::NODE_FIRST_BYTE_TIMEOUT_S.name(),
            ClusterProblem::ContextOverflows => swarm::knobs::NODE_MAX_REPLY_TOKENS.name(),
            ClusterProblem::Overloaded => swarm::knobs::NODE_SLOTS_CAP.name(),
            ClusterProblem::OutOfActions => swarm::knobs::BUILD_MAX_ACTIONS.name(),
        }
    }

    /// Plain words.
    pub fn describe(self) -> &'static str {
        match self {
            ClusterProblem::Stalls => "workers cut by the stall timeout",
            ClusterProblem::FirstByteTimeouts => "replies with no first byte in time",
            ClusterProblem::ContextOverflows => "context overflows",
            ClusterProblem::Overloaded => "server errors under load",
            ClusterProblem::OutOfActions => "workers out of actions while still writing",
        }
    }
}

/// A behavioural problem of one row, for a human.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    /// `suite/task` turn T replicate R.
    pub unit: String,
    /// The builder model.
    pub model: String,
    /// interface drift | unwired module | wrong code (and, when the judge praised it anyway,
    /// why its scores contradict the checks).
    pub kind: String,
    /// The row's checks score.
    pub checks: Option<f64>,
    /// The transcript, as a path from the working directory.
    pub transcript: PathBuf,
    /// The events.
    pub events: PathBuf,
}

/// What the rows show.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Rows read.
    pub rows: usize,
    /// Per cluster problem: the rows (indices) that show it and its total count.
    pub cluster: BTreeMap<ClusterProblem, (Vec<usize>, u32)>,
    /// Behavioural problems.
    pub review: Vec<ReviewItem>,
    /// Rows whose cluster problems cannot be tuned with a pipeline knob (SUT single).
    pub untunable: usize,
}

/// The row's events; when that file is missing or empty, every `events.jsonl` under its turn
/// directory (the pipeline keeps a copy of its run's events beside the turn, so reading both
/// would count everything twice).
fn events_text(base: &Path, row: &ResultRow) -> String {
    let events = base.join(&row.events);
    let mut text = std::fs::read_to_string(&events).unwrap_or_default();
    let Some(turn_dir) = events.parent().filter(|_| text.trim().is_empty()) else {
        return text;
    };
    let skip = |name: &str| name == ".git";
    for (relative, _) in swarm::walk_files(turn_dir, &skip, 100_000) {
        let path = turn_dir.join(&relative);
        if path != events && path.file_name().is_some_and(|n| n == "events.jsonl") {
            text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    text
}

/// The error kinds the events name, one per event that carries one (`error_kind`).
fn error_kinds(events: &str) -> Vec<ErrorKind> {
    events
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|event| serde_json::from_value(event.get("error_kind")?.clone()).ok())
        .collect()
}

/// Diagnoses rows read from a results file in `base` (paths in rows are relative to it).
pub fn diagnose(rows: &[(PathBuf, ResultRow)]) -> Diagnosis {
    let mut diagnosis = Diagnosis {
        rows: rows.len(),
        ..Diagnosis::default()
    };
    for (index, (base, row)) in rows.iter().enumerate() {
        let events = events_text(base, row);
        let mut found: Vec<(ClusterProblem, u32)> = Vec::new();
        let kinds = error_kinds(&events);
        let of = |wanted: &[ErrorKind]| kinds.iter().filter(|k| wanted.contains(k)).count() as u32;
        let stalled = of(&[ErrorKind::Stalled]);
        let first_byte = of(&[ErrorKind::FirstByteTimeout]);
        // An overloaded node answers with errors or breaks off; a refused connection is a
        // node that is down, which no knob of the cluster fixes.
        let server = of(&[ErrorKind::ServerError, ErrorKind::Dropped]);
        let out_of_actions = events
            .lines()
            .filter(|l| {
                l.contains("\"outcome\":\"out_of_budget\"") && !l.contains("\"stage\":\"scout\"")
            })
            .count() as u32;
        if stalled > 0 {
            found.push((ClusterProblem::Stalls, stalled));
        } else if row.stalls > 0 && first_byte == 0 {
            found.push((ClusterProblem::Stalls, row.stalls));
        }
        if first_byte > 0 {
            found.push((ClusterProblem::FirstByteTimeouts, first_byte));
        }
        if row.context_overflows > 0 {
            found.push((ClusterProblem::ContextOverflows, row.context_overflows));
        }
        if server > 0 || row.errors > 0 {
            found.push((ClusterProblem::Overloaded, server.max(row.errors)));
        }
        if out_of_actions > 0 {
            found.push((ClusterProblem::OutOfActions, out_of_actions));
        }
        if !found.is_empty() && row.sut != "swarm" {
            diagnosis.untunable += 1;
            continue;
        }
        for (problem, n) in &found {
            let entry = diagnosis.cluster.entry(*problem).or_default();
            entry.0.push(index);
            entry.1 += n;
        }
        if found.is_empty() && row.hidden() == Some(graders::HiddenVerdict::Fail) {
            let grades = std::fs::read_to_string(row.grades_file(base).unwrap_or_default())
                .unwrap_or_default();
            let kind = if grades.contains("TypeError") {
                "interface drift"
            } else if grades.contains("never imported") {
                "unwired module"
            } else {
                "wrong code"
            };
            // A judge that praised code the checks failed is flagged beside the problem.
            let kind = match row.judge_contradiction() {
                Some(why) => format!("{kind}; {why}"),
                None => kind.to_string(),
            };
            diagnosis.review.push(ReviewItem {
                unit: format!(
                    "{}/{} turn {} replicate {}",
                    row.suite, row.task, row.turn, row.replicate
                ),
                model: row.builder_model.clone(),
                kind,
                checks: row.checks,
                transcript: base.join(&row.transcript),
                events: base.join(&row.events),
            });
        }
    }
    diagnosis
}

/// One proposed change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    /// The problem it answers.
    pub problem: ClusterProblem,
    /// Rows showing it, and its total count.
    pub rows: usize,
    /// Occurrences.
    pub occurrences: u32,
    /// The knob.
    pub knob: String,
    /// The stored value.
    pub from: String,
    /// The proposed value.
    pub to: String,
    /// The knobs the affected rows ran with (changed from defaults): the trial's baseline.
    pub baseline: BTreeMap<String, String>,
    /// The affected (suite, task) pairs: the trial runs these.
    pub tasks: BTreeSet<(String, String)>,
    /// Why this value.
    pub reason: String,
}

/// The changed knobs a row ran with (its `knobs` JSON's `knobs` map).
pub fn row_knobs(row: &ResultRow) -> BTreeMap<String, String> {
    serde_json::from_str::<serde_json::Value>(&row.knobs)
        .ok()
        .and_then(|v| v.get("knobs").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The new value for `problem`'s knob from `current`, or None when it cannot move.
/// `fleet_slots` is the largest node's slots (for the overload cap).
pub fn new_value(problem: ClusterProblem, current: f64, fleet_slots: u32) -> Option<(f64, String)> {
    let knob = swarm::knobs::def(problem.knob())?;
    let clamp = |v: f64| v.clamp(knob.min, knob.max);
    let raise = |v: f64| {
        if v < knob.default {
            (
                knob.default,
                format!("back to the default {}", knob.default),
            )
        } else {
            (clamp(v * 2.0), "doubled".to_string())
        }
    };
    let (value, why) = match problem {
        ClusterProblem::Stalls
        | ClusterProblem::FirstByteTimeouts
        | ClusterProblem::OutOfActions => raise(current),
        ClusterProblem::ContextOverflows => (clamp((current / 2.0).floor()), "halved".to_string()),
        ClusterProblem::Overloaded => {
            let slots = if current > 0.0 {
                current
            } else {
                f64::from(fleet_slots.max(1))
            };
            (
                clamp((slots / 2.0).floor().max(1.0)),
                format!("half of {slots} parallel requests per node"),
            )
        }
    };
    let value = clamp(value);
    ((value - current).abs() > f64::EPSILON).then_some((value, why))
}

/// The proposal for the most frequent cluster problem that a knob can still move.
pub fn propose(
    diagnosis: &Diagnosis,
    rows: &[(PathBuf, ResultRow)],
    fleet_slots: u32,
) -> Option<Proposal> {
    let mut problems: Vec<(&ClusterProblem, &(Vec<usize>, u32))> =
        diagnosis.cluster.iter().collect();
    problems.sort_by(|a, b| b.1 .0.len().cmp(&a.1 .0.len()).then(a.0.cmp(b.0)));
    for (problem, (indices, occurrences)) in problems {
        let knob = swarm::knobs::def(problem.knob())?;
        // The stored value: what most affected rows ran with.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for index in indices {
            let knobs = row_knobs(&rows[*index].1);
            let value = knobs
                .get(knob.name)
                .cloned()
                .unwrap_or_else(|| swarm::knobs::show(knob, knob.default));
            *seen.entry(value).or_default() += 1;
        }
        let from = seen
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(v, _)| v.clone())?;
        let Ok(current) = from.parse::<f64>() else {
            continue;
        };
        let Some((to, why)) = new_value(*problem, current, fleet_slots) else {
            continue;
        };
        let first = &rows[indices[0]].1;
        let baseline = row_knobs(first);
        let tasks = indices
            .iter()
            .map(|i| (rows[*i].1.suite.clone(), rows[*i].1.task.clone()))
            .collect();
        return Some(Proposal {
            problem: *problem,
            rows: indices.len(),
            occurrences: *occurrences,
            knob: knob.name.into(),
            from,
            to: swarm::knobs::show(knob, to),
            baseline,
            tasks,
            reason: format!(
                "{} in {} row(s) ({} occurrence(s)): {} {why}, within its safe range {}..={}",
                problem.describe(),
                indices.len(),
                occurrences,
                knob.name,
                swarm::knobs::show(knob, knob.min),
                swarm::knobs::show(knob, knob.max)
            ),
        });
    }
    None
}

/// The trial's figures: paired means of A (stored settings) and B (the change).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    /// The A/B experiment id.
    pub experiment: String,
    /// Paired turns.
    pub pairs: usize,
    /// checks: (A, B).
    pub checks: Option<(f64, f64)>,
    /// cluster: (A, B).
    pub cluster: Option<(f64, f64)>,
}

/// Keep the change? Only when checks did not drop and cluster improved; with the reason.
pub fn decide(trial: &Trial) -> (bool, String) {
    let Some((cluster_a, cluster_b)) = trial.cluster else {
        return (false, "rejected: no paired cluster scores".into());
    };
    let Some((checks_a, checks_b)) = trial.checks else {
        return (
            false,
            "rejected: checks could not be measured, so a drop cannot be ruled out".into(),
        );
    };
    if checks_b + 1e-9 < checks_a {
        return (
            false,
            format!("rejected: checks dropped {checks_a:.2} → {checks_b:.2}"),
        );
    }
    if cluster_b <= cluster_a + 1e-9 {
        return (
            false,
            format!("rejected: cluster did not improve ({cluster_a:.2} → {cluster_b:.2})"),
        );
    }
    (
        true,
        format!("kept: cluster {cluster_a:.2} → {cluster_b:.2}, checks {checks_a:.2} → {checks_b:.2} (not lower)"),
    )
}

/// One line of the tuner's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum LogEntry {
    /// What the rows showed.
    Diagnosis {
        /// When.
        time: String,
        /// The results files.
        files: Vec<String>,
        /// Rows.
        rows: usize,
        /// Per problem: rows and occurrences.
        cluster: BTreeMap<String, (usize, u32)>,
        /// Behavioural problems sent to review.
        review: usize,
    },
    /// A change proposed.
    Proposal {
        /// When.
        time: String,
        /// The proposal.
        proposal: Proposal,
    },
    /// Its A/B.
    Trial {
        /// When.
        time: String,
        /// The figures.
        trial: Trial,
    },
    /// Kept or not, and why.
    Decision {
        /// When.
        time: String,
        /// The knob.
        knob: String,
        /// The value.
        value: String,
        /// Kept.
        kept: bool,
        /// Why.
        reason: String,
        /// Written to this config file (`--apply`).
        applied_to: Option<String>,
    },
}

/// Appends one entry to the log (one JSON line, one write).
pub fn log(path: &Path, entry: &LogEntry) -> Result<(), String> {
    use std::io::Write;
    let mut line = serde_json::to_string(entry).map_err(|e| e.to_string())?;
    line.push('\n');
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(line.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `knob = value` into the config file's `[knobs]` table, keeping everything else.
pub fn apply(config: &Path, knob: &str, value: &str) -> Result<(), String> {
    let mut table: toml::Table = match std::fs::read_to_string(config) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| format!("{} is not valid TOML: {e}", config.display()))?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(err) => return Err(format!("{}: {err}", config.display())),
    };
    let knobs = table
        .entry("knobs")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(knobs) = knobs.as_table_mut() else {
        return Err(format!("{}: `knobs` is not a table", config.display()));
    };
    knobs.insert(knob.to_string(), toml::Value::String(value.to_string()));
    let text = toml::to_string(&table).map_err(|e| e.to_string())?;
    if let Some(parent) = config.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let temporary = config.with_extension("toml.tmp");
    std::fs::write(&temporary, text)
        .and_then(|_| std::fs::rename(&temporary, config))
        .map_err(|e| format!("{}: {e}", config.display()))
}

/// The review list as Markdown.
pub fn review_markdown(items: &[ReviewItem]) -> String {
    let mut out = String::from("# Behavioural problems for a human\n\nNo knob fixes these: the model built wrong code. Each links its trace.\n\n| unit | model | kind | checks | transcript | events |\n|---|---|---|---|---|---|\n");
    for item in items {
        out.push_str(&format!(
            "| {} | {} | {} | {} | [{}]({}) | [{}]({}) |\n",
            item.unit,
            item.model,
            item.kind,
            item.checks
                .map(|c| format!("{c:.1}"))
                .unwrap_or_else(|| "-".into()),
            "transcript",
            item.transcript.display(),
            "events",
            item.events.display()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn changes_stay_in_range_and_a_knob_at_its_bound_is_not_proposed() {
        assert_eq!(new_value(ClusterProblem::Stalls, 2.0, 4).unwrap().0, 120.0);
        assert_eq!(
            new_value(ClusterProblem::Stalls, 120.0, 4).unwrap().0,
            240.0
        );
        assert_eq!(
            new_value(ClusterProblem::Stalls, 1500.0, 4).unwrap().0,
            1800.0
        );
        assert_eq!(new_value(ClusterProblem::Stalls, 1800.0, 4), None);
        assert_eq!(
            new_value(ClusterProblem::ContextOverflows, 4096.0, 4)
                .unwrap()
                .0,
            2048.0
        );
        assert_eq!(new_value(ClusterProblem::ContextOverflows, 128.0, 4), None);
        assert_eq!(
            new_value(ClusterProblem::Overloaded, 0.0, 4).unwrap().0,
            2.0
        );
        assert_eq!(new_value(ClusterProblem::Overloaded, 1.0, 4), None);
        assert_eq!(
            new_value(ClusterProblem::OutOfActions, 4.0, 4).unwrap().0,
            30.0
        );
    }

    #[test]
    fn a_change_is_kept_only_when_checks_hold_and_cluster_improves() {
        let trial = |checks, cluster| Trial {
            experiment: "x".into(),
            pairs: 4,
            checks,
            cluster,
        };
        assert!(decide(&trial(Some((5.0, 5.0)), Some((6.0, 10.0)))).0);
        assert!(!decide(&trial(Some((5.0, 4.0)), Some((6.0, 10.0)))).0);
        assert!(!decide(&trial(Some((5.0, 9.0)), Some((10.0, 10.0)))).0);
        assert!(!decide(&trial(None, Some((6.0, 10.0)))).0);
    }

    #[test]
    fn apply_keeps_the_rest_of_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "action_mode = \"json\"\n[knobs]\n\"fix.rounds\" = \"2\"\n",
        )
        .unwrap();
        apply(&path, "node.stall_timeout_s", "120").unwrap();
        let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(table["action_mode"].as_str(), Some("json"));
        assert_eq!(table["knobs"]["fix.rounds"].as_str(), Some("2"));
        assert_eq!(table["knobs"]["node.stall_timeout_s"].as_str(), Some("120"));
        // The knobs read back through the registry.
        let knobs =
            swarm::knobs::Knobs::resolve(table["knobs"].as_table(), &|_| None, &[]).unwrap();
        assert_eq!(knobs.get(swarm::knobs::NODE_STALL_TIMEOUT_S).as_secs(), 120);
    }
}
