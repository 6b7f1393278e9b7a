//! A/B comparisons: the same tasks, the same binary, exactly the stated settings changed.
//!
//! `--a KEY=VALUE… --b KEY=VALUE…` with keys `model` (the builder model: the worker nodes
//! serving it, or, when none does, every worker asked for it), `action_mode`, `max_actions`,
//! `sut` and `fleet` (another fleet file). Both arms run the same replicates, interleaved: on
//! odd replicates A goes first, on even ones B, so drift in the fleet hits both alike. Rows
//! carry `AB_ID:A` / `AB_ID:B` in `experiment`, so `swarm-gym report` can pair them later.
//!
//! The report pairs rows by (task, turn, replicate) and, per dimension, gives each arm's mean,
//! the paired difference A − B with a 95% interval clustered by task, a t-test with Holm's
//! correction across the seven dimensions, the smallest difference this N could detect, and
//! a verdict; pass/fail gets McNemar's exact test; each task gets a win, draw or loss on its
//! mean overall score.

use crate::results::ResultRow;
use crate::runner::{run_suite, RunConfig, RunError, RunEvent, RunSummary};
use crate::stats::{
    compare, holm, mcnemar_exact, replicates_needed, wilson, Pair, PairedComparison,
};
use crate::sut::Sut;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use swarm::ActionMode;
use swarm::{Fleet, Role};

/// One setting of an arm.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// The model of a role (`model=` is the builders'; `judge_model=`, `brain_model=`).
    Model(Role, String),
    /// The action protocol of the workers.
    ActionMode(ActionMode),
    /// The action budget.
    MaxActions(u32),
    /// The system under test.
    Sut(Sut),
    /// Another fleet file.
    Fleet(std::path::PathBuf),
    /// A pipeline knob (`knob:NAME=VALUE`), e.g. a feature switched off.
    Knob(String, String),
    /// A sampling setting of the builders (`temperature=`, `top_p=`, `seed=`).
    Sampling(String, String),
}

/// Parses `KEY=VALUE`.
pub fn parse_setting(text: &str) -> Result<Setting, String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    let value = value.trim();
    match key.trim() {
        "model" if !value.is_empty() => Ok(Setting::Model(Role::Worker, value.into())),
        "judge_model" if !value.is_empty() => Ok(Setting::Model(Role::Judge, value.into())),
        "brain_model" if !value.is_empty() => Ok(Setting::Model(Role::Brain, value.into())),
        "action_mode" => value.parse().map(Setting::ActionMode),
        "max_actions" => value.parse::<u32>().ok().filter(|n| *n > 0).map(Setting::MaxActions).ok_or_else(|| format!("max_actions=`{value}` is not a positive number")),
        "sut" => match value {
            "single" => Ok(Setting::Sut(Sut::Single)),
            "swarm" => Ok(Setting::Sut(Sut::Swarm)),
            other => Err(format!("sut=`{other}`: expected single or swarm")),
        },
                "fleet" if !value.is_empty() => Ok(Setting::Fleet(value.into())),
        name @ ("temperature" | "top_p" | "seed") => {
            // Checked now, so a bad value fails before any run.
            swarm::Sampling::default().set(name, value)?;
            Ok(Setting::Sampling(name.into(), value.into()))
        }
        knob if knob.starts_with("knob:") => {
            let name = knob.trim_start_matches("knob:").to_string();
            // Checked now, so a typo fails before any run.
            swarm::knobs::Knobs::default()
                .set(&name, value, swarm::knobs::Source::Flag, text)
                .map_err(|err| err.to_string())?;
            Ok(Setting::Knob(name, value.to_string()))
        }
        other => Err(format!(
            "unknown setting `{other}`; the settings an arm can change are model, judge_model, brain_model, action_mode, max_actions, sut, fleet, temperature, top_p, seed, knob:NAME (`swarm knobs` lists the knobs)"
        )),
    }
}

/// A fresh experiment id: `ab` and the Unix time in seconds.
pub fn experiment_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("ab{secs}")
}

