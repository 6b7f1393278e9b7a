//! What the scheduler believes about speeds, learned as the run goes: each node's
//! generation speed (tokens per second, from the servers' own timings) and its effective
//! speed on whole tasks (work units per second of wall, from tasks that ended there). A node
//! with no finished task yet is estimated from its generation speed: a task's seconds per
//! unit are `fixed + tokens ÷ generation speed`, both learned from every finished task (the
//! fixed part — its wall outside model requests: tools, overheads — is what a faster node
//! cannot shorten; the tokens are its model seconds times its node's generation speed), or
//! in proportion to generation speed before any task finished; with neither, the fleet's
//! mean. The same estimator serves the pipeline and the simulator.

/// A node's effective speed before anything was measured: a medium task (2 units) in about
/// a minute.
pub const DEFAULT_SPEED: f64 = 2.0 / 60.0;

/// Weight of a new measurement in the moving averages.
const WEIGHT: f64 = 0.3;

/// Per-node figures learned from replies and finished tasks.
#[derive(Debug, Clone)]
pub struct Estimator {
    generation: Vec<Option<f64>>,
    effective: Vec<Option<f64>>,
    /// Seconds per unit spent outside model requests (moving average).
    fixed_per_unit: Option<f64>,
    /// Tokens' worth of model time per unit (moving average).
    tokens_per_unit: Option<f64>,
}

/// A moving average that may be zero.
fn blend_zero(old: Option<f64>, new: f64) -> Option<f64> {
    if new == 0.0 {
        return Some(old.unwrap_or(0.0) * (1.0 - WEIGHT));
    }
    blend(old, new)
}

fn blend(old: Option<f64>, new: f64) -> Option<f64> {
    if !(new.is_finite() && new > 0.0) {
        return old;
    }
    Some(match old {
        Some(old) => old * (1.0 - WEIGHT) + new * WEIGHT,
        None => new,
    })
}

impl Estimator {
    /// Nothing known about `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        Estimator {
            generation: vec![None; nodes],
            effective: vec![None; nodes],
            fixed_per_unit: None,
            tokens_per_unit: None,
        }
    }

    /// A reply from `node` was generated at `tokens_per_second`.
    pub fn observe_generation(&mut self, node: usize, tokens_per_second: f64) {
        if let Some(slot) = self.generation.get_mut(node) {
            *slot = blend(*slot, tokens_per_second);
        }
    }

    /// A task of `work` units took `seconds` of wall on `node`, `model_seconds` of them
    /// waiting for replies.
    pub fn observe_task(&mut self, node: usize, work: f64, seconds: f64, model_seconds: f64) {
        if !(seconds > 0.0 && work > 0.0) {
            return;
        }
        if let Some(slot) = self.effective.get_mut(node) {
            *slot = blend(*slot, work / seconds);
        }
        let model = model_seconds.clamp(0.0, seconds);
        self.fixed_per_unit = blend_zero(self.fixed_per_unit, (seconds - model) / work);
        if let Some(tokens) = self.generation(node) {
            self.tokens_per_unit = blend(self.tokens_per_unit, model * tokens / work);
        }
    }

    /// Measured generation speed of `node`.
    pub fn generation(&self, node: usize) -> Option<f64> {
        self.generation.get(node).copied().flatten()
    }

    /// Effective speed of `node`, work units per second: measured, else inferred.
    pub fn speed(&self, node: usize) -> f64 {
        if let Some(known) = self.effective.get(node).copied().flatten() {
            return known;
        }
        if let (Some(tokens), Some(fixed), Some(per_unit)) = (
            self.generation(node),
            self.fixed_per_unit,
            self.tokens_per_unit,
        ) {
            return 1.0 / (fixed + per_unit / tokens).max(f64::MIN_POSITIVE);
        }
        let pairs: Vec<f64> = self
            .effective
            .iter()
            .zip(&self.generation)
            .filter_map(|(e, g)| Some((*e)? / (*g)?))
            .collect();
        if let (Some(tokens), false) = (self.generation(node), pairs.is_empty()) {
            return tokens * pairs.iter().sum::<f64>() / pairs.len() as f64;
        }
        let known: Vec<f64> = self.effective.iter().flatten().copied().collect();
        if !known.is_empty() {
            return known.iter().sum::<f64>() / known.len() as f64;
        }
        // Nothing finished anywhere: relative generation speeds, else the default.
        let tokens: Vec<f64> = self.generation.iter().flatten().copied().collect();
        match self.generation(node) {
            Some(mine) if !tokens.is_empty() => {
                DEFAULT_SPEED * mine / (tokens.iter().sum::<f64>() / tokens.len() as f64)
            }
            _ => DEFAULT_SPEED,
        }
    }

    /// Mean effective speed over the fleet (for ranks).
    pub fn mean_speed(&self) -> f64 {
        let n = self.effective.len().max(1);
        (0..self.effective.len())
            .map(|i| self.speed(i))
            .sum::<f64>()
            / n as f64
    }

    /// Seconds a task of `work` units that has run `elapsed` seconds on `node` should still
    /// take. One past its estimate is not about to end: it is given another quarter of what
    /// it has run so far.
    pub fn remaining(&self, node: usize, work: f64, elapsed: f64) -> f64 {
        let expected = work / self.speed(node).max(f64::MIN_POSITIVE);
        (expected - elapsed).max(0.25 * elapsed).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_are_measured_then_inferred_then_defaulted() {
        let mut e = Estimator::new(3);
        assert_eq!(e.speed(0), DEFAULT_SPEED);
        // Generation speeds alone rank the nodes around the default.
        e.observe_generation(0, 300.0);
        e.observe_generation(1, 100.0);
        assert!(e.speed(0) > DEFAULT_SPEED && e.speed(1) < DEFAULT_SPEED);
        assert_eq!(e.speed(2), DEFAULT_SPEED);
        // A finished task on node 0, all of it in model requests: 2 units in 20 s is 0.1
        // units/s; node 1 generates three times slower, so it takes three times as long;
        // node 2 the fleet's mean.
        e.observe_task(0, 2.0, 20.0, 20.0);
        assert!((e.speed(0) - 0.1).abs() < 1e-12);
        assert!((e.speed(1) - 0.1 / 3.0).abs() < 1e-12);
        assert!((e.speed(2) - 0.1).abs() < 1e-12);
        // Nonsense is ignored.
        e.observe_task(0, 2.0, 0.0, 0.0);
        e.observe_generation(0, f64::NAN);
        assert!((e.speed(0) - 0.1).abs() < 1e-12);
        // 2 units at 0.1/s: 20 s expected; after 5 s, 15 left; after 40 s, 10 more.
        assert!((e.remaining(0, 2.0, 5.0) - 15.0).abs() < 1e-9);
        assert!((e.remaining(0, 2.0, 40.0) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn seconds_that_speed_cannot_shorten_are_learned_from_the_first_task() {
        // Truth: 5 s per unit outside the model plus 1000 tokens per unit. One task on the
        // 1000 tok/s node (2 units: 12 s, 2 of them in requests) is enough to know that a
        // 100 tok/s node takes 15 s per unit, not ten times 6.
        let mut e = Estimator::new(2);
        for (node, tokens) in [(0, 1000.0), (1, 100.0)] {
            e.observe_generation(node, tokens);
        }
        e.observe_task(0, 2.0, 12.0, 2.0);
        assert!(
            (1.0 / e.speed(1) - 15.0).abs() < 1e-9,
            "{}",
            1.0 / e.speed(1)
        );
        assert!((1.0 / e.speed(0) - 6.0).abs() < 1e-9);
    }
}
