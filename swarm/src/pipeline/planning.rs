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
    let drafts = ctx.knobs.get(crate::knobs::PLAN_DRAFTS).max(1) as usize;
    ctx.phase(
        Phase::Plan,
        PhaseStatus::Started,
        format!("{drafts} draft(s) on {} planner node(s)", planners.len()),
    );
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
    let mut repair: Option<(String, Vec<String>)> = None;
    let rounds = ctx.knobs.get(crate::knobs::PLAN_REPAIR_ROUNDS) + 1;
    let mut last_problems = Vec::new();
    for round in 0..rounds {
        let text = prompts::plan(
            &ctx.spec,
            notes,
            &existing,
            repair.as_ref().map(|(d, p)| (d.as_str(), p.as_slice())),
        );
        let requests = (0..drafts).map(|i| {
            let index = planners[i % planners.len()];
            let text = text.clone();
            async move {
                (
                    index,
                    ask_counted(ctx, index, text, plan::plan_schema(), 0.2 + 0.3 * i as f32).await,
                )
            }
        });
        let answers = futures::future::join_all(requests).await;
        let mut parsed: Vec<Option<Plan>> = Vec::new();
        for (draft, (index, answer)) in answers.into_iter().enumerate() {
            stats.drafts += 1;
            let node = ctx.nodes[index].node.name.clone();
            let (answer, (tokens_in, tokens_out)) = answer;
            stats.tokens_in += tokens_in;
            stats.tokens_out += tokens_out;
            let mut repairs = Vec::new();
            let (plan, problems) = match answer {
                Err(why) => (None, vec![why]),
                Ok(value) => match serde_json::from_value::<Plan>(value.clone()) {
                    Err(err) => (None, vec![format!("not a plan: {err}")]),
                    Ok(plan) => {
                        let (plan, notes) = plan::normalize(&plan, &context);
                        repairs = notes;
                        let problems = plan::validate(&plan, &context);
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
                node,
                valid,
                score,
                problems: problems.clone(),
                repairs,
            });
            if valid {
                stats.drafts_valid += 1;
                parsed.push(plan);
            } else {
                if repair.is_none() || round > 0 {
                    if let Some(plan) = &plan {
                        repair = Some((
                            serde_json::to_string(plan).unwrap_or_default(),
                            problems.clone(),
                        ));
                    }
                }
                last_problems = problems;
                parsed.push(None);
            }
        }
        let refs: Vec<Option<&Plan>> = parsed.iter().map(|p| p.as_ref()).collect();
        if let Some(best) = plan::choose(&refs) {
            let plan = parsed[best].clone().ok_or("the chosen draft vanished")?;
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
            ctx.phase(
                Phase::Plan,
                PhaseStatus::Finished,
                format!("{} task(s), entry `{}`", plan.tasks.len(), plan.entry),
            );
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
