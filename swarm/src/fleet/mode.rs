//! How a node's model expresses actions: configuration of a node (the fleet file's
//! `action_mode`, a flag, an A/B setting), resolved against what the node's probe says. The
//! agent's protocols (`agent/protocol.rs`) implement the two concrete modes.

use crate::llm::ProbeReport;
use serde::{Deserialize, Serialize};

/// How the model expresses actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionMode {
    /// Native tool calls.
    Native,
    /// One JSON action per turn under a schema.
    Json,
    /// Decide from the probe.
    Auto,
}

impl std::fmt::Display for ActionMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActionMode::Native => "native",
            ActionMode::Json => "json",
            ActionMode::Auto => "auto",
        })
    }
}

impl std::str::FromStr for ActionMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "native" => Ok(ActionMode::Native),
            "json" => Ok(ActionMode::Json),
            "auto" => Ok(ActionMode::Auto),
            other => Err(format!(
                "unknown action mode `{other}` (expected native, json or auto)"
            )),
        }
    }
}

impl ActionMode {
    /// Resolves `auto` from what the probe said about `model`; an unknown answer means JSON,
    /// which works on every server that supports response_format.
    pub fn resolve(self, probe: Option<&ProbeReport>, model: Option<&str>) -> ActionMode {
        match self {
            ActionMode::Auto => {
                let tools = probe
                    .and_then(|p| p.model(model))
                    .and_then(|m| m.supports_tools);
                if tools == Some(true) {
                    ActionMode::Native
                } else {
                    ActionMode::Json
                }
            }
            fixed => fixed,
        }
    }
}
