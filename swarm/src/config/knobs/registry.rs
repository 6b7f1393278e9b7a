//! Every knob as a typed constant, and the registry built from them: code reads a knob only
//! through its constant (`knobs.get(FIX_ROUNDS)`), so a misspelt name cannot compile.

use super::{KnobDef, KnobKind};
use std::marker::PhantomData;
use std::time::Duration;

/// A typed handle on one registered knob: code reads a knob only through its handle, so a
/// misspelt name cannot compile, and the handle says what the value is (`bool` for on/off,
/// `u32` for counts, [`Duration`] for seconds).
pub struct Knob<T> {
    /// The knob's definition (the registry lists these).
    pub def: KnobDef,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for Knob<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Knob<T> {}

impl<T> Knob<T> {
    const fn new(def: KnobDef) -> Self {
        Knob {
            def,
            value: PhantomData,
        }
    }

    /// The dotted name.
    pub const fn name(&self) -> &'static str {
        self.def.name
    }
}

/// What a knob's stored number means to the code that reads it.
pub trait KnobValue {
    /// The value from the stored number (already checked against the knob's type and range).
    fn from_number(value: f64) -> Self;
}

impl KnobValue for bool {
    fn from_number(value: f64) -> Self {
        value != 0.0
    }
}

impl KnobValue for u32 {
    fn from_number(value: f64) -> Self {
        value.max(0.0) as u32
    }
}

impl KnobValue for Duration {
    fn from_number(value: f64) -> Self {
        Duration::from_secs_f64(value.max(0.0))
    }
}

const fn feature(name: &'static str, doc: &'static str) -> Knob<bool> {
    Knob::new(KnobDef {
        name,
        kind: KnobKind::Bool,
        default: 1.0,
        min: 0.0,
        max: 1.0,
        tunable: false,
        doc,
    })
}

const fn int(
    name: &'static str,
    default: f64,
    min: f64,
    max: f64,
    tunable: bool,
    doc: &'static str,
) -> Knob<u32> {
    Knob::new(KnobDef {
        name,
        kind: KnobKind::Int,
        default,
        min,
        max,
        tunable,
        doc,
    })
}

const fn seconds(
    name: &'static str,
    default: f64,
    min: f64,
    max: f64,
    doc: &'static str,
) -> Knob<Duration> {
    Knob::new(KnobDef {
        name,
        kind: KnobKind::Float,
        default,
        min,
        max,
        tunable: true,
        doc,
    })
}

