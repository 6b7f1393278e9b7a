//! What a run tells whoever watches it ([`RunEvent`]) and what it hands back ([`RunSummary`]).

use crate::results::ResultRow;
use serde::Serialize;

/// Progress, for whoever renders it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// A turn started building.
    TurnStarted {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
        /// Node building it.
        node: String,
    },
    /// What the system under test is doing in a turn, live: the swarm's pipeline events, or
    /// the single agent's (requests and replies with their figures, actions, the judge).
    Progress {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
        /// The event, stamped as the turn's events.jsonl keeps it.
        record: swarm::Record,
    },
    /// A turn was graded and its row appended.
    TurnGraded {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
        /// Hidden verdict.
        hidden: String,
        /// What the SUT claimed.
        claimed: String,
        /// checks score.
        checks: Option<f64>,
        /// overall score.
        overall: Option<f64>,
    },
    /// A turn was skipped because its row exists (`--resume`).
    TurnSkipped {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Turn.
        turn: u32,
    },
    /// An infrastructure failure; the turn is tried again.
    Retrying {
        /// Task.
        task: String,
        /// Turn.
        turn: u32,
        /// Why.
        reason: String,
    },
    /// The simulated user's request was unusable; the scripted one is used.
    UserFallback {
        /// Task.
        task: String,
        /// Turn.
        turn: u32,
        /// Why.
        reason: String,
    },
    /// The simulated user chose its next move (a `stop` ends the session; so does a brain that
    /// gave no usable move, said in `reason`).
    UserMove {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// The turn the move asks for.
        turn: u32,
        /// The persona's id.
        persona: String,
        /// The move (`stop` when none came).
        chosen: String,
        /// The persona's reason, or why no move came.
        reason: String,
        /// Its checks: proven, unproven, discarded.
        proven: usize,
        unproven: usize,
        discarded: usize,
        /// Replies of the brain rejected before this one.
        rejected: usize,
    },
    /// `--resume`: rows of later turns whose earlier turn is missing were moved out of the
    /// results (their conversation is re-run from the missing turn, so they no longer belong
    /// to it).
    SetAside {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// The turns moved.
        turns: Vec<u32>,
        /// Where they went.
        file: String,
    },
    /// A task replicate could not go on.
    Abandoned {
        /// Task.
        task: String,
        /// Replicate.
        replicate: u32,
        /// Why.
        reason: String,
    },
}

/// What the simulated user did over a run: its moves, the checks it wrote and what became
/// of them, and the replies of the brain that could not be used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserTally {
    /// Moves chosen, by name (`stop` included).
    pub moves: std::collections::BTreeMap<String, u32>,
    /// Checks kept and proven, kept unproven, and discarded.
    pub proven: usize,
    pub unproven: usize,
    pub discarded: usize,
    /// Why checks were discarded, with how often (the reason's first words).
    pub discard_reasons: std::collections::BTreeMap<String, u32>,
    /// Replies of the brain that were not a usable move.
    pub rejected: usize,
    /// Sessions that ended because the brain gave no usable move.
    pub no_move: usize,
}

impl UserTally {
    /// One line for the end of a run; `None` when no simulated user acted.
    pub fn line(&self) -> Option<String> {
        if self.moves.is_empty() && self.rejected == 0 {
            return None;
        }
        let moves: Vec<String> = self.moves.iter().map(|(m, n)| format!("{m} {n}")).collect();
        let reasons: Vec<String> = self
            .discard_reasons
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        Some(format!(
            "simulated user: moves {}; checks {} proven, {} unproven, {} discarded{}; {} brain repl(ies) rejected, {} session(s) ended with no usable move",
            moves.join(", "),
            self.proven,
            self.unproven,
            self.discarded,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join("; "))
            },
            self.rejected,
            self.no_move
        ))
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// What the simulated user did.
    pub user: UserTally,
    /// The run id.
    pub run_id: String,
    /// Rows appended.
    pub rows: Vec<ResultRow>,
    /// Turns skipped by `--resume`.
    pub skipped: u32,
    /// Task replicates abandoned, with the reason.
    pub abandoned: Vec<String>,
    /// Seconds spent grading, summed over the turns.
    pub grading_seconds: f64,
    /// Of the run's wall, the seconds during which something was graded and nothing built (a
    /// turn is graded while the next one builds, and a replicate's last turn while the next
    /// replicate builds; what is left is grading on the run's critical path).
    pub grading_alone_seconds: f64,
    /// The run's wall seconds.
    pub wall_seconds: f64,
    /// Model-busy seconds over the rows appended, summed over every builder slot (a swarm
    /// row's occupancy is per worker slot; a single agent uses one slot).
    pub busy_seconds: f64,
    /// The fleet's worker slots.
    pub slots: u32,
}

/// Fleet occupancy: model-busy slot-seconds ÷ (wall × worker slots), or None without a wall
/// or slots.
pub fn occupancy(busy_seconds: f64, wall_seconds: f64, slots: u32) -> Option<f64> {
    (wall_seconds > 0.0 && slots > 0)
        .then(|| (busy_seconds / (wall_seconds * f64::from(slots))).min(1.0))
}

/// [`occupancy`] as the line `run`, `ab` and `nightly` print.
pub fn occupancy_line(busy_seconds: f64, wall_seconds: f64, slots: u32) -> Option<String> {
    occupancy(busy_seconds, wall_seconds, slots).map(|share| {
        format!(
            "fleet occupancy: {:.0}% ({busy_seconds:.0} model-busy slot-seconds over {wall_seconds:.0} s x {slots} worker slot(s))",
            share * 100.0
        )
    })
}

impl RunSummary {
    /// Several runs' summaries as one: their rows, skips, abandoned replicates and times.
    pub fn total(runs: &[RunSummary]) -> RunSummary {
        let mut total = RunSummary::default();
        for run in runs {
            total.rows.extend(run.rows.iter().cloned());
            total.skipped += run.skipped;
            total.abandoned.extend(run.abandoned.iter().cloned());
            total.grading_seconds += run.grading_seconds;
            total.grading_alone_seconds += run.grading_alone_seconds;
            total.wall_seconds += run.wall_seconds;
            total.busy_seconds += run.busy_seconds;
            total.slots = total.slots.max(run.slots);
        }
        total
    }

    /// Fleet occupancy over the run ([`occupancy`]). Several turns at once (`--concurrency`)
    /// raise it; one narrow plan at a time cannot.
    pub fn occupancy(&self) -> Option<f64> {
        occupancy(self.busy_seconds, self.wall_seconds, self.slots)
    }

    /// The occupancy as one line ([`occupancy_line`]), or None when nothing ran.
    pub fn occupancy_line(&self) -> Option<String> {
        (self.busy_seconds > 0.0)
            .then(|| occupancy_line(self.busy_seconds, self.wall_seconds, self.slots))
            .flatten()
    }

    /// How much grading cost the run: its total, and the wall during which only grading ran,
    /// as a share of the run's wall. `None` when nothing was graded.
    pub fn grading_line(&self) -> Option<String> {
        (self.grading_seconds > 0.0 && self.wall_seconds > 0.0).then(|| {
            format!(
                "grading: {:.1} s in all; {:.1} s of the run's {:.1} s wall had grading and no build ({:.1}%)",
                self.grading_seconds,
                self.grading_alone_seconds,
                self.wall_seconds,
                100.0 * self.grading_alone_seconds / self.wall_seconds
            )
        })
    }
}
