//! The graders of one finished gym turn, seven dimensions scored 0–10 with their evidence.
//! They land with issue 3; this crate holds the dimension names the results schema will use.

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
