//! PLAN: best-of-N drafts from the planners, validated (DAG, files, contracts) and repaired,
//! then the deterministic scorer chooses one.

use super::context::{ask_counted, role_nodes, Ctx};
use super::{existing_files, prompts, Event, Phase, PhaseStatus, RunStats};
use crate::fleet::Role;
use crate::plan::{self, Plan, PlanContext};

pub(super) async fn plan_phase(
    ctx: &Ctx,
    notes: &[(String, String)],
    stats: &mut RunStats,
) -> Result<Plan, String> {
    let planners = role_nodes(ctx, Role::Planner);
    if planners.is_empty() {
        return Err("no planner node is up".into());
    }
    let drafts = ctx.knobs.get(crate::knobs::PLAN_DRAFTS).max(1) as usize;
    let started = format!("{drafts} draft(s) on {} planner node(s)", planners.len());
    ctx.phase(Phase::Plan, PhaseStatus::Started, started);
    let existing = existing_files(&ctx.out);
    let context = PlanContext {
        commands: ctx
            .spec
            .acceptance
            .iter()
            .map(|s| s.command.clone())
            .collect(),
        existing: existing.iter().cloned().collect(),
    };
    // The draft (as JSON) and the problems the next round's prompt asks to repair.
    let mut repair: Option<(String, Vec<String>)> = None;
    let rounds = ctx.knobs.get(crate::knobs::PLAN_REPAIR_ROUNDS) + 1;
    let mut last_problems = Vec::new();
    for round in 0..rounds {
        let to_repair = repair.as_ref().map(|(d, p)| (d.as_str(), p.as_slice()));
        let text = prompts::plan(&ctx.spec, notes, &existing, to_repair);
        let answers = ask_drafts(ctx, &planners, drafts, &text).await;
        let mut parsed: Vec<Option<Plan>> = Vec::new();
        for (draft, (index, answer)) in answers.into_iter().enumerate() {
            match check_draft(ctx, &context, (round, draft, index), answer, stats) {
                Ok(plan) => parsed.push(Some(plan)),
                Err((plan, problems)) => {
                    if repair.is_none() || round > 0 {
                        if let Some(plan) = &plan {
                            let json = serde_json::to_string(plan).unwrap_or_default();
                            repair = Some((json, problems.clone()));
                        }
                    }
                    last_problems = problems;
                    parsed.push(None);
                }
            }
        }
        if let Some(plan) = choose_best(ctx, round, &parsed)? {
            return Ok(plan);
        }
        if repair.is_none() {
            repair = Some((String::from("(no parsable draft)"), last_problems.clone()));
        }
    }
    ctx.phase(Phase::Plan, PhaseStatus::Finished, "no valid plan");
    Err(format!(
        "no valid plan after {rounds} round(s); last problems: {}",
        last_problems.join("; ")
    ))
}

/// What one planner answered, with the tokens it cost.
type Answer = (Result<serde_json::Value, String>, (u64, u64));

/// `drafts` drafts at once, spread over the planners' slots (never more at once on a node
/// than it has slots), each warmer than the last.
async fn ask_drafts(
    ctx: &Ctx,
    planners: &[usize],
    drafts: usize,
    text: &str,
) -> Vec<(usize, Answer)> {
    let worker_slots: usize = role_nodes(ctx, Role::Worker)
        .iter()
        .map(|i| ctx.nodes[*i].slots.max(1) as usize)
        .sum();
    let most = plan::max_tasks(ctx.knobs.get(crate::knobs::PLAN_MAX_TASKS), worker_slots);
    let gates = super::context::slot_gates(ctx);
    let assigned = super::context::spread_over_slots(planners, |i| ctx.nodes[i].slots, drafts);
    let requests = assigned.into_iter().enumerate().map(|(i, index)| {
        let text = text.to_string();
        let gate = gates[index].clone();
        async move {
            let _slot = gate.acquire_owned().await.ok();
            let temperature = 0.2 + 0.3 * i as f32;
            let answer = ask_counted(ctx, index, text, plan::plan_schema(most), temperature).await;
            (index, answer)
        }
    });
    futures::future::join_all(requests).await
}

/// Parses, normalises and validates one draft and logs it; the valid plan, or what was
/// parsed (if anything) with its problems.
fn check_draft(
    ctx: &Ctx,
    context: &PlanContext,
    (round, draft, index): (u32, usize, usize),
    (answer, (tokens_in, tokens_out)): Answer,
    stats: &mut RunStats,
) -> Result<Plan, (Option<Plan>, Vec<String>)> {
    stats.drafts += 1;
    stats.tokens_in += tokens_in;
    stats.tokens_out += tokens_out;
    let mut repairs = Vec::new();
    let (plan, problems) = match answer {
        Err(why) => (None, vec![why]),
        Ok(value) => match serde_json::from_value::<Plan>(value) {
            Err(err) => (None, vec![format!("not a plan: {err}")]),
            Ok(plan) => {
                let (plan, notes) = plan::normalize(&plan, context);
                repairs = notes;
                let problems = plan::validate(&plan, context);
                (Some(plan), problems)
            }
        },
    };
    let valid = plan.is_some() && problems.is_empty();
    let score = valid
        .then(|| plan.as_ref().and_then(plan::score).map(|s| s.score))
        .flatten();
    ctx.emit(Event::PlanDraft {
        round,
        draft,
        node: ctx.nodes[index].node.name.clone(),
        valid,
        score,
        problems: problems.clone(),
        repairs,
    });
    match plan {
        Some(plan) if valid => {
            stats.drafts_valid += 1;
            Ok(plan)
        }
        plan => Err((plan, problems)),
    }
}

/// The deterministic scorer's choice among a round's valid drafts, logged; `None` when no
/// draft was valid.
fn choose_best(ctx: &Ctx, round: u32, parsed: &[Option<Plan>]) -> Result<Option<Plan>, String> {
    let refs: Vec<Option<&Plan>> = parsed.iter().map(|p| p.as_ref()).collect();
    let Some(best) = plan::choose(&refs) else {
        return Ok(None);
    };
    let mut plan = parsed[best].clone().ok_or("the chosen draft vanished")?;
    plan.language = ctx.spec.language;
    let score = plan::score(&plan).ok_or("the chosen draft is cyclic")?;
    let valid = parsed.iter().filter(|p| p.is_some()).count();
    ctx.emit(Event::PlanChosen {
        round,
        draft: best,
        score: score.score,
        width: score.width,
        depth: score.depth,
        tasks: plan.tasks.len(),
        reason: format!("highest score of {valid} valid draft(s): 100×width {} − 10×depth {} − largest task {} file(s)", score.width, score.depth, score.largest),
    });
    let chosen = format!(
        "{} task(s), entry `{}`, in {}",
        plan.tasks.len(),
        plan.entry,
        plan.language.title()
    );
    ctx.phase(Phase::Plan, PhaseStatus::Finished, chosen);
    Ok(Some(plan))
}