/// `scout.enabled`.
pub const SCOUT_ENABLED: Knob<bool> = feature(
    "scout.enabled",
    "run the three scouts (libraries, edge cases, module split) before planning",
);
/// `scout.max_actions`.
pub const SCOUT_MAX_ACTIONS: Knob<u32> = int(
    "scout.max_actions",
    8.0,
    1.0,
    60.0,
    true,
    "action budget of each scout (read-only tools)",
);
/// `plan.drafts`.
pub const PLAN_DRAFTS: Knob<u32> = int(
    "plan.drafts",
    3.0,
    1.0,
    8.0,
    true,
    "plan drafts requested in parallel; the scorer picks one",
);
/// `plan.repair_rounds`.
pub const PLAN_REPAIR_ROUNDS: Knob<u32> = int(
    "plan.repair_rounds",
    1.0,
    0.0,
    3.0,
    false,
    "rounds of repair when no draft is valid",
);
/// `plan.max_tasks`.
pub const PLAN_MAX_TASKS: Knob<u32> = int(
    "plan.max_tasks",
    0.0,
    0.0,
    128.0,
    false,
    "most tasks a plan may have (0: 16, or twice the workers' slots when that is more, up to 64)",
);
/// `contract.attempts`.
pub const CONTRACT_ATTEMPTS: Knob<u32> = int(
    "contract.attempts",
    2.0,
    1.0,
    5.0,
    false,
    "tries to get stubs that pass the contract checks",
);
/// `contract.max_actions`.
pub const CONTRACT_MAX_ACTIONS: Knob<u32> = int(
    "contract.max_actions",
    30.0,
    2.0,
    200.0,
    true,
    "action budget of the contract task",
);
/// `build.max_actions`.
pub const BUILD_MAX_ACTIONS: Knob<u32> = int(
    "build.max_actions",
    30.0,
    2.0,
    200.0,
    true,
    "action budget of one build or fix task",
);
/// `build.attempts`.
pub const BUILD_ATTEMPTS: Knob<u32> = int(
    "build.attempts",
    3.0,
    1.0,
    10.0,
    true,
    "dispatches of one task (sent back, stopped or re-routed) before it fails",
);
/// `build.check_finished`.
pub const BUILD_CHECK_FINISHED: Knob<bool> = feature("build.check_finished", "check a finished task (owned files changed, frozen signatures kept, no stub left) before merging");
/// `sched.priority`.
pub const SCHED_PRIORITY: Knob<bool> = feature(
    "sched.priority",
    "dispatch tasks that unblock the most downstream work first (off: plan order)",
);
/// `sched.eft`.
pub const SCHED_EFT: Knob<bool> = feature(
    "sched.eft",
    "place each ready task where it would finish earliest, waiting for a busy faster node when that is sooner (off: any free slot takes the next ready task)",
);
/// `sched.prewarm`.
pub const SCHED_PREWARM: Knob<bool> = feature(
    "sched.prewarm",
    "fill idle worker slots' prompt caches with the workers' stable prefix (spec and acceptance during CONTRACT, then the contracts too at the start of BUILD; llama-server only)",
);
/// `sched.prereview`.
pub const SCHED_PREREVIEW: Knob<bool> = feature(
    "sched.prereview",
    "while worker slots sit idle in BUILD or FIX, check the app merged so far (smoke and review, no acceptance) and give a merged task with a failing finding of its own an early fix on an idle slot",
);
/// `sched.fastest_for_hard`.
pub const SCHED_FASTEST_FOR_HARD: Knob<bool> = feature(
    "sched.fastest_for_hard",
    "give hard tasks to the fastest free node (off: least loaded)",
);
/// `node.slots_cap`.
pub const NODE_SLOTS_CAP: Knob<u32> = int(
    "node.slots_cap",
    0.0,
    0.0,
    64.0,
    true,
    "most parallel requests per node (0: the fleet file's slots)",
);
/// `node.stall_timeout_s`.
pub const NODE_STALL_TIMEOUT_S: Knob<Duration> = seconds(
    "node.stall_timeout_s",
    120.0,
    2.0,
    1800.0,
    "silence between streamed chunks after which a node loses its task",
);
/// `node.first_byte_timeout_s`.
pub const NODE_FIRST_BYTE_TIMEOUT_S: Knob<Duration> = seconds(
    "node.first_byte_timeout_s",
    600.0,
    5.0,
    3600.0,
    "wait for the first byte of a reply (model load and prefill)",
);
/// `node.max_reply_tokens`.
pub const NODE_MAX_REPLY_TOKENS: Knob<u32> = int(
    "node.max_reply_tokens",
    4096.0,
    128.0,
    65536.0,
    true,
    "most tokens a node may generate in one reply (bounds a rambling model)",
);
/// `node.connect_timeout_s`.
pub const NODE_CONNECT_TIMEOUT_S: Knob<Duration> = seconds(
    "node.connect_timeout_s",
    10.0,
    1.0,
    120.0,
    "wait for a TCP connection to a node",
);
/// `node.cooldown_s`.
pub const NODE_COOLDOWN_S: Knob<Duration> = seconds(
    "node.cooldown_s",
    30.0,
    0.0,
    600.0,
    "how long a node that failed is left out before it rejoins",
);
/// `node.context_cap`.
pub const NODE_CONTEXT_CAP: Knob<u32> = int(
    "node.context_cap",
    0.0,
    0.0,
    1048576.0,
    true,
    "context window to budget for, in tokens (0: what the server reports)",
);
/// `judge.enabled`.
pub const JUDGE_ENABLED: Knob<bool> = feature(
    "judge.enabled",
    "the judge watches every worker's action log",
);
/// `judge.max_idle_actions`.
pub const JUDGE_MAX_IDLE_ACTIONS: Knob<u32> = int(
    "judge.max_idle_actions",
    10.0,
    2.0,
    60.0,
    true,
    "consecutive actions that write nothing before the judge stops a worker",
);
/// `judge.max_repeats`.
pub const JUDGE_MAX_REPEATS: Knob<u32> = int(
    "judge.max_repeats",
    3.0,
    2.0,
    20.0,
    true,
    "identical actions in a row before the judge stops a worker",
);
/// `judge.reject_empty_done`.
pub const JUDGE_REJECT_EMPTY_DONE: Knob<bool> = feature(
    "judge.reject_empty_done",
    "refuse `done` while the worker's owned files are unchanged or still stubs",
);
/// `verify.smoke`.
pub const VERIFY_SMOKE: Knob<bool> = feature(
    "verify.smoke",
    "import every module and run the generated tests",
);
/// `verify.review`.
pub const VERIFY_REVIEW: Knob<bool> = feature(
    "verify.review",
    "the AST review: unwired modules, stubs left, calls that cannot bind",
);
/// `verify.command_timeout_s`.
pub const VERIFY_COMMAND_TIMEOUT_S: Knob<Duration> = seconds(
    "verify.command_timeout_s",
    30.0,
    1.0,
    600.0,
    "time limit of one verification command",
);
/// `fix.rounds`.
pub const FIX_ROUNDS: Knob<u32> = int(
    "fix.rounds",
    3.0,
    0.0,
    10.0,
    true,
    "rounds of targeted fixes after a failed verification",
);
/// `sandbox.allow_unsealed`.
pub const SANDBOX_ALLOW_UNSEALED: Knob<bool> = Knob::new(KnobDef {
    name: "sandbox.allow_unsealed",
    kind: KnobKind::Bool,
    default: 0.0,
    min: 0.0,
    max: 1.0,
    tunable: false,
    doc: "run generated code even where bubblewrap is missing (host files, network and processes exposed); recorded in every row",
});

