//! VERIFY and FIX: the gates on the merged app, then fix tasks for the failing findings,
//! grouped by the task that owns each file, until the app passes, nothing failing is left to
//! fix, or the fix rounds run out.

use super::build::{self, Shared};
use super::{Ctx, Ended, Event, Phase, PhaseStatus, PipelineError, Record, RunStats};
use crate::plan::{self, Plan};
use crate::verify::{self, FindingKind, Gate, Severity, Verdict, VerifyOptions, VerifyReport};
use std::collections::{BTreeMap, BTreeSet};

/// Where VERIFY keeps a Rust app's build between rounds and runs, under the app's output
/// directory (never copied, never graded; see [`VerifyOptions::rust_cache`]).
pub const RUST_CACHE: &str = ".swarm/rust-cache";

/// VERIFY, then FIX what failed, round after round (counting the rounds an earlier part of
/// this run already used), until the verdict is settled.
pub(super) async fn verify_and_fix(
    ctx: &Ctx,
    shared: &Shared,
    mut unfinished: BTreeSet<String>,
    previous: &[Record],
    stats: &mut RunStats,
) -> Result<Ended, PipelineError> {
    let max_rounds = ctx.knobs.get(crate::knobs::FIX_ROUNDS);
    let mut round = previous
        .iter()
        .filter(|r| matches!(r.event, Event::FixRound { .. }))
        .count() as u32;
    loop {
        let report = verify_round(ctx, shared, &unfinished, round, stats).await?;
        stats.fix_rounds = round;
        let failing: Vec<&verify::Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Fail)
            .collect();
        if report.verdict != Verdict::Fail || failing.is_empty() {
            let reason = match report.verdict {
                Verdict::Pass => format!("every acceptance command passed and no gate failed (after {round} fix round(s))"),
                _ => format!("nothing failed, but not everything could be checked: {}", gate_summary(&report)),
            };
            return Ok((report.verdict, reason, Some(report)));
        }
        if round >= max_rounds {
            let reason = format!(
                "{} failing finding(s) left after {round} fix round(s): {}",
                failing.len(),
                gate_summary(&report)
            );
            return Ok((Verdict::Fail, reason, Some(report)));
        }
        round += 1;
        let by_owner = by_owner(&shared.plan, &failing);
        let in_main: BTreeSet<String> = shared
            .plan
            .tasks
            .iter()
            .map(|t| t.id.clone())
            .filter(|id| !unfinished.contains(id))
            .collect();
        for id in fix_round(ctx, shared, round, &by_owner, &in_main, stats).await? {
            unfinished.remove(&id);
        }
    }
}

/// One VERIFY: the gates, plus a failing `build` gate for every task that never merged (the
/// app cannot pass while one is missing, whatever the acceptance commands say); every gate
/// and finding goes into the log.
async fn verify_round(
    ctx: &Ctx,
    shared: &Shared,
    unfinished: &BTreeSet<String>,
    round: u32,
    stats: &mut RunStats,
) -> Result<VerifyReport, PipelineError> {
    ctx.phase(
        Phase::Verify,
        PhaseStatus::Started,
        format!("round {round}"),
    );
    let mut options = verify_options(ctx, shared);
    options.rust_cache =
        (shared.plan.language == crate::spec::Language::Rust).then(|| ctx.out.join(RUST_CACHE));
    let plan = &shared.plan;
    let mut report = verify::verify(&ctx.out, &ctx.spec, &options, ctx.sandbox)
        .await
        .map_err(|err| PipelineError::Io(err.to_string()))?;
    stats.tasks_failed = unfinished.len();
    if !unfinished.is_empty() {
        add_unfinished(&mut report, plan, unfinished);
    }
    for gate in &report.gates {
        ctx.emit(Event::Gate {
            round,
            gate: gate.gate,
            verdict: gate.verdict,
            summary: gate.summary.clone(),
        });
    }
    for finding in &report.findings {
        ctx.emit(Event::Finding {
            round,
            finding: finding.clone(),
            owner: owner_of(plan, &finding.file).map(|t| t.id.clone()),
        });
    }
    let summary = format!("round {round}: {}", report.verdict);
    ctx.phase(Phase::Verify, PhaseStatus::Finished, summary);
    Ok(report)
}