/// The run configuration of one arm: `base` with exactly `settings` changed.
pub fn arm_config(base: &RunConfig, settings: &[Setting]) -> Result<RunConfig, String> {
    let mut config = base.clone();
    for setting in settings {
        match setting {
            Setting::Fleet(path) => {
                config.fleet = Fleet::load(path).map_err(|err| err.to_string())?;
                config.fleet_name = path.display().to_string();
            }
            // The single agent's budget is the swarm's build budget: one knob for both.
            Setting::MaxActions(n) => config
                .knobs
                .set(
                    swarm::knobs::BUILD_MAX_ACTIONS.def.name,
                    &n.to_string(),
                    swarm::knobs::Source::Flag,
                    "arm",
                )
                .map_err(|err| err.to_string())?,
            Setting::Sut(sut) => config.sut = *sut,
            Setting::Knob(name, value) => config
                .knobs
                .set(name, value, swarm::knobs::Source::Flag, "arm")
                .map_err(|err| err.to_string())?,
            Setting::ActionMode(_) | Setting::Model(..) | Setting::Sampling(..) => {}
        }
    }
    for setting in settings {
        match setting {
            Setting::ActionMode(mode) => {
                for node in config
                    .fleet
                    .nodes
                    .iter_mut()
                    .filter(|n| n.has_role(Role::Worker))
                {
                    node.action_mode = *mode;
                }
            }
            Setting::Model(role, model) => set_role_model(&mut config.fleet, *role, model),
            Setting::Sampling(name, value) => set_builder_sampling(&mut config.fleet, name, value)?,
            _ => {}
        }
    }
    Ok(config)
}

/// Sets a sampling setting on every node that builds (planner, worker, scout). A node that
/// also judges or plays the user is split: those roles go to a copy (`NAME-others`) that
/// keeps the node's own sampling, so only the builders change.
pub fn set_builder_sampling(fleet: &mut Fleet, name: &str, value: &str) -> Result<(), String> {
    const BUILDERS: [Role; 3] = [Role::Planner, Role::Worker, Role::Scout];
    let mut nodes = Vec::new();
    for node in &fleet.nodes {
        let roles = if node.roles.is_empty() {
            swarm::ALL_ROLES.to_vec()
        } else {
            node.roles.clone()
        };
        let (builds, others): (Vec<Role>, Vec<Role>) =
            roles.into_iter().partition(|r| BUILDERS.contains(r));
        if builds.is_empty() {
            nodes.push(node.clone());
            continue;
        }
        if !others.is_empty() {
            let mut kept = node.clone();
            kept.name = format!("{}-others", node.name);
            kept.roles = others;
            nodes.push(kept);
        }
        let mut builder = node.clone();
        builder.roles = builds;
        builder.sampling.set(name, value)?;
        nodes.push(builder);
    }
    fleet.nodes = nodes;
    Ok(())
}

/// Gives `role` to the nodes serving `model` only, touching no other role of any node: nodes
/// serving another model lose the role; when no node serves `model`, each node of the role is
/// asked for it through a single-role copy (`NAME-ROLE`), so its other roles keep their model.
pub fn set_role_model(fleet: &mut Fleet, role: Role, model: &str) {
    let roles_of = |node: &swarm::Node| {
        if node.roles.is_empty() {
            swarm::ALL_ROLES.to_vec()
        } else {
            node.roles.clone()
        }
    };
    let serving = fleet
        .nodes
        .iter()
        .any(|n| n.has_role(role) && n.model == model);
    let mut copies = Vec::new();
    for node in fleet
        .nodes
        .iter_mut()
        .filter(|n| n.has_role(role) && n.model != model)
    {
        if !serving {
            let mut copy = node.clone();
            copy.name = format!("{}-{}", node.name, format!("{role:?}").to_lowercase());
            copy.model = model.to_string();
            copy.roles = vec![role];
            copies.push(copy);
        }
        node.roles = roles_of(node).into_iter().filter(|r| *r != role).collect();
    }
    // A node left with no role would read as "every role": it has no part in this arm.
    fleet
        .nodes
        .retain(|n| !n.roles.is_empty() || n.model == model);
    fleet.nodes.extend(copies);
}

