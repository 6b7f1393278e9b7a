//! Do the A/B statistics keep their promise? Many simulated experiments, scored by the same
//! analysis the reports use ([`crate::ab::analyse`]):
//!
//! - **A/A**: both arms are the same scripted model with seeded noise in its behaviour; a
//!   verdict that one arm is "better" is a false positive. At α = 0.05 with Holm's
//!   correction across the dimensions, the share of experiments with any such verdict must
//!   stay at or under 5%.
//! - **Planted effect**: arm A passes each hidden check more often, by a known amount of the
//!   `checks` score; how often the report says "A better on checks" is set beside the power
//!   the report itself claims (from its own standard error).
//!
//! The model of behaviour (SIMULATED, per experiment): each task has its own difficulty (the
//! chance a hidden check passes), number of checks, judge leniency, static-finding rate and
//! test depth, so tasks differ the way real tasks do and the analysis must cluster by task.
//! Each (task, turn, replicate, arm) then draws its checks binomially, its judged scores
//! around the task's leniency (following the checks), its findings, its test depth and its
//! claim (done or not) with noise.

use crate::ab::analyse;
use crate::results::ResultRow;
use crate::stats::{student_t_cdf, student_t_quantile, wilson};
use rand::{RngExt, SeedableRng};
use rand_distr::{Binomial, Distribution, Normal, Poisson};

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatsPlan {
    /// Experiments of each kind.
    pub experiments: u32,
    /// Tasks per experiment (the clusters).
    pub tasks: u32,
    /// Turns per task.
    pub turns: u32,
    /// Replicates per arm.
    pub replicates: u32,
    /// The planted difference in the `checks` score (A − B, points of 10).
    pub effect: f64,
    /// Seed.
    pub seed: u64,
}

/// What the simulations found.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsCheck {
    /// The plan.
    pub plan: StatsPlan,
    /// A/A experiments with at least one "better" verdict.
    pub aa_any_better: u32,
    /// Per dimension: A/A experiments where that dimension was called better.
    pub aa_by_dimension: Vec<(String, u32)>,
    /// Per dimension: A/A experiments where that dimension's own p-value (before any
    /// correction) was under 0.05 — the size of each test alone.
    pub aa_raw_by_dimension: Vec<(String, u32)>,
    /// A/A experiments where McNemar's test on pass/fail had p < 0.05.
    pub aa_mcnemar: u32,
    /// Planted-effect experiments where the report said "A better on checks".
    pub detected: u32,
    /// The mean power the reports claimed for the planted effect (from each report's own
    /// standard error of the checks difference), over the planted-effect experiments.
    pub claimed_power: f64,
    /// The mean measured difference in checks across planted experiments.
    pub measured_effect: f64,
}

struct TaskTraits {
    checks: u64,
    pass_chance: f64,
    leniency: f64,
    findings: f64,
    depth: f64,
}

fn clamp10(value: f64) -> f64 {
    (value.clamp(0.0, 10.0) * 10.0).round() / 10.0
}

