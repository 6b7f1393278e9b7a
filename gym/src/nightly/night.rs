//! One whole night as a library call ([`night`]): the plan's usable tasks, its matrix of
//! cells, the night's state (a new night, or the interrupted one resumed), every cell run,
//! the state closed when nothing was abandoned, and the report written. The binary renders
//! the [`NightEvent`]s and chooses the exit code from the [`NightOutcome`].

use super::{cells, choose_night, read_state, run_night, write_state, CellEvents};
use super::{Cell, NightState, NightSummary, NightlyPlan};
use crate::runner::RunConfig;
use crate::sut::Sut;
use swarm::{Fleet, Knobs, Sandbox};

/// What a night is told.
pub struct NightOptions<'a> {
    /// The plan.
    pub plan: &'a NightlyPlan,
    /// Its knobs, resolved.
    pub knobs: Knobs,
    /// Its fleet, loaded.
    pub fleet: Fleet,
    /// `--night DATE`, when given.
    pub night: Option<&'a str>,
    /// The sandbox the tasks are proven in (the caller has said its preflight).
    pub sandbox: &'static Sandbox,
    /// Makes the progress of every cell, given the night's total of turns.
    pub progress: Box<dyn FnOnce(usize) -> CellEvents + Send + 'a>,
}

/// What a night says before and after its cells run.
#[derive(Debug, Clone)]
pub enum NightEvent {
    /// A task was left out (its checks are not sound, or could not be checked).
    Skipped(String),
    /// The cells are about to run.
    Starting {
        /// The night.
        night: String,
        /// Whether the interrupted night is resumed.
        resumed: bool,
        /// Each cell's label.
        cells: Vec<String>,
        /// Turns over all cells and replicates.
        turns: usize,
    },
    /// Something went wrong that does not stop the night.
    Warning(String),
    /// A cell's judge was calibrated (its summary line).
    Calibrated(String),
}

/// How a night ended.
pub struct NightOutcome {
    /// The night.
    pub night: String,
    /// What ran.
    pub summary: NightSummary,
    /// The report.
    pub written: notebooks::report::Written,
}

/// Runs one night of `options.plan`.
///
/// # Errors
/// A task that cannot be used, a plan whose cells cannot be built, a state file that cannot
/// be written, a run that cannot start, or a report that cannot be written.
pub async fn night(
    options: NightOptions<'_>,
    on_event: &(dyn Fn(&NightEvent) + Send + Sync),
) -> Result<NightOutcome, String> {
    let plan = options.plan;
    let mut suites = Vec::new();
    for suite in &plan.suites {
        let dir = crate::task::suite_dirs(std::slice::from_ref(suite))?.remove(0);
        let usable = crate::validate::usable_tasks(
            &dir,
            &plan.tasks,
            options.sandbox,
            &crate::validate::Proofs::from_env(),
        )
        .await?;
        for line in usable.skipped {
            on_event(&NightEvent::Skipped(line));
        }
        suites.push((suite.clone(), usable.tasks));
    }
    let base = RunConfig {
        concurrency: plan.concurrency,
        resume: true,
        simulate_user: plan.simulate_user,
        max_turns: plan.max_turns,
        judge_samples: plan.judge_samples,
        test_depth: graders::TestDepthOptions {
            mutants: plan.mutants,
            ..graders::TestDepthOptions::default()
        },
        knobs: options.knobs,
        ..RunConfig::new(
            Vec::new(),
            Sut::Swarm,
            options.fleet,
            plan.fleet.display().to_string(),
            plan.results.clone(),
        )
    };
    let cells = cells(plan, &base, &suites)?;
    let (state, resumed) = open_night(plan, options.night)?;
    let night = state.night.clone();
    let per_replicate: usize = cells
        .iter()
        .map(|c| c.config.tasks.iter().map(|t| t.turns.len()).sum::<usize>())
        .sum();
    let turns = per_replicate * plan.replicates as usize;
    on_event(&NightEvent::Starting {
        night: night.clone(),
        resumed,
        cells: cells.iter().map(|c| c.label.clone()).collect(),
        turns,
    });
    let untrusted = calibrate_cells(&cells, plan.calibration_share, on_event).await?;
    let progress = (options.progress)(turns);
    let summary = run_night(&cells, &night, plan.replicates, progress)
        .await
        .map_err(|err| err.to_string())?;
    if summary.abandoned.is_empty() {
        let finished = NightState {
            finished: Some(swarm::now_rfc3339()),
            ..state
        };
        if let Err(err) = write_state(&plan.results, &finished) {
            on_event(&NightEvent::Warning(err));
        }
    }
    let written = report(plan, &night, untrusted, on_event)?;
    Ok(NightOutcome {
        night,
        summary,
        written,
    })
}

