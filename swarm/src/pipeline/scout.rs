//! SCOUT: read-only lenses on the spec and the existing code, in parallel on the scout nodes;
//! their notes go into the planner's prompt.

use super::context::{agent_config, forward, role_nodes, Ctx};
use super::{prompts, Event, Phase, PhaseStatus};
use crate::agent::{run_agent, Outcome, Workspace, READ_ONLY_TOOLS};
use crate::fleet::Role;

pub(super) async fn scout(ctx: &Ctx) -> Vec<(String, String)> {
    let scouts = role_nodes(ctx, Role::Scout);
    let lenses = prompts::LENSES.len();
    let started = format!("{lenses} lens(es) on {} node(s)", scouts.len());
    ctx.phase(Phase::Scout, PhaseStatus::Started, started);
    let scratch = tempfile::Builder::new().prefix("swarm-scout-").tempdir();
    let (Ok(scratch), false) = (scratch, scouts.is_empty()) else {
        let why = "no scratch directory or no node up; planning without notes";
        ctx.phase(Phase::Scout, PhaseStatus::Finished, why);
        return Vec::new();
    };
    let _ = crate::fsutil::copy_tree(&ctx.out, scratch.path());
    let dir = scratch.path();
    let gates = super::context::slot_gates(ctx);
    let assigned =
        super::context::spread_over_slots(&scouts, |i| ctx.nodes[i].slots, prompts::LENSES.len());
    let runs = prompts::LENSES.iter().zip(assigned).map(|(lens, index)| {
        let gate = gates[index].clone();
        async move {
            // Never more scouts at once on a node than it has slots.
            let _slot = gate.acquire_owned().await.ok();
            let instruction = prompts::lens_instruction(lens, ctx.spec.language);
            (
                *lens,
                index,
                one_scout(ctx, index, (lens, &instruction), dir).await,
            )
        }
    });
    let mut notes = Vec::new();
    for (lens, index, result) in futures::future::join_all(runs).await {
        let node = ctx.nodes[index].node.name.clone();
        let ok = result.is_ok();
        let text = result.unwrap_or_else(|why| why);
        ctx.emit(Event::Scout {
            lens: lens.to_string(),
            node,
            ok,
            notes: text.clone(),
        });
        if ok {
            notes.push((lens.to_string(), text));
        }
    }
    let finished = format!("{} of {lenses} scouts gave notes", notes.len());
    ctx.phase(Phase::Scout, PhaseStatus::Finished, finished);
    notes
}

/// One lens: a read-only agent (it may run commands) on a scratch copy of the project; its
/// notes are its `done` summary.
async fn one_scout(
    ctx: &Ctx,
    index: usize,
    (lens, instruction): (&str, &str),
    scratch: &std::path::Path,
) -> Result<String, String> {
    let mut config = agent_config(ctx, index, ctx.knobs.get(crate::knobs::SCOUT_MAX_ACTIONS));
    let mut tools: Vec<String> = READ_ONLY_TOOLS.iter().map(|t| t.to_string()).collect();
    tools.push("run".into());
    config.allowed_tools = Some(tools);
    let workspace = Workspace::new(scratch)
        .map_err(|err| err.to_string())?
        .with_owned_files(Vec::<String>::new());
    let report = run_agent(
        &ctx.nodes[index].client,
        &workspace,
        &config,
        &prompts::scout(lens, instruction, &ctx.spec),
        &forward(ctx, &format!("scout:{lens}"), index),
    )
    .await;
    if report.summary.trim().is_empty() {
        Err("it finished without notes".to_string())
    } else if report.outcome == Outcome::Done {
        Ok(report.summary.chars().take(2000).collect::<String>())
    } else {
        Err(report.summary)
    }
}
