//! SCOUT: read-only lenses on the spec and the existing code, in parallel on the scout nodes;
//! their notes go into the planner's prompt.

use super::context::{agent_config, forward, role_nodes, Ctx};
use super::{prompts, Event, Phase, PhaseStatus};
use crate::agent::{run_agent, Outcome, Workspace, READ_ONLY_TOOLS};
use crate::fleet::Role;

pub(super) async fn scout(ctx: &Ctx) -> Vec<(String, String)> {
    let scouts = role_nodes(ctx, Role::Scout);
    ctx.phase(
        Phase::Scout,
        PhaseStatus::Started,
        format!(
            "{} lens(es) on {} node(s)",
            prompts::LENSES.len(),
            scouts.len()
        ),
    );
    let Ok(scratch) = tempfile::Builder::new().prefix("swarm-scout-").tempdir() else {
        ctx.phase(
            Phase::Scout,
            PhaseStatus::Finished,
            "no scratch directory; planning without notes",
        );
        return Vec::new();
    };
    let _ = crate::fsutil::copy_tree(&ctx.out, scratch.path());
    let runs = prompts::LENSES
        .iter()
        .enumerate()
        .map(|(i, (lens, instruction))| {
            let index = scouts[i % scouts.len().max(1)];
            let scratch = scratch.path().to_path_buf();
            async move {
                let mut config =
                    agent_config(ctx, index, ctx.knobs.get(crate::knobs::SCOUT_MAX_ACTIONS));
                let mut tools: Vec<String> =
                    READ_ONLY_TOOLS.iter().map(|t| t.to_string()).collect();
                tools.push("run".into());
                config.allowed_tools = Some(tools);
                let workspace = match Workspace::new(&scratch) {
                    Ok(w) => w.with_owned_files(Vec::<String>::new()),
                    Err(err) => return (lens.to_string(), index, Err(err.to_string())),
                };
                let report = run_agent(
                    &ctx.nodes[index].client,
                    &workspace,
                    &config,
                    &prompts::scout(lens, instruction, &ctx.spec),
                    &forward(ctx, &format!("scout:{lens}"), index),
                )
                .await;
                let notes = if report.outcome == Outcome::Done && !report.summary.trim().is_empty()
                {
                    Ok(report.summary.chars().take(2000).collect::<String>())
                } else if report.summary.trim().is_empty() {
                    Err("it finished without notes".to_string())
                } else {
                    Err(report.summary)
                };
                (lens.to_string(), index, notes)
            }
        });
    let results = futures::future::join_all(runs).await;
    let mut notes = Vec::new();
    for (lens, index, result) in results {
        let node = ctx.nodes[index].node.name.clone();
        match result {
            Ok(text) => {
                ctx.emit(Event::Scout {
                    lens: lens.clone(),
                    node,
                    ok: true,
                    notes: text.clone(),
                });
                notes.push((lens, text));
            }
            Err(why) => ctx.emit(Event::Scout {
                lens,
                node,
                ok: false,
                notes: why,
            }),
        }
    }
    ctx.phase(
        Phase::Scout,
        PhaseStatus::Finished,
        format!(
            "{} of {} scouts gave notes",
            notes.len(),
            prompts::LENSES.len()
        ),
    );
    notes
}
