//! Acceptance first: a spec without acceptance commands gets them from a planner (twice at
//! most, on another planner the second time), since without them nothing could prove the app
//! works.

use super::context::{ask_counted, role_nodes, Ctx};
use super::{prompts, write_json, Event, PipelineError, RunStats};
use crate::console::ConsoleStep;
use crate::fleet::Role;
use crate::llm::JsonSchemaFormat;
use crate::spec::render_acceptance;
use serde_json::json;

/// Makes sure the spec has acceptance commands: when it has none and deriving is allowed,
/// derives them and saves them with the spec. `Ok(Err(why))` when none could be derived.
pub(super) async fn ensure(
    ctx: &mut Ctx,
    derive: bool,
    stats: &mut RunStats,
) -> Result<Result<(), String>, PipelineError> {
    if !ctx.spec.acceptance.is_empty() {
        return Ok(Ok(()));
    }
    if !derive {
        return Err(PipelineError::Config(crate::spec::acceptance_help(
            ctx.spec.language,
        )));
    }
    match derive_acceptance(ctx, stats).await {
        Ok(steps) => {
            ctx.spec.acceptance = steps;
            ctx.emit(Event::AcceptanceDerived {
                block: render_acceptance(&ctx.spec.acceptance),
            });
            write_json(&ctx.run_dir.join("spec.json"), &ctx.spec)?;
            Ok(Ok(()))
        }
        Err(why) => Ok(Err(why)),
    }
}

/// Tries to derive acceptance commands twice (on the next planner the second time, if there
/// is one): a weak model's first answer is often cut short. Every try's tokens are counted.
async fn derive_acceptance(ctx: &Ctx, stats: &mut RunStats) -> Result<Vec<ConsoleStep>, String> {
    let planners = role_nodes(ctx, Role::Planner);
    if planners.is_empty() {
        return Err("no planner node is up".into());
    }
    let mut why = String::new();
    for attempt in 0..2 {
        let index = planners[attempt % planners.len()];
        let (answer, (tokens_in, tokens_out)) = ask_counted(
            ctx,
            index,
            prompts::derive_acceptance(&ctx.spec),
            acceptance_schema(),
            0.2 + 0.3 * attempt as f32,
        )
        .await;
        stats.tokens_in += tokens_in;
        stats.tokens_out += tokens_out;
        match answer.and_then(|value| acceptance_steps(&value)) {
            Ok(steps) => return Ok(steps),
            Err(err) => why = err,
        }
    }
    Err(why)
}

fn acceptance_schema() -> JsonSchemaFormat {
    JsonSchemaFormat {
        name: "acceptance".into(),
        schema: json!({"type": "object", "properties": {"commands": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {"command": {"type": "string"}, "stdout": {"type": "array", "items": {"type": "string"}}, "exit_code": {"type": "integer"}}, "required": ["command", "stdout", "exit_code"]}}}, "required": ["commands"]}),
    }
}

/// The console steps of a derivation answer.
fn acceptance_steps(value: &serde_json::Value) -> Result<Vec<ConsoleStep>, String> {
    let steps: Vec<ConsoleStep> = value
        .get("commands")
        .and_then(|c| c.as_array())
        .map(|commands| {
            commands
                .iter()
                .filter_map(|c| {
                    let command = c
                        .get("command")?
                        .as_str()?
                        .trim()
                        .trim_start_matches("$ ")
                        .to_string();
                    (!command.is_empty()).then(|| ConsoleStep {
                        command,
                        expected: c
                            .get("stdout")
                            .and_then(|s| s.as_array())
                            .map(|lines| {
                                lines
                                    .iter()
                                    .filter_map(|l| l.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        exit_code: c.get("exit_code").and_then(|e| e.as_i64()).unwrap_or(0) as i32,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if steps.is_empty() {
        return Err("the planner proposed no usable command".into());
    }
    Ok(steps)
}
