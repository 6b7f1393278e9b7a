//! The results format, in one place: the columns of a results CSV, the scored dimensions,
//! and the texts of the verdict columns. The gym writes rows with these columns, the graders
//! produce these dimensions, and the analyses read them; none keeps its own list.

/// The header of a results CSV, in order (the gym's `ResultRow` writes exactly these).
pub const COLUMNS: [&str; 51] = [
    "run_id",
    "experiment",
    "timestamp",
    "commit",
    "suite",
    "task",
    "manifest_hash",
    "turn",
    "replicate",
    "sut",
    "builder_model",
    "brain_model",
    "judge_model",
    "fleet",
    "knobs_hash",
    "knobs",
    "checks",
    "swarm",
    "cluster",
    "diagnostics",
    "requirements",
    "code_quality",
    "bugs",
    "overall",
    "hidden_verdict",
    "claimed_verdict",
    "wall_seconds",
    "tokens_in",
    "tokens_out",
    "malformed_replies",
    "tool_errors",
    "context_overflows",
    "occupancy",
    "stalls",
    "errors",
    "transcript",
    "events",
    "test_depth",
    "test_depth_detail",
    "sampling",
    "cache_hit",
    "tokens_per_second",
    "first_byte_ms",
    "build_occupancy",
    "makespan_over_bound",
    "session",
    "persona",
    "user_move",
    "checks_proven",
    "checks_unproven",
    "checks_discarded",
];

/// The scored dimensions, in the order reports list them: the seven of the first design and
/// `test_depth` (how much the app's own tests prove, by mutation), deterministic ones first.
pub const DIMENSIONS: [&str; 8] = [
    "checks",
    "swarm",
    "cluster",
    "diagnostics",
    "test_depth",
    "requirements",
    "code_quality",
    "bugs",
];

/// Text columns kept from the CSV.
pub const TEXT_COLUMNS: [&str; 14] = [
    "run_id",
    "experiment",
    "timestamp",
    "commit",
    "suite",
    "task",
    "sut",
    "builder_model",
    "knobs",
    "hidden_verdict",
    "claimed_verdict",
    "events",
    "test_depth_detail",
    "sampling",
];

/// Number columns kept from the CSV (empty cells become null).
pub const NUMBER_COLUMNS: [&str; 24] = [
    "checks",
    "swarm",
    "cluster",
    "diagnostics",
    "test_depth",
    "requirements",
    "code_quality",
    "bugs",
    "overall",
    "wall_seconds",
    "occupancy",
    "stalls",
    "errors",
    "context_overflows",
    "turn",
    "replicate",
    "cache_hit",
    "tokens_per_second",
    "first_byte_ms",
    "build_occupancy",
    "makespan_over_bound",
    "checks_proven",
    "checks_unproven",
    "checks_discarded",
];

/// The texts of the `hidden_verdict` column.
pub const HIDDEN_VERDICTS: [&str; 3] = ["pass", "fail", "inconclusive"];

/// The `claimed_verdict` texts that claim the work done: the single agent's `done` and the
/// pipeline's `pass`. A claimed done whose `hidden_verdict` is `fail` is a false green.
pub const CLAIMED_DONE: [&str; 2] = ["done", "pass"];