/// Calibrates each cell's judge (once per distinct set of judge models) on the cell's
/// tasks; returns why the judged dimensions must not be judged for regressions tonight, if
/// some judge failed.
async fn calibrate_cells(
    cells: &[Cell],
    required: f64,
    on_event: &(dyn Fn(&NightEvent) + Send + Sync),
) -> Result<Option<String>, String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut failed = Vec::new();
    for cell in cells {
        let judges: Vec<String> = cell
            .config
            .fleet
            .nodes
            .iter()
            .filter(|n| n.has_role(swarm::Role::Judge))
            .map(|n| format!("{}={}", n.name, n.model))
            .collect();
        if judges.is_empty() || !seen.insert(judges.join(";")) {
            continue;
        }
        let calibration = crate::study::judge::calibrate_judges(
            &cell.config.fleet,
            &cell.config.knobs,
            &cell.config.tasks,
            required,
        )
        .await?;
        if let Some(calibration) = calibration {
            on_event(&NightEvent::Calibrated(calibration.summary()));
            if !calibration.calibrated() {
                failed.push(calibration.models.join(";"));
            }
        }
    }
    Ok((!failed.is_empty()).then(|| {
        format!(
            "tonight's judge {} is UNCALIBRATED (it could not tell the suites' references from planted-bug twins)",
            failed.join(", ")
        )
    }))
}

/// The night to run, recorded before anything runs: the interrupted night of this plan
/// (resumed), else `--night`, else today.
fn open_night(plan: &NightlyPlan, asked: Option<&str>) -> Result<(NightState, bool), String> {
    let hash = plan.hash();
    let now = swarm::now_rfc3339();
    let today: String = now.chars().take(10).collect();
    let recorded = read_state(&plan.results);
    let (night, resumed) = choose_night(asked, recorded.as_ref(), &hash, &today);
    let state = NightState {
        night,
        plan_hash: hash,
        started: recorded
            .filter(|_| resumed)
            .map(|s| s.started)
            .unwrap_or(now),
        finished: None,
    };
    write_state(&plan.results, &state)?;
    Ok((state, resumed))
}

/// The nightly report over the plan's whole results file.
fn report(
    plan: &NightlyPlan,
    night: &str,
    untrusted_judge: Option<String>,
    on_event: &(dyn Fn(&NightEvent) + Send + Sync),
) -> Result<notebooks::report::Written, String> {
    let data = notebooks::data::load(std::slice::from_ref(&plan.results))
        .map_err(|err| err.to_string())?;
    for skipped in &data.skipped {
        on_event(&NightEvent::Warning(format!("left out {skipped}")));
    }
    let options = notebooks::report::ReportOptions {
        window: plan.baseline_nights,
        title: format!("swarm-gym nightly {night}"),
        night: Some(night.to_string()),
        left_out: untrusted_judge
            .map(|why| {
                graders::judge::JUDGED
                    .iter()
                    .map(|d| (d.to_string(), why.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    };
    notebooks::report::write(&data, &plan.report, &options).map_err(|err| err.to_string())
}