/// The gates as the knobs set them, knowing the plan's entry and the stubs the contract froze
/// (no build cache: the caller decides).
pub(super) fn verify_options(ctx: &Ctx, shared: &Shared) -> VerifyOptions {
    VerifyOptions {
        smoke: ctx.knobs.get(crate::knobs::VERIFY_SMOKE),
        review: ctx.knobs.get(crate::knobs::VERIFY_REVIEW),
        timeout: ctx.knobs.get(crate::knobs::VERIFY_COMMAND_TIMEOUT_S),
        entry: Some(shared.plan.entry.clone()),
        to_fill: shared
            .contracts
            .signatures
            .iter()
            .filter(|s| s.stub)
            .map(|s| (s.file.clone(), s.name.clone()))
            .collect(),
        ..VerifyOptions::default()
    }
}

/// The tasks that never merged, as findings of a failing `build` gate.
fn add_unfinished(report: &mut VerifyReport, plan: &Plan, unfinished: &BTreeSet<String>) {
    for id in unfinished {
        let file = plan
            .tasks
            .iter()
            .find(|t| &t.id == id)
            .and_then(|t| t.files.first().cloned())
            .unwrap_or_default();
        report.findings.push(verify::Finding {
            gate: Gate::Build,
            kind: FindingKind::TaskUnfinished,
            file,
            line: None,
            message: format!("task `{id}` failed in BUILD and was never merged"),
            evidence: String::new(),
            severity: Severity::Fail,
        });
    }
    report.gates.push(verify::GateResult {
        gate: Gate::Build,
        verdict: Verdict::Fail,
        summary: format!(
            "{} task(s) never merged: {}",
            unfinished.len(),
            unfinished.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    });
    report.verdict = Verdict::Fail;
}

/// The failing findings grouped by the task that owns their file (else the entry's owner,
/// else the first task).
fn by_owner(plan: &Plan, failing: &[&verify::Finding]) -> BTreeMap<String, Vec<verify::Finding>> {
    let mut by_owner: BTreeMap<String, Vec<verify::Finding>> = BTreeMap::new();
    for finding in failing {
        let owner = owner_of(plan, &finding.file)
            .or_else(|| entry_owner(plan))
            .or(plan.tasks.first());
        if let Some(owner) = owner {
            by_owner
                .entry(owner.id.clone())
                .or_default()
                .push((*finding).clone());
        }
    }
    by_owner
}

/// One FIX round: a fix task per owner; returns the tasks that merged.
async fn fix_round(
    ctx: &Ctx,
    shared: &Shared,
    round: u32,
    by_owner: &BTreeMap<String, Vec<verify::Finding>>,
    in_main: &BTreeSet<String>,
    stats: &mut RunStats,
) -> Result<BTreeSet<String>, PipelineError> {
    ctx.emit(Event::FixRound {
        round,
        tasks: by_owner.keys().cloned().collect(),
    });
    let summary = format!("round {round}: {} task(s)", by_owner.len());
    ctx.phase(Phase::Fix, PhaseStatus::Started, summary);
    let fixed = build::run_fix(ctx, shared, round, by_owner, in_main, stats).await?;
    ctx.phase(Phase::Fix, PhaseStatus::Finished, format!("round {round}"));
    Ok(fixed.into_iter().collect())
}

fn gate_summary(report: &VerifyReport) -> String {
    report
        .gates
        .iter()
        .map(|g| format!("{} {}", g.gate, g.verdict))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The task that owns `file`.
pub fn owner_of<'p>(plan: &'p Plan, file: &str) -> Option<&'p plan::PlanTask> {
    plan.tasks
        .iter()
        .find(|t| t.files.iter().any(|f| f == file))
}

fn entry_owner(plan: &Plan) -> Option<&plan::PlanTask> {
    plan::files_run_by(&plan.entry)
        .iter()
        .find_map(|f| owner_of(plan, f))
}
