//! The fleet file: which servers exist and what each is for.
//!
//! ```yaml
//! nodes:
//!   - name: big-box                 # unique
//!     url: http://192.168.1.20:1234 # server root
//!     model: qwen3.6-27b            # model id on that server
//!     slots: 2                      # requests it serves at once (default 1)
//!     roles: [worker, planner]      # planner | worker | scout | brain | judge (default: all)
//!     api_key_env: LMSTUDIO_KEY     # optional: variable holding its API key
//!     action_mode: auto             # native | json | auto (default auto)
//! ```

pub mod live;
mod mode;
pub mod sched;

pub use live::{connect, LiveNode, ProbeLine};
pub use mode::ActionMode;

use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a node may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Drafts plans.
    Planner,
    /// Builds (also the single agent's role).
    Worker,
    /// Explores before planning.
    Scout,
    /// Plays the user and invents tasks (gym).
    Brain,
    /// Grades (gym).
    Judge,
}

/// Every role, the default of a node that names none.
pub const ALL_ROLES: [Role; 5] = [
    Role::Planner,
    Role::Worker,
    Role::Scout,
    Role::Brain,
    Role::Judge,
];

/// One server of the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Unique name.
    pub name: String,
    /// Server root.
    pub url: String,
    /// Model id.
    pub model: String,
    /// Parallel requests.
    #[serde(default = "one")]
    pub slots: u32,
    /// Roles; empty means all.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Action protocol for agents on this node.
    #[serde(default = "auto")]
    pub action_mode: ActionMode,
    /// Sampling settings sent with every request to this node (unset: each request's own
    /// temperature and the server's defaults).
    #[serde(default, skip_serializing_if = "Sampling::is_default")]
    pub sampling: Sampling,
}

/// Sampling settings of a node: what an arm of an A/B may change besides the model, and
/// what every results row records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    /// Temperature, 0–2; replaces the temperature each request would use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling, (0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Seed for the server's sampler (servers that honour it repeat a reply exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl Sampling {
    /// Nothing set.
    pub fn is_default(&self) -> bool {
        *self == Sampling::default()
    }

    /// Sets `name` (`temperature`, `top_p` or `seed`) from text, checking its range.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let number = |range: std::ops::RangeInclusive<f32>| {
            value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && range.contains(v))
                .ok_or_else(|| {
                    format!(
                        "{name}=`{value}` is not a number in {}..={}",
                        range.start(),
                        range.end()
                    )
                })
        };
        match name {
            "temperature" => self.temperature = Some(number(0.0..=2.0)?),
            "top_p" => {
                self.top_p = Some(number(0.0..=1.0)?).filter(|p| *p > 0.0);
                if self.top_p.is_none() {
                    return Err(format!("top_p=`{value}` must be above 0"));
                }
            }
            "seed" => {
                self.seed =
                    Some(value.trim().parse::<u64>().map_err(|_| {
                        format!("seed=`{value}` is not a whole number of 0 or more")
                    })?)
            }
            other => {
                return Err(format!(
                    "`{other}` is not a sampling setting (temperature, top_p, seed)"
                ))
            }
        }
        Ok(())
    }

    /// As JSON, `{}` when nothing is set (the `sampling` column).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

fn one() -> u32 {
    1
}
fn auto() -> ActionMode {
    ActionMode::Auto
}

impl Node {
    /// Whether the node may play `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.is_empty() || self.roles.contains(&role)
    }

    /// The API key from the named variable, if any (never logged).
    pub fn api_key(&self) -> Option<String> {
        self.api_key_env
            .as_deref()
            .and_then(|name| std::env::var(name).ok())
    }
}

/// A fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// The nodes, in file order.
    pub nodes: Vec<Node>,
}

/// A fleet file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FleetError(pub String);

impl Fleet {
    /// Reads and validates a fleet file.
    pub fn load(path: &Path) -> Result<Fleet, FleetError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            FleetError(format!("cannot read fleet file {}: {err}", path.display()))
        })?;
        Fleet::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and validates YAML; `origin` names the source in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Fleet, FleetError> {
        let fleet: Fleet =
            serde_yaml_ng::from_str(text).map_err(|err| FleetError(format!("{origin}: {err}")))?;
        if fleet.nodes.is_empty() {
            return Err(FleetError(format!(
                "{origin}: `nodes` is empty; a fleet needs at least one node"
            )));
        }
        for (index, node) in fleet.nodes.iter().enumerate() {
            if node.name.trim().is_empty()
                || node.url.trim().is_empty()
                || node.model.trim().is_empty()
            {
                return Err(FleetError(format!(
                    "{origin}: nodes[{index}]: name, url and model must not be empty"
                )));
            }
            if fleet
                .nodes
                .iter()
                .filter(|other| other.name == node.name)
                .count()
                > 1
            {
                return Err(FleetError(format!(
                    "{origin}: nodes[{index}]: the name `{}` is used twice",
                    node.name
                )));
            }
            if node.slots == 0 {
                return Err(FleetError(format!(
                    "{origin}: nodes[{index}] ({}): slots must be at least 1",
                    node.name
                )));
            }
        }
        Ok(fleet)
    }

    /// Nodes that may play `role`, in file order.
    pub fn with_role(&self, role: Role) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|node| node.has_role(role))
            .collect()
    }

    /// The fleet of `--url URL [--model ID]`: the one server at `url`, playing every role.
    /// Its model is `model`, else the one the server has loaded; its slots are the ones the
    /// server reports (1 when it does not say). The API key comes from the variable named
    /// by `api_key_env`. Fails with a clear reason when the server cannot be reached, lists
    /// no model, or lists models without `model`.
    pub async fn one_node(
        url: &str,
        model: Option<&str>,
        api_key_env: Option<String>,
    ) -> Result<Fleet, FleetError> {
        let key = api_key_env
            .as_deref()
            .and_then(|name| std::env::var(name).ok());
        let report = crate::llm::probe(url, key.as_deref(), std::time::Duration::from_secs(5))
            .await
            .map_err(|err| FleetError(format!("--url {url}: cannot reach the server: {err}")))?;
        let mut node = node_of(&report, model).map_err(FleetError)?;
        node.api_key_env = api_key_env;
        Ok(Fleet { nodes: vec![node] })
    }
}

