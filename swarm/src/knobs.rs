//! The knob registry: every feature of the pipeline and every threshold it uses, with its
//! type, default, safe range, whether the tuner may change it, and what it does.
//!
//! Values come from three sources, the first that sets a knob wins: `--knob NAME=VALUE`
//! flags, `SWARM_<NAME>` environment variables (the name upper-cased, `.` as `_`, e.g.
//! `SWARM_PLAN_DRAFTS=5`), and the `[knobs]` table of the config file. A value outside the
//! knob's safe range, of the wrong type, or for an unknown knob is refused with the reason.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

/// A knob's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KnobKind {
    /// On or off (`true`/`false`, `on`/`off`, `1`/`0`).
    Bool,
    /// A whole number.
    Int,
    /// A number of seconds or a ratio.
    Float,
}

/// One registered knob.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KnobDef {
    /// Dotted name, `phase.what`.
    pub name: &'static str,
    /// Type.
    pub kind: KnobKind,
    /// Default (bools: 0 or 1).
    pub default: f64,
    /// Smallest safe value.
    pub min: f64,
    /// Largest safe value.
    pub max: f64,
    /// Whether the auto-tuner may change it.
    pub tunable: bool,
    /// What it does.
    pub doc: &'static str,
}

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
    CONTRACT_ATTEMPTS.def,
    CONTRACT_MAX_ACTIONS.def,
    BUILD_MAX_ACTIONS.def,
    BUILD_ATTEMPTS.def,
    BUILD_CHECK_FINISHED.def,
    SCHED_PRIORITY.def,
    SCHED_FASTEST_FOR_HARD.def,
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

/// The definition of `name`.
pub fn def(name: &str) -> Option<&'static KnobDef> {
    REGISTRY.iter().find(|knob| knob.name == name)
}

/// Environment variable that sets `name`.
pub fn env_name(name: &str) -> String {
    format!("SWARM_{}", name.to_uppercase().replace('.', "_"))
}

/// A value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KnobError(pub String);

fn parse_value(knob: &KnobDef, text: &str, origin: &str) -> Result<f64, KnobError> {
    let text = text.trim();
    let value = match knob.kind {
        KnobKind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" | "yes" => 1.0,
            "false" | "off" | "0" | "no" => 0.0,
            _ => {
                return Err(KnobError(format!(
                    "{origin}: knob `{}` is on/off; `{text}` is neither (use true or false)",
                    knob.name
                )))
            }
        },
        KnobKind::Int => text.parse::<i64>().map(|v| v as f64).map_err(|_| {
            KnobError(format!(
                "{origin}: knob `{}` takes a whole number; got `{text}`",
                knob.name
            ))
        })?,
        KnobKind::Float => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                KnobError(format!(
                    "{origin}: knob `{}` takes a number; got `{text}`",
                    knob.name
                ))
            })?,
    };
    if value < knob.min || value > knob.max {
        return Err(KnobError(format!(
            "{origin}: knob `{}` = {text} is outside its safe range {}..={}",
            knob.name,
            show(knob, knob.min),
            show(knob, knob.max)
        )));
    }
    Ok(value)
}

/// A value as the user writes it.
pub fn show(knob: &KnobDef, value: f64) -> String {
    match knob.kind {
        KnobKind::Bool => if value != 0.0 { "true" } else { "false" }.to_string(),
        KnobKind::Int => format!("{}", value as i64),
        KnobKind::Float => format!("{value}"),
    }
}

/// Where a knob's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The registry default.
    Default,
    /// The config file.
    File,
    /// An environment variable.
    Env,
    /// A command-line flag.
    Flag,
}

/// The value of every knob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    values: BTreeMap<String, f64>,
    #[serde(default)]
    sources: BTreeMap<String, Source>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            values: REGISTRY
                .iter()
                .map(|k| (k.name.to_string(), k.default))
                .collect(),
            sources: BTreeMap::new(),
        }
    }
}

impl Knobs {
    /// Sets `name` from text, checking type and range.
    pub fn set(
        &mut self,
        name: &str,
        text: &str,
        source: Source,
        origin: &str,
    ) -> Result<(), KnobError> {
        let knob = def(name).ok_or_else(|| {
            KnobError(format!(
                "{origin}: no knob is called `{name}` (`swarm knobs` lists them)"
            ))
        })?;
        let value = parse_value(knob, text, origin)?;
        self.values.insert(name.to_string(), value);
        self.sources.insert(name.to_string(), source);
        Ok(())
    }

