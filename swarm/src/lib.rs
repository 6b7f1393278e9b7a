//! The embedded swarm: a client for local model servers ([`llm`]), a sandbox for untrusted
//! commands ([`sandbox`]), the single agent's turn loop and tools ([`agent`]), the pipeline
//! that plans, builds and verifies an app on a fleet ([`pipeline`]), and a scripted
//! OpenAI-compatible fleet for tests and demos ([`sim`]).
//!
//! # The door
//!
//! Code outside this crate (the gym, the graders) uses the items re-exported at the crate root
//! below and the typed knob handles of [`knobs`]; the modules behind them may change shape.
//! A pipeline run is `run(RunOptions, sink)`; one agent on one node is `run_agent`; a fleet
//! is connected once with `connect` (probing every node under the `node.*` knobs).

mod names;

pub mod agent;
pub mod cli_support;
pub mod clock;
pub mod console;
pub mod demo;
pub mod fleet;
pub mod fsutil;
pub mod knobs;
pub mod llm;
pub mod pipeline;
pub mod plan;
pub mod pyast;
pub mod sandbox;
pub mod settings;
pub mod sim;
pub mod spec;
pub mod testing;
pub mod verify;

pub use agent::{
    run_agent, ActionMode, AgentConfig, AgentEvent, AgentReport, EventSink, Outcome, Workspace,
};
pub use clock::{new_run_id, now_rfc3339};
pub use console::parse_console;
pub use fleet::{connect, Fleet, FleetError, LiveNode, Node, ProbeLine, Role};
pub use knobs::Knobs;
pub use llm::{ErrorKind, LlmClient, LlmError};
pub use pipeline::{run, Event, PipelineError, Record, RunOptions, RunOutcome, Sink};
pub use sandbox::Sandbox;
pub use spec::{parse_spec, Spec};
pub use verify::Verdict;
