//! Configuration: the knobs (every tunable setting as a typed handle, [`knobs`]) and where
//! their values come from — the config file, `SWARM_*` variables and flags ([`settings`]).

pub mod knobs;
pub mod settings;