    /// Knobs from the config file's `[knobs]` table, the environment (through `env`), then
    /// `NAME=VALUE` flags; later sources override earlier ones.
    pub fn resolve(
        file: Option<&toml::Table>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &[String],
    ) -> Result<Knobs, KnobError> {
        let mut knobs = Knobs::default();
        if let Some(table) = file {
            for (name, value) in table {
                let text = match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                knobs.set(name, &text, Source::File, "config file [knobs]")?;
            }
        }
        for knob in REGISTRY {
            let variable = env_name(knob.name);
            if let Some(text) = env(&variable) {
                knobs.set(knob.name, &text, Source::Env, &variable)?;
            }
        }
        for flag in flags {
            let (name, text) = flag.split_once('=').ok_or_else(|| {
                KnobError(format!(
                    "--knob {flag}: write it as NAME=VALUE, e.g. --knob plan.drafts=5"
                ))
            })?;
            knobs.set(name.trim(), text, Source::Flag, &format!("--knob {flag}"))?;
        }
        Ok(knobs)
    }

    fn value(&self, name: &str) -> f64 {
        self.values
            .get(name)
            .copied()
            .or_else(|| def(name).map(|k| k.default))
            .unwrap_or(0.0)
    }

    /// A knob's value, through its typed handle (`knobs.get(FIX_ROUNDS)`).
    pub fn get<T: KnobValue>(&self, knob: Knob<T>) -> T {
        T::from_number(self.value(knob.name()))
    }

    /// Where `name` got its value.
    pub fn source(&self, name: &str) -> Source {
        self.sources.get(name).copied().unwrap_or(Source::Default)
    }

    /// Every knob and its value as text, for events and results.
    pub fn as_map(&self) -> BTreeMap<String, String> {
        REGISTRY
            .iter()
            .map(|k| (k.name.to_string(), show(k, self.value(k.name))))
            .collect()
    }

    /// The knobs that differ from their defaults.
    pub fn changed(&self) -> BTreeMap<String, String> {
        REGISTRY
            .iter()
            .filter(|k| self.value(k.name) != k.default)
            .map(|k| (k.name.to_string(), show(k, self.value(k.name))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn flags_beat_env_beat_file_and_bad_values_are_refused() {
        let file: toml::Table =
            toml::from_str("\"plan.drafts\" = 2\n\"fix.rounds\" = 1\n\"judge.enabled\" = false\n")
                .unwrap();
        let env = |name: &str| (name == "SWARM_PLAN_DRAFTS").then(|| "4".to_string());
        let knobs = Knobs::resolve(Some(&file), &env, &["fix.rounds=0".into()]).unwrap();
        assert_eq!(knobs.get(PLAN_DRAFTS), 4);
        assert_eq!(knobs.source("plan.drafts"), Source::Env);
        assert_eq!(knobs.get(FIX_ROUNDS), 0);
        assert!(!knobs.get(JUDGE_ENABLED));
        assert!(knobs.get(SCOUT_ENABLED));
        assert_eq!(knobs.get(NODE_STALL_TIMEOUT_S), Duration::from_secs(120));
        assert_eq!(knobs.changed().len(), 3);

        let none = |_: &str| None;
        let err = Knobs::resolve(None, &none, &["plan.drafts=99".into()]).unwrap_err();
        assert_eq!(
            err.0,
            "--knob plan.drafts=99: knob `plan.drafts` = 99 is outside its safe range 1..=8"
        );
        let err = Knobs::resolve(None, &none, &["plan.draft=2".into()]).unwrap_err();
        assert!(err.0.contains("no knob is called `plan.draft`"), "{err}");
        let err = Knobs::resolve(None, &none, &["judge.enabled=maybe".into()]).unwrap_err();
        assert!(err.0.contains("on/off"), "{err}");
        let err = Knobs::resolve(None, &none, &["plan.drafts".into()]).unwrap_err();
        assert!(err.0.contains("NAME=VALUE"), "{err}");
    }

    #[test]
    fn every_default_lies_in_its_range_and_names_are_unique() {
        for knob in REGISTRY {
            assert!(
                knob.min <= knob.default && knob.default <= knob.max,
                "{}",
                knob.name
            );
            assert_eq!(REGISTRY.iter().filter(|k| k.name == knob.name).count(), 1);
            assert!(!knob.doc.is_empty());
        }
    }
}
