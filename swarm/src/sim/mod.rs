//! swarm-sim: an OpenAI-compatible fleet that plays scripted scenarios, for tests, demos and
//! benchmarks. Each node has its own speed, prefill speed, slots and context window; each
//! request gets the reply of the first rule that matches it (by JSON schema name, text in the
//! prompt, turn number, whether tools were offered), with faults on demand. The scenario
//! format is documented in [`scenario`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use swarm::sim::{Scenario, SimFleet};
//! let scenario = Scenario::from_yaml("nodes: [{name: a}]\ndefault_reply: {content: hi}", "inline")?;
//! let fleet = SimFleet::start(scenario, "127.0.0.1").await?;
//! println!("{}", fleet.nodes[0].url);
//! # Ok(()) }
//! ```

pub mod render;
pub mod scenario;
pub mod schedule;
mod server;

pub use scenario::{
    Fault, NodeSpec, Reply, Rule, Scenario, ScenarioError, ScriptedCall, TextDialect, When,
};
pub use server::{ServedRequest, SimFleet, SimNode};
