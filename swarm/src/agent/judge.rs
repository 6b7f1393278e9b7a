//! The judge that counts actions: it stops a worker that keeps reading without writing
//! (`idle`) or repeats the same action (`repeat`), and refuses a `done` while the owned files
//! are unchanged or still stubs (`empty_done`, twice: stopped).

use super::{Action, JudgeRules, ToolResult, Workspace};

/// A judge decision about one action.
pub(super) struct JudgeVerdict {
    /// The rule that fired: idle, repeat, empty_done.
    pub rule: &'static str,
    /// Whether the run stops.
    pub stop: bool,
    /// Why, with the counts.
    pub reason: String,
}

/// The judge's counters over one run.
#[derive(Default)]
pub(super) struct JudgeWatch {
    idle: u32,
    last: Option<String>,
    repeats: u32,
    refused_done: u32,
}

impl JudgeWatch {
    /// Counts `action`; may turn a `done` into a refusal (editing `result`) or stop the run.
    pub(super) fn observe(
        &mut self,
        rules: &JudgeRules,
        action: &Action,
        result: &mut ToolResult,
        workspace: &Workspace,
    ) -> Option<JudgeVerdict> {
        let key = format!("{}\u{0}{}", action.tool, action.args);
        if self.last.as_deref() == Some(key.as_str()) {
            self.repeats += 1;
        } else {
            self.repeats = 1;
            self.last = Some(key);
        }
        if result.wrote.is_some() {
            self.idle = 0;
        } else if action.tool != "done" {
            self.idle += 1;
        }
        if result.done.is_some() {
            if let Some(reason) = rules.done_gate.as_ref().and_then(|gate| gate(workspace)) {
                result.done = None;
                result.ok = false;
                result.output = format!(
                    "ERROR: done refused by the judge: {reason}. Write your files, then call done."
                );
                self.refused_done += 1;
                return Some(JudgeVerdict {
                    rule: "empty_done",
                    stop: self.refused_done >= 2,
                    reason: format!("done called {} time(s) while {reason}", self.refused_done),
                });
            }
            return None;
        }
        if self.repeats >= rules.max_repeats {
            return Some(JudgeVerdict {
                rule: "repeat",
                stop: true,
                reason: format!(
                    "the same `{}` action {} times in a row",
                    action.tool, self.repeats
                ),
            });
        }
        if self.idle >= rules.max_idle_actions {
            return Some(JudgeVerdict {
                rule: "idle",
                stop: true,
                reason: format!("{} actions in a row without writing a file", self.idle),
            });
        }
        None
    }
}
