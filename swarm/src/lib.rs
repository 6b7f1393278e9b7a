//! The embedded swarm: a client for local model servers ([`llm`]), a sandbox for untrusted
//! commands ([`sandbox`]), the single agent's turn loop and tools ([`agent`]), the pipeline
//! that plans, builds and verifies an app on a fleet ([`pipeline`]), and (feature `sim`) a
//! scripted OpenAI-compatible fleet for tests and demos.
//!
//! # The door
//!
//! Code outside this crate (the gym, the graders) uses the items re-exported at the crate root
//! below, the typed knob handles of [`knobs`] and the model client's types in [`llm`]; the
//! modules behind them may change shape. (The scripted fleet, `sim`, `demo` and `testing`,
//! is for tests and demos, behind the default feature `sim`, and is not part of the door.)
//! A pipeline run is `run(RunOptions, sink)`; one agent on one node is `run_agent`; a fleet
//! is connected once with `connect` (probing every node under the `node.*` knobs).

mod names;

pub mod agent;
pub mod cli_support;
pub mod clock;
pub mod config;
#[cfg(feature = "sim")]
pub mod demo;
pub mod fleet;
pub mod fsutil;
pub mod llm;
pub mod pipeline;
pub mod plan;
pub mod pyast;
pub mod review;
pub mod rng;
pub mod sandbox;
#[cfg(feature = "sim")]
pub mod sim;
pub mod spec;
#[cfg(feature = "sim")]
pub mod testing;
pub mod toolchain;
pub mod verify;

pub use config::{knobs, settings};
pub use spec::console;

pub use agent::{
    first_json_object, run_agent, ActionMode, AgentConfig, AgentEvent, AgentReport, EventSink,
    Outcome, Workspace,
};
pub use cli_support::quiet_on_broken_pipe;
pub use clock::{new_run_id, now_rfc3339, unix_ms};
pub use console::{parse_console, ConsoleStep};
pub use fleet::{connect, Fleet, FleetError, LiveNode, Node, ProbeLine, Role, Sampling, ALL_ROLES};
pub use fsutil::{
    copy_tree, hash_tree, project_files, set_torn_tail_aside, text_files, walk_files, write_inside,
};
pub use knobs::Knobs;
pub use llm::{ErrorKind, LlmClient, LlmError};
pub use pipeline::{missing_role, run, Event, PipelineError, Record, RunOptions, RunOutcome, Sink};
pub use plan::{files_run_by, package_main, PLAN_SCHEMA_NAME};
pub use pyast::{find_issues, has_main_guard, python_files, stub_source, Finding as ReviewFinding};
pub use sandbox::{
    accept_unsealed_for_scripted_demo, Limits, Sandbox, SandboxCommand, SandboxError,
    SandboxOutcome,
};
pub use settings::{config_path, resolve_knobs};
pub use spec::{parse_spec, Spec};
pub use verify::{
    describe_exit, excerpt, run_step, tool_missing, FindingKind, StepResult, Verdict,
};