fn row(
    rng: &mut rand::rngs::StdRng,
    traits: &TaskTraits,
    shift: f64,
    key: (u32, u32, u32),
    arm: &str,
) -> ResultRow {
    let (task, turn, replicate) = key;
    let chance = (traits.pass_chance + shift).clamp(0.0, 1.0);
    let passed = Binomial::new(traits.checks, chance)
        .map(|b| b.sample(rng))
        .unwrap_or(0);
    let checks = 10.0 * passed as f64 / traits.checks as f64;
    let pass = passed == traits.checks;
    let claims_done = pass || rng.random_bool(0.5);
    let swarm = match (claims_done, pass) {
        (true, true) => 10.0,
        (true, false) => 0.0,
        (false, true) => 6.0,
        (false, false) => 4.0,
    };
    let noise = Normal::new(0.0, 1.5).ok();
    let mut judged = |base: f64| {
        let wobble = noise.map(|n| n.sample(&mut *rng)).unwrap_or(0.0);
        clamp10((base + 0.3 * (checks - 5.0) + wobble).round())
    };
    let requirements = judged(traits.leniency);
    let code_quality = judged(traits.leniency);
    let bugs = judged(traits.leniency);
    let poisson = |mean: f64, rng: &mut rand::rngs::StdRng| {
        Poisson::new(mean.max(1e-6))
            .map(|p| p.sample(rng))
            .unwrap_or(0.0)
    };
    let cluster = clamp10(10.0 - 2.0 * poisson(0.2, rng));
    let diagnostics = clamp10(10.0 - 2.0 * poisson(traits.findings, rng));
    let depth_noise = Normal::new(0.0, 1.5).map(|n| n.sample(rng)).unwrap_or(0.0);
    let test_depth = clamp10(traits.depth + depth_noise);
    let others = [
        swarm,
        cluster,
        diagnostics,
        requirements,
        code_quality,
        bugs,
    ];
    let overall = clamp10(0.6 * checks + 0.4 * others.iter().sum::<f64>() / others.len() as f64);
    ResultRow {
        run_id: "simulated".into(),
        experiment: format!("sim:{arm}"),
        timestamp: String::new(),
        commit: String::new(),
        suite: "simulated".into(),
        task: format!("task{task}"),
        manifest_hash: String::new(),
        turn,
        replicate,
        sut: "swarm".into(),
        builder_model: "scripted".into(),
        brain_model: String::new(),
        judge_model: "scripted".into(),
        fleet: String::new(),
        knobs_hash: String::new(),
        knobs: String::new(),
        checks: Some(clamp10(checks)),
        swarm: Some(swarm),
        cluster: Some(cluster),
        diagnostics: Some(diagnostics),
        requirements: Some(requirements),
        code_quality: Some(code_quality),
        bugs: Some(bugs),
        overall: Some(overall),
        hidden_verdict: if pass { "pass" } else { "fail" }.into(),
        claimed_verdict: if claims_done { "pass" } else { "fail" }.into(),
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
        test_depth: Some(test_depth),
        test_depth_detail: String::new(),
        sampling: String::new(),
        cache_hit: None,
        tokens_per_second: None,
        first_byte_ms: None,
        build_occupancy: None,
        makespan_over_bound: None,
        ..ResultRow::default()
    }
}

/// One experiment's two arms; arm A's chance of passing each check is raised by
/// `effect` ÷ 10 (so its expected checks score is `effect` points higher, unless clamped).
fn experiment(
    rng: &mut rand::rngs::StdRng,
    plan: &StatsPlan,
    effect: f64,
) -> (Vec<ResultRow>, Vec<ResultRow>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for task in 1..=plan.tasks {
        let traits = TaskTraits {
            checks: rng.random_range(3..=8),
            pass_chance: rng.random_range(0.2..0.8),
            leniency: rng.random_range(3.0..8.0),
            findings: rng.random_range(0.0..1.5),
            depth: rng.random_range(0.0..8.0),
        };
        for turn in 1..=plan.turns {
            for replicate in 1..=plan.replicates {
                a.push(row(
                    rng,
                    &traits,
                    effect / 10.0,
                    (task, turn, replicate),
                    "A",
                ));
                b.push(row(rng, &traits, 0.0, (task, turn, replicate), "B"));
            }
        }
    }
    (a, b)
}

/// One synthetic experiment's two arms under `plan`, with its planted effect (the rows the
/// checks below analyse; the benchmarks time the analysis on them).
pub fn synthetic_experiment(plan: &StatsPlan) -> (Vec<ResultRow>, Vec<ResultRow>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(plan.seed);
    experiment(&mut rng, plan, plan.effect)
}

/// Runs the A/A and planted-effect simulations.
pub fn check_statistics(plan: StatsPlan) -> StatsCheck {
    let mut rng = rand::rngs::StdRng::seed_from_u64(plan.seed);
    let mut result = StatsCheck {
        plan,
        aa_any_better: 0,
        aa_by_dimension: graders::DIMENSIONS
            .iter()
            .map(|d| (d.to_string(), 0))
            .collect(),
        aa_raw_by_dimension: graders::DIMENSIONS
            .iter()
            .map(|d| (d.to_string(), 0))
            .collect(),
        aa_mcnemar: 0,
        detected: 0,
        claimed_power: 0.0,
        measured_effect: 0.0,
    };
    let better = |verdict: &str| verdict.starts_with("A better") || verdict.starts_with("B better");
    for _ in 0..plan.experiments {
        let (a, b) = experiment(&mut rng, &plan, 0.0);
        let report = analyse("sim", &a, &b);
        let mut any = false;
        for (index, dimension) in report.dimensions.iter().enumerate() {
            let raw = dimension
                .comparison
                .as_ref()
                .and_then(|c| c.p_value)
                .is_some_and(|p| p < 0.05);
            if let Some(slot) = result.aa_raw_by_dimension.get_mut(index).filter(|_| raw) {
                slot.1 += 1;
            }
            if better(&dimension.verdict) {
                any = true;
                if let Some(slot) = result.aa_by_dimension.get_mut(index) {
                    slot.1 += 1;
                }
            }
        }
        result.aa_any_better += u32::from(any);
        result.aa_mcnemar += u32::from(report.pass_fail.4 < 0.05);
    }
    let mut power_sum = 0.0;
    let mut effect_sum = 0.0;
    for _ in 0..plan.experiments {
        let (a, b) = experiment(&mut rng, &plan, plan.effect);
        let report = analyse("sim", &a, &b);
        let Some(checks) = report.dimensions.iter().find(|d| d.dimension == "checks") else {
            continue;
        };
        result.detected += u32::from(checks.verdict.starts_with("A better"));
        if let Some(comparison) = &checks.comparison {
            effect_sum += comparison.difference;
            // The power the report claims: its detectable difference is where power reaches
            // 80% at Holm's strictest level; the same level gives the power at this effect.
            let tested = report
                .dimensions
                .iter()
                .filter(|d| d.adjusted_p.is_some())
                .count()
                .max(1);
            if let Some(se) = comparison.standard_error.filter(|se| *se > 0.0) {
                let df = comparison.clusters as f64 - 1.0;
                let level = 1.0 - crate::ab::HOLM_ALPHA / (2.0 * tested as f64);
                let critical = student_t_quantile(level, df);
                power_sum += 1.0 - student_t_cdf(critical - plan.effect / se, df);
            } else {
                power_sum += 1.0;
            }
        }
    }
    let n = f64::from(plan.experiments.max(1));
    result.claimed_power = power_sum / n;
    result.measured_effect = effect_sum / n;
    result
}

