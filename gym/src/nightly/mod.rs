//! The nightly matrix: models per role × suites × SUTs × replicates on one fleet, appended to
//! one results file, then the trend report with regressions first.
//!
//! Flow: the plan (YAML) → cells (one per model setting × suite × SUT) → for each replicate,
//! every cell in turn (so a night cut short still has every cell at equal depth) → rows with
//! `experiment = nightly-YYYY-MM-DD` → `notebooks::report` over the whole file.
//!
//! Resuming: every cell runs with `resume`, so turns whose rows exist are skipped. The
//! night's identity lives in `RESULTS.nightly.json` (night, plan hash, finished or not):
//! starting again with the same plan while the recorded night is unfinished continues that
//! night, even after midnight.

mod night;

pub use night::{night, NightEvent, NightOptions, NightOutcome};

use crate::ab::{arm_config, parse_setting, Setting};
use crate::results::ResultRow;
use crate::runner::{run_suite, RunConfig, RunError, RunEvent};
use crate::sut::Sut;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn default_suts() -> Vec<Sut> {
    vec![Sut::Swarm]
}
/// A night as the user gives it: a real calendar date written `YYYY-MM-DD` (2026-13-45 and
/// 2026-2-30 are refused, with the reason).
pub fn parse_night(text: &str) -> Result<String, String> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|err| format!("`{text}` is not a date YYYY-MM-DD ({err})"))?;
    let canonical = date.format("%Y-%m-%d").to_string();
    if canonical != text {
        return Err(format!(
            "`{text}` is not written YYYY-MM-DD (did you mean {canonical}?)"
        ));
    }
    Ok(canonical)
}

fn default_replicates() -> u32 {
    2
}
fn default_one() -> usize {
    1
}
fn default_window() -> usize {
    7
}
fn default_judge_samples() -> u32 {
    3
}
fn default_calibration_share() -> f64 {
    graders::calibration::DEFAULT_SHARE
}
fn default_mutants() -> usize {
    graders::TestDepthOptions::default().mutants
}
fn default_results() -> PathBuf {
    "results/nightly.csv".into()
}
fn default_report() -> PathBuf {
    "results/nightly-report".into()
}

/// A nightly plan (`nightly.yaml`); paths are relative to the directory the command runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NightlyPlan {
    /// The fleet file.
    pub fleet: PathBuf,
    /// Suites, by name or path.
    pub suites: Vec<String>,
    /// Systems under test (default: swarm).
    #[serde(default = "default_suts")]
    pub suts: Vec<Sut>,
    /// Model settings, one matrix row each: `{model: X, judge_model: Y, brain_model: Z}`
    /// (any subset). Empty: the fleet's models as they are.
    #[serde(default)]
    pub models: Vec<BTreeMap<String, String>>,
    /// Replicates per cell (default 2: the regression check needs the spread between them).
    #[serde(default = "default_replicates")]
    pub replicates: u32,
    /// Task replicates run at once on the shared fleet.
    #[serde(default = "default_one")]
    pub concurrency: usize,
    /// Only these tasks (ids), in every suite.
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Knobs for every cell, `NAME=VALUE`.
    #[serde(default)]
    pub knobs: Vec<String>,
    /// Earlier nights in the rolling baseline.
    #[serde(default = "default_window")]
    pub baseline_nights: usize,
    /// The action budget of a build task, the single agent's turn included: shorthand for
    /// the knob `build.max_actions` (a `knobs` entry for it wins).
    #[serde(default)]
    pub max_actions: Option<u32>,
    /// Samples per judge node per turn.
    #[serde(default = "default_judge_samples")]
    pub judge_samples: u32,
    /// The share of reference-versus-twin pairs tonight's judge must rank right before its
    /// scores are judged for regressions (0 accepts any judge).
    #[serde(default = "default_calibration_share")]
    pub calibration_share: f64,
    /// Mutants per turn for test_depth (0: not measured).
    #[serde(default = "default_mutants")]
    pub mutants: usize,
    /// The results CSV (default results/nightly.csv).
    #[serde(default = "default_results")]
    pub results: PathBuf,
    /// Where the report goes (default results/nightly-report).
    #[serde(default = "default_report")]
    pub report: PathBuf,
    /// Sessions played by the simulated user (`swarm-gym run --simulate-user`), up to
    /// `max_turns` turns each (default: the task's scripted turns only).
    #[serde(default)]
    pub simulate_user: bool,
    /// A simulated session's turn cap.
    #[serde(default = "default_max_turns")]
    pub max_turns: usize,
}

fn default_max_turns() -> usize {
    crate::session::DEFAULT_MAX_TURNS
}

impl NightlyPlan {
    /// The plan's knobs as `NAME=VALUE` flags: `max_actions` first, so a `knobs` entry for
    /// `build.max_actions` wins.
    pub fn knob_flags(&self) -> Vec<String> {
        let budget = self.max_actions.map(|n| format!("build.max_actions={n}"));
        budget
            .into_iter()
            .chain(self.knobs.iter().cloned())
            .collect()
    }