/// Describes settings for reports: `model=x, max_actions=20`.
pub fn describe(settings: &[Setting]) -> String {
    settings
        .iter()
        .map(|s| match s {
            Setting::Model(Role::Worker, m) => format!("model={m}"),
            Setting::Model(role, m) => format!("{}_model={m}", format!("{role:?}").to_lowercase()),
            Setting::ActionMode(m) => format!("action_mode={m}"),
            Setting::MaxActions(n) => format!("max_actions={n}"),
            Setting::Sut(s) => format!("sut={s}"),
            Setting::Fleet(p) => format!("fleet={}", p.display()),
            Setting::Knob(name, value) => format!("knob:{name}={value}"),
            Setting::Sampling(name, value) => format!("{name}={value}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Receives each arm's progress: the arm's label ("A" or "B") and the event.
pub type ArmEvents = Arc<dyn Fn(&str, &RunEvent) + Send + Sync>;

/// Overall scores of one task and replicate: (arm A's, arm B's).
type TaskScores = BTreeMap<u32, (Vec<f64>, Vec<f64>)>;

/// Runs both arms, interleaved by replicate.
pub async fn run_ab(
    base: &RunConfig,
    arms: (&[Setting], &[Setting]),
    experiment: &str,
    on_event: ArmEvents,
) -> Result<(Vec<RunSummary>, Vec<RunSummary>), RunError> {
    let a = arm_config(base, arms.0).map_err(RunError::Fleet)?;
    let b = arm_config(base, arms.1).map_err(RunError::Fleet)?;
    // Both arms' models are checked before either runs.
    for (label, arm) in [("A", &a), ("B", &b)] {
        crate::sut::check_models(&arm.fleet, &arm.knobs)
            .await
            .map_err(|err| RunError::Fleet(format!("arm {label}: {err}")))?;
    }
    let (mut done_a, mut done_b) = (Vec::new(), Vec::new());
    for replicate in 1..=base.replicates {
        let order = if replicate % 2 == 1 {
            ["A", "B"]
        } else {
            ["B", "A"]
        };
        for arm in order {
            let mut config = if arm == "A" { a.clone() } else { b.clone() };
            config.first_replicate = replicate;
            config.replicates = 1;
            config.experiment = format!("{experiment}:{arm}");
            let events = on_event.clone();
            let label = arm.to_string();
            let summary = run_suite(
                config,
                Arc::new(move |event: &RunEvent| events(&label, event)),
            )
            .await?;
            if arm == "A" {
                done_a.push(summary);
            } else {
                done_b.push(summary);
            }
        }
    }
    Ok((done_a, done_b))
}

/// The comparison of one dimension, with its corrected p-value and verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionResult {
    /// Dimension.
    pub dimension: String,
    /// The paired statistics (None: no pair had both values).
    pub comparison: Option<PairedComparison>,
    /// Holm-adjusted p-value.
    pub adjusted_p: Option<f64>,
    /// Plain words.
    pub verdict: String,
}

/// The whole A/B report.
#[derive(Debug, Clone, PartialEq)]
pub struct AbReport {
    /// Experiment id.
    pub experiment: String,
    /// Paired units.
    pub pairs: usize,
    /// Replicates seen.
    pub replicates: u32,
    /// Per dimension.
    pub dimensions: Vec<DimensionResult>,
    /// (passed A, passed B, only A, only B, McNemar p).
    pub pass_fail: (u64, u64, u64, u64, f64),
    /// Per task: (task, wins of A, draws, losses of A) over replicates, on mean overall.
    pub tasks: Vec<(String, u32, u32, u32)>,
    /// Rows of one arm with no partner in the other.
    pub unpaired: usize,
    /// Paired rows of each arm where the judge contradicts the hidden checks (A, B).
    pub contradictions: (usize, usize),
}

fn value(row: &ResultRow, dimension: &str) -> Option<f64> {
    row.dimension(dimension)
}

/// Pairs the rows of arms A and B and analyses them.
pub fn analyse(experiment: &str, rows_a: &[ResultRow], rows_b: &[ResultRow]) -> AbReport {
    analyse_with(experiment, rows_a, rows_b, None)
}

/// [`analyse`], with the judge's dimensions left out of the tests and verdicts when
/// `untrusted_judge` says why (a judge that failed its calibration): their means are still
/// shown, their verdict says why they do not count, and Holm's family is the rest.
pub fn analyse_with(
    experiment: &str,
    rows_a: &[ResultRow],
    rows_b: &[ResultRow],
    untrusted_judge: Option<&str>,
) -> AbReport {
    let counts =
        |dimension: &str| untrusted_judge.is_none() || !graders::judge::JUDGED.contains(&dimension);
    let key = |r: &ResultRow| (r.suite.clone(), r.task.clone(), r.turn, r.replicate);
    let b_by_key: BTreeMap<_, &ResultRow> = rows_b.iter().map(|r| (key(r), r)).collect();
    let pairs: Vec<(&ResultRow, &ResultRow)> = rows_a
        .iter()
        .filter_map(|a| b_by_key.get(&key(a)).map(|b| (a, *b)))
        .collect();
    let unpaired = rows_a.len() + rows_b.len() - 2 * pairs.len();
    let replicates = pairs
        .iter()
        .map(|(a, _)| a.replicate)
        .collect::<BTreeSet<_>>()
        .len() as u32;
    let comparisons: Vec<Option<PairedComparison>> = graders::DIMENSIONS
        .iter()
        .map(|dimension| {
            let values: Vec<Pair> = pairs
                .iter()
                .filter_map(|(a, b)| {
                    Some(Pair {
                        task: format!("{}/{}", a.suite, a.task),
                        a: value(a, dimension)?,
                        b: value(b, dimension)?,
                    })
                })
                .collect();
            compare(&values)
        })
        .collect();
    let tested: Vec<(usize, f64)> = comparisons
        .iter()
        .enumerate()
        .filter(|(i, _)| counts(graders::DIMENSIONS[*i]))
        .filter_map(|(i, c)| c.as_ref().and_then(|c| c.p_value).map(|p| (i, p)))
        .collect();
    let adjusted = holm(&tested.iter().map(|(_, p)| *p).collect::<Vec<_>>());
    // The verdicts use Holm's correction over the tested dimensions, so the power the report
    // claims must too: "detectable" is the difference found with 80% power at Holm's
    // strictest step (two-sided α = 0.05 ÷ the number tested), a guarantee whatever the
    // other dimensions do. (At plain α = 0.05 it claimed 60% power where verdicts found 14%:
    // `swarm-gym stats-check`.)
    let tested_count = tested.len().max(1);
    let comparisons: Vec<Option<PairedComparison>> = comparisons
        .into_iter()
        .map(|comparison| comparison.map(|c| holm_detectable(c, tested_count)))
        .collect();
    let mut adjusted_by_index: BTreeMap<usize, f64> = BTreeMap::new();
    for ((index, _), p) in tested.iter().zip(adjusted) {
        adjusted_by_index.insert(*index, p);
    }
    let dimensions = graders::DIMENSIONS
        .iter()
        .enumerate()
        .map(|(index, dimension)| {
            let comparison = comparisons[index].clone();
            let adjusted_p = adjusted_by_index.get(&index).copied();
            let verdict = match untrusted_judge.filter(|_| !counts(dimension)) {
                Some(why) => format!("left out of verdicts: {why}"),
                None => verdict(dimension, comparison.as_ref(), adjusted_p, replicates),
            };
            DimensionResult {
                dimension: dimension.to_string(),
                comparison,
                adjusted_p,
                verdict,
            }
        })
        .collect();
    let passed = |r: &ResultRow| r.hidden_pass();
    let passed_a = pairs.iter().filter(|(a, _)| passed(a)).count() as u64;
    let passed_b = pairs.iter().filter(|(_, b)| passed(b)).count() as u64;
    let only_a = pairs
        .iter()
        .filter(|(a, b)| passed(a) && !passed(b))
        .count() as u64;
    let only_b = pairs
        .iter()
        .filter(|(a, b)| !passed(a) && passed(b))
        .count() as u64;
    let mut per_task: BTreeMap<String, TaskScores> = BTreeMap::new();
    for (a, b) in &pairs {
        if let (Some(x), Some(y)) = (a.overall, b.overall) {
            let entry = per_task
                .entry(format!("{}/{}", a.suite, a.task))
                .or_default()
                .entry(a.replicate)
                .or_default();
            entry.0.push(x);
            entry.1.push(y);
        }
    }
    let tasks = per_task
        .into_iter()
        .map(|(task, replicates)| {
            let (mut wins, mut draws, mut losses) = (0, 0, 0);
            for (xs, ys) in replicates.values() {
                let difference = xs.iter().sum::<f64>() / xs.len() as f64
                    - ys.iter().sum::<f64>() / ys.len() as f64;
                // Differences under half a point are within the graders' own rounding noise.
                if difference > 0.5 {
                    wins += 1;
                } else if difference < -0.5 {
                    losses += 1;
                } else {
                    draws += 1;
                }
            }
            (task, wins, draws, losses)
        })
        .collect();
    AbReport {
        experiment: experiment.into(),
        pairs: pairs.len(),
        replicates,
        dimensions,
        pass_fail: (
            passed_a,
            passed_b,
            only_a,
            only_b,
            mcnemar_exact(only_a, only_b),
        ),
        tasks,
        unpaired,
        contradictions: (
            pairs
                .iter()
                .filter(|(a, _)| a.judge_contradiction().is_some())
                .count(),
            pairs
                .iter()
                .filter(|(_, b)| b.judge_contradiction().is_some())
                .count(),
        ),
    }
}

/// `comparison` with its detectable difference at Holm's strictest level over `tested`
/// dimensions (two-sided α = 0.05 ÷ tested, power 80%).
pub fn holm_detectable(mut comparison: PairedComparison, tested: usize) -> PairedComparison {
    if let Some(se) = comparison.standard_error {
        let df = comparison.clusters as f64 - 1.0;
        let level = 1.0 - HOLM_ALPHA / (2.0 * tested as f64);
        comparison.detectable = Some(
            (crate::stats::student_t_quantile(level, df)
                + crate::stats::student_t_quantile(0.80, df))
                * se,
        );
    }
    comparison
}

/// The family-wise error rate the verdicts keep.
pub const HOLM_ALPHA: f64 = 0.05;

fn verdict(
    dimension: &str,
    comparison: Option<&PairedComparison>,
    adjusted: Option<f64>,
    replicates: u32,
) -> String {
    let Some(comparison) = comparison else {
        return "no paired values".into();
    };
    match (adjusted, comparison.detectable) {
        (Some(p), _) if p < HOLM_ALPHA && comparison.difference > 0.0 => format!("A better on {dimension}"),
        (Some(p), _) if p < HOLM_ALPHA => format!("B better on {dimension}"),
        (_, Some(detectable)) => match replicates_needed(replicates.max(1), detectable, comparison.difference) {
            Some(needed) => format!("no detectable difference at {replicates} replicate(s); about {needed} would be needed"),
            None => "the arms scored the same".into(),
        },
        _ => "too few tasks to test (needs at least 2)".into(),
    }
}

/// The report as text.
pub fn render(report: &AbReport, label_a: &str, label_b: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "A/B {}: A = {label_a}; B = {label_b}\n",
        report.experiment
    ));
    out.push_str(&format!(
        "{} paired turn(s) over {} replicate(s){}\n\n",
        report.pairs,
        report.replicates,
        if report.unpaired > 0 {
            format!(", {} row(s) without a partner left out", report.unpaired)
        } else {
            String::new()
        }
    ));
    out.push_str(&format!(
        "{:<13} {:>6} {:>6} {:>7} {:>17} {:>8} {:>10}  {}\n",
        "dimension", "A", "B", "A-B", "95% CI", "p(Holm)", "detectable", "verdict"
    ));
    let number = |v: Option<f64>, precision: usize| {
        v.map(|v| format!("{v:.precision$}"))
            .unwrap_or_else(|| "-".into())
    };
    for dimension in &report.dimensions {
        match &dimension.comparison {
            None => out.push_str(&format!(
                "{:<13} {:>6} {:>6} {:>7} {:>17} {:>8} {:>10}  {}\n",
                dimension.dimension, "-", "-", "-", "-", "-", "-", dimension.verdict
            )),
            Some(c) => out.push_str(&format!(
                "{:<13} {:>6.1} {:>6.1} {:>+7.1} {:>17} {:>8} {:>10}  {}\n",
                dimension.dimension,
                c.mean_a,
                c.mean_b,
                c.difference,
                c.interval
                    .map(|(l, h)| format!("[{l:+.1}, {h:+.1}]"))
                    .unwrap_or_else(|| "-".into()),
                number(dimension.adjusted_p, 3),
                c.detectable
                    .map(|d| format!("±{d:.1}"))
                    .unwrap_or_else(|| "-".into()),
                dimension.verdict
            )),
        }
    }
    out.push_str(&format!(
        "(95% CI and p before correction; verdicts at p(Holm) < {HOLM_ALPHA}; detectable: the difference found with 80% power at Holm's strictest level, α = {HOLM_ALPHA} ÷ {} dimensions)\n",
        report.dimensions.iter().filter(|d| d.adjusted_p.is_some()).count()
    ));
    let (passed_a, passed_b, only_a, only_b, p) = report.pass_fail;
    let n = report.pairs as u64;
    let rate = |k: u64| {
        let interval = wilson(k, n)
            .map(|(l, h)| format!(" [{:.0}%, {:.0}%]", l * 100.0, h * 100.0))
            .unwrap_or_default();
        format!("{k}/{n}{interval}")
    };
    out.push_str(&format!("\nhidden checks passed: A {}, B {}; only A {only_a}, only B {only_b}; McNemar exact p = {p:.3}\n", rate(passed_a), rate(passed_b)));
    let (contradicted_a, contradicted_b) = report.contradictions;
    if contradicted_a + contradicted_b > 0 {
        out.push_str(&format!("JUDGE CONTRADICTS THE CHECKS on {contradicted_a} row(s) of A and {contradicted_b} of B (a judged score of 8 or more where the hidden checks failed): read the judged dimensions with care; `swarm-gym show ROW` names them\n"));
    }
    out.push_str("\nper task (overall, by replicate): wins-draws-losses for A\n");
    for (task, wins, draws, losses) in &report.tasks {
        out.push_str(&format!("  {task:<24} {wins}-{draws}-{losses}\n"));
    }
    let (wins, draws, losses) = report
        .tasks
        .iter()
        .fold((0, 0, 0), |(w, d, l), (_, a, b, c)| (w + a, d + b, l + c));
    out.push_str(&format!("  {:<24} {wins}-{draws}-{losses}\n", "all"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn sampling_settings_are_checked_and_change_only_the_builders() {
        assert_eq!(
            parse_setting("temperature=0.7").unwrap(),
            Setting::Sampling("temperature".into(), "0.7".into())
        );
        assert!(parse_setting("temperature=3")
            .unwrap_err()
            .contains("0..=2"));
        assert!(parse_setting("top_p=0").unwrap_err().contains("above 0"));
        assert!(parse_setting("seed=-1")
            .unwrap_err()
            .contains("whole number"));
        let mut fleet = Fleet::from_yaml(
            "nodes:\n  - {name: big, url: 'http://a', model: q, roles: [worker, judge]}\n  - {name: mini, url: 'http://b', model: g, roles: [judge]}\n",
            "f",
        )
        .unwrap();
        set_builder_sampling(&mut fleet, "seed", "7").unwrap();
        let view: Vec<(&str, Vec<Role>, Option<u64>)> = fleet
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.roles.clone(), n.sampling.seed))
            .collect();
        assert_eq!(
            view,
            vec![
                ("big-others", vec![Role::Judge], None),
                ("big", vec![Role::Worker], Some(7)),
                ("mini", vec![Role::Judge], None),
            ]
        );
    }

    #[test]
    fn settings_parse_with_clear_errors() {
        assert_eq!(
            parse_setting("model=qwen3.6-27b"),
            Ok(Setting::Model(Role::Worker, "qwen3.6-27b".into()))
        );
        assert_eq!(parse_setting("max_actions=20"), Ok(Setting::MaxActions(20)));
        assert!(parse_setting("temprature=0")
            .unwrap_err()
            .contains("unknown setting `temprature`"));
        assert!(parse_setting("model").unwrap_err().contains("KEY=VALUE"));
        // A knob arm is checked against the registry before any run.
        assert_eq!(
            parse_setting("knob:verify.review=false"),
            Ok(Setting::Knob("verify.review".into(), "false".into()))
        );
        assert!(parse_setting("knob:verify.reviews=false")
            .unwrap_err()
            .contains("no knob is called `verify.reviews`"));
        assert!(parse_setting("knob:fix.rounds=99")
            .unwrap_err()
            .contains("outside its safe range"));
    }

    #[test]
    fn a_model_setting_picks_the_workers_serving_it_and_changes_nothing_else() {
        let fleet = Fleet::from_yaml(
            "nodes:\n  - {name: a, url: 'http://a', model: careful}\n  - {name: b, url: 'http://b', model: sloppy, roles: [worker]}\n",
            "f",
        )
        .unwrap();
        let base = RunConfig {
            replicates: 3,
            ..RunConfig::new(Vec::new(), Sut::Single, fleet, "f", "r.csv")
        };
        // A knob arm changes that knob and nothing else.
        let knobbed = arm_config(
            &base,
            &[Setting::Knob("judge.enabled".into(), "false".into())],
        )
        .unwrap();
        assert!(!knobbed.knobs.get(swarm::knobs::JUDGE_ENABLED));
        assert_eq!(knobbed.knobs.changed().len(), 1);
        assert_eq!(knobbed.fleet, base.fleet);
        let arm = arm_config(&base, &[Setting::Model(Role::Worker, "sloppy".into())]).unwrap();
        let workers: Vec<&str> = arm
            .fleet
            .with_role(Role::Worker)
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(workers, vec!["b"]);
        assert!(
            arm.fleet.nodes[0].has_role(Role::Judge),
            "node a still judges"
        );
        assert_eq!(
            (arm.knobs.changed().len(), arm.judge_samples, arm.sut),
            (0, 3, Sut::Single)
        );
        // `max_actions=` is the knob `build.max_actions`, for the single agent as for the swarm.
        let budget = arm_config(&base, &[Setting::MaxActions(12)]).unwrap();
        assert_eq!(budget.knobs.get(swarm::knobs::BUILD_MAX_ACTIONS), 12);
        let unknown = arm_config(&base, &[Setting::Model(Role::Worker, "gemma".into())]).unwrap();
        assert!(
            unknown
                .fleet
                .with_role(Role::Worker)
                .iter()
                .all(|n| n.model == "gemma"),
            "no node serves it: every worker is asked for it"
        );
        // ...through single-role copies: node a still judges with its own model.
        let judges: Vec<(&str, &str)> = unknown
            .fleet
            .with_role(Role::Judge)
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str()))
            .collect();
        assert_eq!(judges, vec![("a", "careful")]);
        let builders: Vec<&str> = unknown
            .fleet
            .with_role(Role::Worker)
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(builders, vec!["a-worker", "b-worker"]);
        assert!(
            !unknown.fleet.nodes.iter().any(|n| n.name == "b"),
            "b had no other role: it takes no part"
        );
        // A judge-model arm changes the judges only.
        let judged = arm_config(&base, &[Setting::Model(Role::Judge, "gemma".into())]).unwrap();
        let workers: Vec<(&str, &str)> = judged
            .fleet
            .with_role(Role::Worker)
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str()))
            .collect();
        assert_eq!(workers, vec![("a", "careful"), ("b", "sloppy")]);
        let judges: Vec<(&str, &str)> = judged
            .fleet
            .with_role(Role::Judge)
            .iter()
            .map(|n| (n.name.as_str(), n.model.as_str()))
            .collect();
        assert_eq!(judges, vec![("a-judge", "gemma")]);
        assert_eq!(
            parse_setting("judge_model=gemma"),
            Ok(Setting::Model(Role::Judge, "gemma".into()))
        );
    }
}
