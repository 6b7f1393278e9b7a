//! The knob registry: every feature of the pipeline and every threshold it uses, with its
//! type, default, safe range, whether the tuner may change it, and what it does.
//!
//! Values come from three sources, the first that sets a knob wins: `--knob NAME=VALUE`
//! flags, `SWARM_<NAME>` environment variables (the name upper-cased, `.` as `_`, e.g.
//! `SWARM_PLAN_DRAFTS=5`), and the `[knobs]` table of the config file. A value outside the
//! knob's safe range, of the wrong type, or for an unknown knob is refused with the reason.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod registry;
pub use registry::*;

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
        assert_eq!(
            knobs.get(NODE_STALL_TIMEOUT_S),
            std::time::Duration::from_secs(120)
        );
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
