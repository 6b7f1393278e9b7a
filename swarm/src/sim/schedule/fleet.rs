//! Simulated fleets: each node's latency model (prefill of the uncached prompt, decoding of
//! the reply, a fixed overhead per request, throughput shared between busy slots) and its
//! faults, with the constants calibrated from real llama-server timings.

use crate::rng::SplitMix64;
use std::fmt;

/// The latency model's constants, shared by every node of a fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Prompt tokens prefilled per token generated, per second (prefill speed ÷ generation
    /// speed of the same node).
    pub prefill_per_decode: f64,
    /// Seconds each request costs besides its tokens (HTTP, scheduling in the server).
    pub overhead_s: f64,
    /// Seconds between two requests of a worker (its tools run).
    pub tool_s: f64,
    /// Slow-down per extra busy slot: `k` streams each run at `1 ÷ (1 + share × (k − 1))`.
    pub share: f64,
    /// Where the figures came from.
    pub source: &'static str,
}

impl Default for Calibration {
    /// Figures of llama-server on a GPU box serving a 27B model with 2 slots: prompt
    /// processing about 12× generation, 0.15 s per request, two streams at 1.6× one
    /// stream's throughput (share 0.25); tools 0.5 s.
    fn default() -> Self {
        Calibration {
            prefill_per_decode: 12.0,
            overhead_s: 0.15,
            tool_s: 0.5,
            share: 0.25,
            source: "default",
        }
    }
}

/// A fault a node meets once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Stops answering at `at` (a fraction of the lower bound) for `seconds`.
    Stall { at: f64, seconds: f64 },
    /// Gone for good at `at` (a fraction of the lower bound).
    Die { at: f64 },
}

/// One simulated node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeModel {
    /// Name.
    pub name: String,
    /// Generation speed of one stream alone, tokens/s.
    pub decode_tps: f64,
    /// Parallel slots.
    pub slots: u32,
    /// Its fault, if any.
    pub fault: Option<Fault>,
}

impl NodeModel {
    /// Seconds one request takes alone: overhead, the uncached prompt, the reply.
    pub fn request_seconds(&self, cal: &Calibration, uncached: u64, reply: u64) -> f64 {
        cal.overhead_s
            + uncached as f64 / (self.decode_tps * cal.prefill_per_decode)
            + reply as f64 / self.decode_tps
    }

    /// Tokens per second it generates with every slot busy.
    pub fn capacity(&self, cal: &Calibration) -> f64 {
        let k = f64::from(self.slots.max(1));
        self.decode_tps * k / (1.0 + cal.share * (k - 1.0))
    }
}

/// A fleet to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetKind {
    /// Three equal nodes of two slots.
    Equal3,
    /// One fast node (1000 tok/s) and three slow ones (150 tok/s), one slot each.
    Mixed4,
    /// Sixteen nodes of 100–600 tok/s, 1–4 slots.
    Mixed16,
    /// 256 nodes of 80–1200 tok/s, 1–4 slots.
    Big256,
    /// Eight nodes; one stalls for 90 s a fifth of the way in, one dies halfway.
    Flaky8,
}

impl FleetKind {
    /// Every fleet.
    pub const ALL: [FleetKind; 5] = [
        FleetKind::Equal3,
        FleetKind::Mixed4,
        FleetKind::Mixed16,
        FleetKind::Big256,
        FleetKind::Flaky8,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            FleetKind::Equal3 => "equal-3",
            FleetKind::Mixed4 => "mixed-4",
            FleetKind::Mixed16 => "mixed-16",
            FleetKind::Big256 => "big-256",
            FleetKind::Flaky8 => "flaky-8",
        }
    }

    /// The fleet named `name`.
    pub fn parse(name: &str) -> Option<FleetKind> {
        FleetKind::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether it has faults (HEFT's static plan assumes none).
    pub fn faulty(self) -> bool {
        self == FleetKind::Flaky8
    }

    /// Its nodes, drawn with `seed`.
    pub fn nodes(self, seed: u64) -> Vec<NodeModel> {
        let mut rng = SplitMix64::new(seed ^ 0x5EED_F1EE7);
        let node = |i: usize, decode_tps: f64, slots: u32| NodeModel {
            name: format!("n{i:03}"),
            decode_tps,
            slots,
            fault: None,
        };
        let drawn = |count: usize, low: f64, high: f64, rng: &mut SplitMix64| {
            (0..count)
                .map(|i| node(i, rng.between(low, high), 1 + rng.below(4) as u32))
                .collect::<Vec<_>>()
        };
        match self {
            FleetKind::Equal3 => (0..3).map(|i| node(i, 400.0, 2)).collect(),
            FleetKind::Mixed4 => {
                let mut nodes = vec![node(0, 1000.0, 1)];
                nodes.extend((1..4).map(|i| node(i, 150.0, 1)));
                nodes
            }
            FleetKind::Mixed16 => drawn(16, 100.0, 600.0, &mut rng),
            FleetKind::Big256 => drawn(256, 80.0, 1200.0, &mut rng),
            FleetKind::Flaky8 => {
                let mut nodes = drawn(8, 150.0, 600.0, &mut rng);
                nodes[1].fault = Some(Fault::Stall {
                    at: 0.2,
                    seconds: 90.0,
                });
                nodes[2].fault = Some(Fault::Die { at: 0.5 });
                nodes
            }
        }
    }
}

impl fmt::Display for FleetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleets_have_their_sizes_and_the_latency_model_adds_up() {
        for kind in FleetKind::ALL {
            let nodes = kind.nodes(1);
            let expected = match kind {
                FleetKind::Equal3 => 3,
                FleetKind::Mixed4 => 4,
                FleetKind::Mixed16 => 16,
                FleetKind::Big256 => 256,
                FleetKind::Flaky8 => 8,
            };
            assert_eq!(nodes.len(), expected, "{kind}");
            assert!(nodes.iter().all(|n| (1..=4).contains(&n.slots)));
            assert_eq!(nodes, kind.nodes(1));
            assert_eq!(FleetKind::parse(kind.name()), Some(kind));
            assert_eq!(kind.faulty(), nodes.iter().any(|n| n.fault.is_some()));
        }
        let cal = Calibration::default();
        let node = &FleetKind::Mixed4.nodes(1)[1];
        // 150 tok/s: 1800 uncached prompt tokens at 1800/s is 1 s; 300 reply tokens 2 s.
        let secs = node.request_seconds(&cal, 1800, 300);
        assert!((secs - (0.15 + 1.0 + 2.0)).abs() < 1e-9, "{secs}");
        let two = NodeModel {
            slots: 2,
            ..node.clone()
        };
        assert!((two.capacity(&cal) - 150.0 * 2.0 / 1.25).abs() < 1e-9);
    }
}
