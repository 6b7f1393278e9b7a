//! What a replicate will cost, said before it runs: the turns it has, and the tokens and
//! wall time that earlier rows of the same apps and turns took (any model, any experiment),
//! so a researcher knows whether a night is enough before starting one. After the run the
//! same figures are printed as measured.

use crate::results::ResultRow;
use crate::task::Task;

/// An estimate for one replicate of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct CostEstimate {
    /// Turns in one replicate.
    pub turns: usize,
    /// Prompt tokens, summed over the turns with history.
    pub tokens_in: f64,
    /// Generated tokens, likewise.
    pub tokens_out: f64,
    /// Seconds of pipeline wall time, likewise.
    pub wall_seconds: f64,
    /// Earlier rows the means came from.
    pub from_rows: usize,
    /// `task turn N` with no earlier row (left out of the sums).
    pub without_history: Vec<String>,
}

/// The estimate for one replicate of `tasks`, from `rows` (usually the results file's).
pub fn estimate_cost(rows: &[ResultRow], tasks: &[Task]) -> CostEstimate {
    let mut estimate = CostEstimate {
        turns: tasks.iter().map(|t| t.turns.len()).sum(),
        tokens_in: 0.0,
        tokens_out: 0.0,
        wall_seconds: 0.0,
        from_rows: 0,
        without_history: Vec::new(),
    };
    for task in tasks {
        for turn in &task.turns {
            let history: Vec<&ResultRow> = rows
                .iter()
                .filter(|r| {
                    r.suite == task.suite && r.task == task.id && r.turn as usize == turn.number
                })
                .collect();
            if history.is_empty() {
                estimate
                    .without_history
                    .push(format!("{} turn {}", task.id, turn.number));
                continue;
            }
            let n = history.len() as f64;
            estimate.tokens_in += history.iter().map(|r| r.tokens_in as f64).sum::<f64>() / n;
            estimate.tokens_out += history.iter().map(|r| r.tokens_out as f64).sum::<f64>() / n;
            estimate.wall_seconds += history.iter().map(|r| r.wall_seconds).sum::<f64>() / n;
            estimate.from_rows += history.len();
        }
    }
    estimate
}

impl CostEstimate {
    /// One line per replicate and arm, said before the run.
    pub fn render(&self, replicates: u32, arms: u32) -> String {
        let runs = f64::from(replicates * arms);
        if self.from_rows == 0 {
            return format!(
                "estimate per replicate and arm: {} turn(s); no earlier rows of these apps to estimate tokens and time from (run --replicates 1 first: its cost is printed at the end)",
                self.turns
            );
        }
        let mut line = format!(
            "estimate per replicate and arm: {} turn(s), ~{:.0} prompt tokens, ~{:.0} generated tokens, ~{:.0} s of pipeline wall time; all {} run(s): ~{:.1} h (means of {} earlier row(s) of these apps, any model)",
            self.turns,
            self.tokens_in,
            self.tokens_out,
            self.wall_seconds,
            replicates * arms,
            self.wall_seconds * runs / 3600.0,
            self.from_rows
        );
        if !self.without_history.is_empty() {
            line.push_str(&format!(
                "; no history for {} (left out, so this is low)",
                self.without_history.join(", ")
            ));
        }
        line
    }
}
