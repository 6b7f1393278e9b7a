//! The embedded swarm: a client for local model servers ([`llm`]), a sandbox for untrusted
//! commands ([`sandbox`]), the single agent's turn loop and tools ([`agent`]), and a scripted
//! OpenAI-compatible fleet for tests and demos ([`sim`]).

pub mod agent;
pub mod cli_support;
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