/// The node a probed server makes, playing every role: serving `model`, else the server's
/// loaded model. Refused when the server lists models but not `model`, or lists none and no
/// model was named.
pub fn node_of(report: &crate::llm::ProbeReport, model: Option<&str>) -> Result<Node, String> {
    let listed: Vec<&str> = report.models.iter().map(|m| m.id.as_str()).collect();
    let served = |name: &str| {
        report
            .models
            .iter()
            .any(|m| m.id == name || m.aliases.iter().any(|alias| alias == name))
    };
    let model = match model {
        Some(model) if listed.is_empty() || served(model) => model.to_string(),
        Some(model) => {
            return Err(format!(
                "{} does not serve `{model}`; it lists: {}",
                report.url,
                listed.join(", ")
            ))
        }
        None => match report.default_model() {
            Some(loaded) => loaded.id.clone(),
            None => {
                return Err(format!(
                    "{} lists no model; load one, or name it with --model ID",
                    report.url
                ))
            }
        },
    };
    let backend = format!("{:?}", report.backend).to_lowercase();
    let port = report
        .url
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .rsplit(':')
        .next()
        .filter(|port| port.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or("0");
    Ok(Node {
        name: format!("{backend}-{port}"),
        url: report.url.clone(),
        model,
        slots: report.slots.unwrap_or(1).max(1),
        roles: Vec::new(),
        api_key_env: None,
        action_mode: ActionMode::Auto,
        sampling: Sampling::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn report(models: &[(&str, bool)], slots: Option<u32>) -> crate::llm::ProbeReport {
        crate::llm::ProbeReport {
            url: "http://127.0.0.1:8080".into(),
            backend: crate::llm::Backend::LlamaServer,
            models: models
                .iter()
                .map(|(id, loaded)| crate::llm::ModelInfo {
                    id: id.to_string(),
                    loaded: Some(*loaded),
                    aliases: vec![format!("{id}-alias")],
                    ..Default::default()
                })
                .collect(),
            slots,
            slots_busy: None,
            requests_waiting: None,
            health: None,
        }
    }

    #[test]
    fn a_url_makes_one_node_with_every_role_and_the_servers_slots() {
        let node = node_of(&report(&[("a", false), ("b", true)], Some(4)), None).unwrap();
        assert_eq!(
            (node.name.as_str(), node.model.as_str(), node.slots),
            ("llamaserver-8080", "b", 4),
            "the loaded model, the server's slots"
        );
        assert!(ALL_ROLES.iter().all(|role| node.has_role(*role)));
        let named = node_of(&report(&[("a", false), ("b", true)], None), Some("a")).unwrap();
        assert_eq!((named.model.as_str(), named.slots), ("a", 1));
        assert!(node_of(&report(&[("a", true)], None), Some("a-alias")).is_ok());
        let err = node_of(&report(&[("a", true)], None), Some("qwen")).unwrap_err();
        assert!(
            err.contains("does not serve `qwen`") && err.contains("lists: a"),
            "{err}"
        );
        let err = node_of(&report(&[], None), None).unwrap_err();
        assert!(
            err.contains("lists no model") && err.contains("--model"),
            "{err}"
        );
        assert_eq!(node_of(&report(&[], None), Some("m")).unwrap().model, "m");
    }

    #[test]
    fn roles_default_to_all_and_filter() {
        let fleet = Fleet::from_yaml(
            "nodes:\n  - {name: a, url: 'http://a', model: m1, roles: [worker]}\n  - {name: b, url: 'http://b', model: m2}\n",
            "f.yaml",
        )
        .unwrap();
        let judges: Vec<&str> = fleet
            .with_role(Role::Judge)
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(judges, vec!["b"]);
        assert_eq!(fleet.with_role(Role::Worker).len(), 2);
        assert_eq!(fleet.nodes[0].action_mode, ActionMode::Auto);
    }

    #[test]
    fn errors_name_the_node() {
        let err = Fleet::from_yaml(
            "nodes:\n  - {name: a, url: u, model: m, slots: 0}\n",
            "f.yaml",
        )
        .unwrap_err();
        assert_eq!(err.0, "f.yaml: nodes[0] (a): slots must be at least 1");
        let err = Fleet::from_yaml(
            "nodes:\n  - {name: a, url: u, model: m, roles: [cook]}\n",
            "f.yaml",
        )
        .unwrap_err();
        assert!(err.0.contains("unknown variant `cook`"), "{err}");
    }
}
