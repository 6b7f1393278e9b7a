//! Calibrating the fleet's judge before it grades a study: its panel ranks each app's
//! reference against planted-bug twins of it ([`graders::calibration`]); an uncalibrated
//! judge's scores are recorded but left out of the verdicts.

use crate::task::Task;
use graders::calibration::{calibrate, Calibration, CalibrationCase};
use graders::judge::JudgeBrief;
use swarm::{Fleet, Knobs, Sandbox};

/// Calibrates the judges of `fleet` on the first turn of each of `tasks`; `None` when the
/// fleet has no reachable judge (the judged scores are then missing anyway).
pub async fn calibrate_judges(
    fleet: &Fleet,
    knobs: &Knobs,
    tasks: &[Task],
    required: f64,
) -> Result<Option<Calibration>, String> {
    let connected = crate::sut::connect_fleet(fleet, knobs).await?;
    if connected.judges.is_empty() {
        return Ok(None);
    }
    let panel: Vec<&graders::JudgeNode> = connected.judges.iter().collect();
    let cases: Vec<CalibrationCase<'_>> = tasks
        .iter()
        .filter_map(|task| {
            let turn = task.turns.first()?;
            Some(CalibrationCase {
                task: task.id.clone(),
                brief: JudgeBrief {
                    spec: &task.spec,
                    request: &turn.request,
                    hidden_requirements: &task.hidden_requirements,
                },
                reference: &turn.reference,
                checks: turn.check_set(),
            })
        })
        .collect();
    Ok(Some(
        calibrate(&panel, &cases, required, Sandbox::detect()).await,
    ))
}