/// Every knob, in the order `swarm knobs` lists them.
pub const REGISTRY: &[KnobDef] = &[
    SCOUT_ENABLED.def,
    SCOUT_MAX_ACTIONS.def,
    PLAN_DRAFTS.def,
    PLAN_REPAIR_ROUNDS.def,
    PLAN_MAX_TASKS.def,
    CONTRACT_ATTEMPTS.def,
    CONTRACT_MAX_ACTIONS.def,
    BUILD_MAX_ACTIONS.def,
    BUILD_ATTEMPTS.def,
    BUILD_CHECK_FINISHED.def,
    SCHED_PRIORITY.def,
    SCHED_FASTEST_FOR_HARD.def,
    SCHED_EFT.def,
    SCHED_PREWARM.def,
    SCHED_PREREVIEW.def,
    NODE_SLOTS_CAP.def,
    NODE_STALL_TIMEOUT_S.def,
    NODE_FIRST_BYTE_TIMEOUT_S.def,
    NODE_MAX_REPLY_TOKENS.def,
    NODE_CONNECT_TIMEOUT_S.def,
    NODE_COOLDOWN_S.def,
    NODE_CONTEXT_CAP.def,
    JUDGE_ENABLED.def,
    JUDGE_MAX_IDLE_ACTIONS.def,
    JUDGE_MAX_REPEATS.def,
    JUDGE_REJECT_EMPTY_DONE.def,
    VERIFY_SMOKE.def,
    VERIFY_REVIEW.def,
    VERIFY_COMMAND_TIMEOUT_S.def,
    FIX_ROUNDS.def,
    SANDBOX_ALLOW_UNSEALED.def,
];
