//! The graders of one finished gym turn: seven dimensions, each scored 0–10 with its
//! evidence. Deterministic: `checks` (the hidden checks, run in the sandbox — the real grade),
//! `swarm`, `cluster`, `diagnostics`. Judged by a model: `requirements`, `code_quality`,
//! `bugs`.

pub mod checks;
pub mod fsutil;

/// The seven dimensions, in the order results columns list them.
pub const DIMENSIONS: [&str; 7] = [
    "checks",
    "swarm",
    "cluster",
    "diagnostics",
    "requirements",
    "code_quality",
    "bugs",
];