fn share(count: u32, n: u32) -> String {
    let interval = wilson(u64::from(count), u64::from(n))
        .map(|(low, high)| format!(" [{:.1}%, {:.1}%]", 100.0 * low, 100.0 * high))
        .unwrap_or_default();
    format!(
        "{count}/{n} = {:.1}%{interval}",
        100.0 * f64::from(count) / f64::from(n.max(1))
    )
}

impl StatsCheck {
    /// The A/A false-positive rate against the nominal 5%: `KEPT` when the rate is at or
    /// under it, `CONSISTENT` when above it but its 95% interval still holds 5% (sampling
    /// noise of the check itself), `NOT KEPT` when the whole interval is above 5%.
    pub fn alpha_verdict(&self) -> &'static str {
        let n = self.plan.experiments;
        let rate = f64::from(self.aa_any_better) / f64::from(n.max(1));
        let low = wilson(u64::from(self.aa_any_better), u64::from(n))
            .map(|(low, _)| low)
            .unwrap_or(rate);
        if rate <= 0.05 {
            "KEPT"
        } else if low <= 0.05 {
            "CONSISTENT (above 5% by less than this check's own noise; run more --experiments)"
        } else {
            "NOT KEPT"
        }
    }

    /// Whether the A/A rate is not shown to exceed 5% ([`StatsCheck::alpha_verdict`]).
    pub fn keeps_alpha(&self) -> bool {
        self.alpha_verdict() != "NOT KEPT"
    }

    /// The figures, labelled SIMULATED.
    pub fn render(&self) -> String {
        let plan = &self.plan;
        let mut out = format!(
            "SIMULATED: {} A/A and {} planted-effect experiments of {} task(s) x {} turn(s) x {} replicate(s) per arm (seed {}), analysed by the A/B report's own code\n\n",
            plan.experiments, plan.experiments, plan.tasks, plan.turns, plan.replicates, plan.seed
        );
        out.push_str(&format!(
            "A/A, any dimension called better (Holm across {} dimensions, alpha 0.05): {} — goal at most 5%: {}\n",
            self.aa_by_dimension.len(),
            share(self.aa_any_better, plan.experiments),
            self.alpha_verdict()
        ));
        out.push_str(
            "  dimension     called better                   its own p < 0.05 (uncorrected)\n",
        );
        for ((dimension, count), (_, raw)) in
            self.aa_by_dimension.iter().zip(&self.aa_raw_by_dimension)
        {
            out.push_str(&format!(
                "  {dimension:<13} {:<31} {}\n",
                share(*count, plan.experiments),
                share(*raw, plan.experiments)
            ));
        }
        out.push_str(&format!(
            "A/A, McNemar p < 0.05 on pass/fail: {}\n\n",
            share(self.aa_mcnemar, plan.experiments)
        ));
        out.push_str(&format!(
            "planted effect on checks: +{:.2} points (measured mean +{:.2}); detected as \"A better on checks\": {}; power the reports claimed: {:.1}%\n",
            plan.effect,
            self.measured_effect,
            share(self.detected, plan.experiments),
            100.0 * self.claimed_power
        ));
        out
    }
}