    /// Parses and checks a plan; errors name the file and what is wrong.
    pub fn from_yaml(text: &str, origin: &str) -> Result<NightlyPlan, String> {
        let plan: NightlyPlan =
            serde_yaml_ng::from_str(text).map_err(|err| format!("{origin}: {err}"))?;
        if plan.suites.is_empty() {
            return Err(format!(
                "{origin}: `suites` is empty: name at least one (e.g. [smoke])"
            ));
        }
        if plan.suts.is_empty() {
            return Err(format!(
                "{origin}: `suts` is empty: use [single], [swarm] or both"
            ));
        }
        if plan.replicates == 0 || plan.concurrency == 0 || plan.max_actions == Some(0) {
            return Err(format!(
                "{origin}: replicates, concurrency and max_actions must be at least 1"
            ));
        }
        for settings in &plan.models {
            model_settings(settings).map_err(|err| format!("{origin}: models: {err}"))?;
        }
        Ok(plan)
    }

    /// Loads a plan file.
    pub fn load(path: &Path) -> Result<NightlyPlan, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read the plan {}: {err}", path.display()))?;
        NightlyPlan::from_yaml(&text, &path.display().to_string())
    }

    /// A hash of the plan: a changed plan starts a new night rather than resuming.
    pub fn hash(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

/// One entry of `models` as arm settings; only model keys are allowed.
pub fn model_settings(entry: &BTreeMap<String, String>) -> Result<Vec<Setting>, String> {
    entry
        .iter()
        .map(|(key, value)| {
            if !matches!(key.as_str(), "model" | "judge_model" | "brain_model") {
                return Err(format!(
                    "`{key}` is not a model role; use model, judge_model or brain_model"
                ));
            }
            parse_setting(&format!("{key}={value}"))
        })
        .collect()
}

/// One cell of the matrix.
#[derive(Debug, Clone)]
pub struct Cell {
    /// `model=X suite=S sut=T`.
    pub label: String,
    /// The run configuration (replicate and experiment set per night).
    pub config: RunConfig,
}

/// The cells: every model setting × suite × SUT. `base` holds everything but the tasks and
/// SUT; `tasks` holds each suite's proven tasks.
pub fn cells(
    plan: &NightlyPlan,
    base: &RunConfig,
    tasks: &[(String, Vec<crate::task::Task>)],
) -> Result<Vec<Cell>, String> {
    let model_rows: Vec<BTreeMap<String, String>> = if plan.models.is_empty() {
        vec![BTreeMap::new()]
    } else {
        plan.models.clone()
    };
    let mut out = Vec::new();
    for models in &model_rows {
        let settings = model_settings(models)?;
        for (suite, suite_tasks) in tasks {
            for sut in &plan.suts {
                let mut config = arm_config(base, &settings)?;
                config.tasks = suite_tasks.clone();
                config.sut = *sut;
                let described = crate::ab::describe(&settings);
                let models = if described.is_empty() {
                    "fleet models".to_string()
                } else {
                    described
                };
                out.push(Cell {
                    label: format!("{models} suite={suite} sut={sut}"),
                    config,
                });
            }
        }
    }
    Ok(out)
}

/// The state of the newest night, kept beside the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NightState {
    /// The night (YYYY-MM-DD).
    pub night: String,
    /// The plan's hash.
    pub plan_hash: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// When it finished; None while running or after an interruption.
    pub finished: Option<String>,
}

/// Where a results file's night state lives.
pub fn state_path(results: &Path) -> PathBuf {
    let mut name = results.as_os_str().to_os_string();
    name.push(".nightly.json");
    PathBuf::from(name)
}

/// The night to run: `explicit`, else the recorded unfinished night of this plan, else
/// `today`. The bool says whether an interrupted night is being resumed.
pub fn choose_night(
    explicit: Option<&str>,
    recorded: Option<&NightState>,
    plan_hash: &str,
    today: &str,
) -> (String, bool) {
    if let Some(night) = explicit {
        let resumed = recorded.is_some_and(|s| s.night == night && s.finished.is_none());
        return (night.to_string(), resumed);
    }
    match recorded {
        Some(state) if state.finished.is_none() && state.plan_hash == plan_hash => {
            (state.night.clone(), true)
        }
        _ => (today.to_string(), false),
    }
}

