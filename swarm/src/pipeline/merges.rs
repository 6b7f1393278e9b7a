//! What merged before this BUILD, when a run is resumed: git's merge trailers are the truth,
//! the log is brought to agree with them.

use super::{git, Ctx, Event, PipelineError, Record};
use std::collections::BTreeSet;

/// The build tasks merged before this BUILD: those the log records and those git records
/// (merge commits carry the run, stage and task), which wins where they disagree. A merge git
/// has and the log lost (killed between the commit and its event; a cut or deleted log) is
/// written to the log as [`Event::MergeRecovered`].
pub(super) async fn reconcile_merges(
    ctx: &Ctx,
    previous: &[Record],
) -> Result<BTreeSet<String>, PipelineError> {
    let logged_events: Vec<(String, String, String)> = previous
        .iter()
        .filter_map(|r| match &r.event {
            Event::Merged {
                task,
                stage,
                commit,
            }
            | Event::MergeRecovered {
                task,
                stage,
                commit,
            } => Some((stage.clone(), task.clone(), commit.clone())),
            _ => None,
        })
        .collect();
    let logged: BTreeSet<(String, String)> = logged_events
        .iter()
        .map(|(stage, task, _)| (stage.clone(), task.clone()))
        .collect();
    let in_git = git::merges_of_run(&ctx.out, &ctx.run_id())
        .await
        .map_err(|err| PipelineError::Config(format!("cannot read the run's merges: {err}")))?;
    for merge in &in_git {
        if !logged.contains(&(merge.stage.clone(), merge.task.clone())) {
            ctx.emit(Event::MergeRecovered {
                task: merge.task.clone(),
                commit: merge.commit.clone(),
                stage: merge.stage.clone(),
            });
        }
    }
    let mut merged: BTreeSet<String> = in_git
        .into_iter()
        .filter(|merge| merge.stage == "build")
        .map(|merge| merge.task)
        .collect();
    // A logged merge counts only while its commit is still in main's history (a run from
    // before merge commits carried trailers; never one whose branch was reset by hand).
    for (stage, task, commit) in logged_events {
        if stage == "build" && !merged.contains(&task) && git::is_ancestor(&ctx.out, &commit).await
        {
            merged.insert(task);
        }
    }
    Ok(merged)
}