/// Reads the state file (None when absent or unreadable: a new night starts).
pub fn read_state(results: &Path) -> Option<NightState> {
    let text = std::fs::read_to_string(state_path(results)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes the state file whole (a temporary file renamed over it).
pub fn write_state(results: &Path, state: &NightState) -> Result<(), String> {
    let path = state_path(results);
    let temporary = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&temporary, text)
        .and_then(|_| std::fs::rename(&temporary, &path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// What a night did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NightSummary {
    /// Rows appended tonight.
    pub rows: Vec<ResultRow>,
    /// Turns skipped as already present (a resumed night).
    pub skipped: u32,
    /// Task replicates abandoned, with why.
    pub abandoned: Vec<String>,
    /// Wall seconds of this invocation.
    pub wall_seconds: f64,
    /// Model-busy seconds over the rows appended, summed over every builder slot.
    pub busy_seconds: f64,
    /// The fleet's slots (the largest cell fleet's sum of worker slots).
    pub slots: u32,
}

impl NightSummary {
    /// Fleet occupancy over the night: busy seconds ÷ (wall × slots).
    pub fn occupancy(&self) -> Option<f64> {
        crate::runner::occupancy(self.busy_seconds, self.wall_seconds, self.slots)
    }

    /// The occupancy as the line `run` prints, or None when nothing ran.
    pub fn occupancy_line(&self) -> Option<String> {
        crate::runner::occupancy_line(self.busy_seconds, self.wall_seconds, self.slots)
    }
}

/// Receives each cell's progress: the cell's label and the event.
pub type CellEvents = Arc<dyn Fn(&str, &RunEvent) + Send + Sync>;

/// Worker slots of a cell's fleet.
fn worker_slots(config: &RunConfig) -> u32 {
    crate::runner::worker_slots(&config.fleet)
}

/// Runs the night: replicate by replicate, every cell, skipping turns already recorded.
pub async fn run_night(
    cells: &[Cell],
    night: &str,
    replicates: u32,
    on_event: CellEvents,
) -> Result<NightSummary, RunError> {
    let started = std::time::Instant::now();
    let mut summary = NightSummary {
        slots: cells
            .iter()
            .map(|c| worker_slots(&c.config))
            .max()
            .unwrap_or(0),
        ..NightSummary::default()
    };
    for replicate in 1..=replicates {
        for cell in cells {
            let mut config = cell.config.clone();
            config.first_replicate = replicate;
            config.replicates = 1;
            config.resume = true;
            config.experiment = format!("nightly-{night}");
            let events = on_event.clone();
            let label = cell.label.clone();
            let ran = run_suite(
                config,
                Arc::new(move |event: &RunEvent| events(&label, event)),
            )
            .await?;
            summary.busy_seconds += ran.busy_seconds;
            summary.rows.extend(ran.rows);
            summary.skipped += ran.skipped;
            summary.abandoned.extend(ran.abandoned);
        }
    }
    summary.wall_seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn plans_are_checked_and_defaulted() {
        let plan = NightlyPlan::from_yaml(
            "fleet: f.yaml\nsuites: [smoke]\nmodels:\n  - {model: qwen}\n  - {model: qwopus, judge_model: gemma}\n",
            "n.yaml",
        )
        .unwrap();
        assert_eq!(plan.suts, vec![Sut::Swarm]);
        assert_eq!((plan.replicates, plan.baseline_nights), (2, 7));
        assert_eq!(parse_night("2026-12-01").unwrap(), "2026-12-01");
        for bad in ["2026-13-45", "2026-02-30", "2026-2-03", "tomorrow", ""] {
            assert!(parse_night(bad).is_err(), "{bad}");
        }
        assert_eq!(plan.results, PathBuf::from("results/nightly.csv"));
        let bad = |yaml: &str| NightlyPlan::from_yaml(yaml, "n.yaml").unwrap_err();
        assert!(bad("fleet: f\nsuites: []\n").contains("`suites` is empty"));
        assert!(bad("fleet: f\nsuites: [s]\nmodels: [{max_actions: '3'}]\n")
            .contains("`max_actions` is not a model role"));
        assert!(bad("fleet: f\nsuites: [s]\nsuts: [cluster]\n").contains("n.yaml"));
        assert!(bad("fleet: f\nsuites: [s]\nreplicate: 2\n").contains("unknown field"));
    }

    #[test]
    fn an_unfinished_night_of_the_same_plan_is_resumed_and_anything_else_starts_fresh() {
        let state = |finished: Option<&str>, hash: &str| NightState {
            night: "2026-11-30".into(),
            plan_hash: hash.into(),
            started: "2026-11-30T02:00:00Z".into(),
            finished: finished.map(String::from),
        };
        let today = "2026-12-01";
        assert_eq!(
            choose_night(None, Some(&state(None, "h")), "h", today),
            ("2026-11-30".into(), true)
        );
        assert_eq!(
            choose_night(None, Some(&state(Some("x"), "h")), "h", today),
            (today.into(), false)
        );
        assert_eq!(
            choose_night(None, Some(&state(None, "other")), "h", today),
            (today.into(), false)
        );
        assert_eq!(choose_night(None, None, "h", today), (today.into(), false));
        assert_eq!(
            choose_night(Some("2026-11-30"), Some(&state(None, "other")), "h", today),
            ("2026-11-30".into(), true)
        );
    }
}
