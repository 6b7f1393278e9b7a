//! Settings of the `swarm` commands, from three sources in order of precedence: command-line
//! flags, then `SWARM_*` environment variables, then the config file (`$SWARM_CONFIG`, or
//! `swarm/config.toml` in the user's config directory, e.g. `~/.config/swarm/config.toml`).
//!
//! ```toml
//! url = "http://192.168.1.20:1234"   # server root, with or without /v1
//! model = "qwen3-coder-30b"
//! action_mode = "auto"               # native | json | auto
//! max_actions = 40
//! api_key_env = "LMSTUDIO_API_KEY"   # the variable holding the key; the key is never logged
//! ```

use crate::agent::ActionMode;
use serde::Deserialize;
use std::path::PathBuf;

/// Environment variable: server URL.
pub const ENV_URL: &str = "SWARM_URL";
/// Environment variable: model id.
pub const ENV_MODEL: &str = "SWARM_MODEL";
/// Environment variable: action mode (native, json, auto).
pub const ENV_ACTION_MODE: &str = "SWARM_ACTION_MODE";
/// Environment variable: action budget.
pub const ENV_MAX_ACTIONS: &str = "SWARM_MAX_ACTIONS";
/// Environment variable: name of the variable that holds the API key.
pub const ENV_API_KEY_ENV: &str = "SWARM_API_KEY_ENV";
/// Environment variable: path of the config file.
pub const ENV_CONFIG: &str = "SWARM_CONFIG";

/// Ports tried when no URL is configured: LM Studio, Ollama, llama-server, vLLM.
pub const DISCOVERY_URLS: [&str; 4] = [
    "http://127.0.0.1:1234",
    "http://127.0.0.1:11434",
    "http://127.0.0.1:8080",
    "http://127.0.0.1:8000",
];

/// The config file's fields (all optional).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Server URL.
    pub url: Option<String>,
    /// Model id.
    pub model: Option<String>,
    /// Action mode.
    pub action_mode: Option<String>,
    /// Action budget.
    pub max_actions: Option<u32>,
    /// Variable holding the API key.
    pub api_key_env: Option<String>,
    /// Pipeline knobs (`swarm knobs` lists them).
    pub knobs: Option<toml::Table>,
}

/// Values given on the command line (None: not given).
#[derive(Debug, Clone, Default)]
pub struct FlagSettings {
    /// `--url`.
    pub url: Option<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--action-mode`.
    pub action_mode: Option<ActionMode>,
    /// `--max-actions`.
    pub max_actions: Option<u32>,
}

/// The merged settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSettings {
    /// Server URL; None means discover.
    pub url: Option<String>,
    /// Model; None means the server's loaded model.
    pub model: Option<String>,
    /// Action mode.
    pub action_mode: ActionMode,
    /// Action budget.
    pub max_actions: u32,
    /// The API key (read from the named variable), never printed.
    pub api_key: Option<String>,
    /// The name of the variable holding the API key.
    pub api_key_env: Option<String>,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
}

/// A setting that cannot be used; the message names its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// Where the config file is looked for.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env(ENV_CONFIG)
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|dir| dir.join("swarm/config.toml")))
}

/// The knobs from the config file, `SWARM_*` variables and `--knob NAME=VALUE` flags (the
/// first that sets a knob wins). When they accept unsealed runs (`sandbox.allow_unsealed`)
/// the sandbox is told so for the whole process.
pub fn resolve_knobs(flags: &[String]) -> Result<crate::knobs::Knobs, String> {
    let env = |key: &str| std::env::var(key).ok();
    let (file, _) = read_file(&env).map_err(|e| e.to_string())?;
    let knobs = crate::knobs::Knobs::resolve(file.knobs.as_ref(), &env, flags)
        .map_err(|e| e.to_string())?;
    if knobs.get(crate::knobs::SANDBOX_ALLOW_UNSEALED) {
        crate::sandbox::allow_unsealed();
    }
    Ok(knobs)
}

/// The config file's settings (defaults when there is none) and its path.
pub fn read_file(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(FileSettings, Option<PathBuf>), SettingsError> {
    let path = config_path(env);
    Ok(match &path {
        Some(path) if path.exists() => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                SettingsError(format!("cannot read config file {}: {err}", path.display()))
            })?;
            let file: FileSettings = toml::from_str(&text).map_err(|err| {
                SettingsError(format!("config file {} is invalid: {err}", path.display()))
            })?;
            (file, Some(path.clone()))
        }
        Some(path) if env(ENV_CONFIG).is_some() => {
            return Err(SettingsError(format!(
                "{ENV_CONFIG} names {}, which does not exist",
                path.display()
            )))
        }
        _ => (FileSettings::default(), None),
    })
}

/// Merges flags, environment (through `env`, so tests can inject it) and the config file.
pub fn resolve(
    flags: &FlagSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AgentSettings, SettingsError> {
    let (file, config_file) = read_file(env)?;
    let env_mode = env(ENV_ACTION_MODE)
        .map(|text| {
            text.parse::<ActionMode>()
                .map_err(|err| SettingsError(format!("{ENV_ACTION_MODE}: {err}")))
        })
        .transpose()?;
    let file_mode = file
        .action_mode
        .as_deref()
        .map(|text| {
            text.parse::<ActionMode>()
                .map_err(|err| SettingsError(format!("config file action_mode: {err}")))
        })
        .transpose()?;
    let env_max = env(ENV_MAX_ACTIONS)
        .map(|text| {
            text.trim().parse::<u32>().map_err(|_| {
                SettingsError(format!(
                    "{ENV_MAX_ACTIONS}=`{text}` is not a whole number of actions"
                ))
            })
        })
        .transpose()?;
    let max_actions = flags
        .max_actions
        .or(env_max)
        .or(file.max_actions)
        .unwrap_or(40);
    if max_actions == 0 {
        return Err(SettingsError("the action budget must be at least 1".into()));
    }
    let api_key_env = env(ENV_API_KEY_ENV).or(file.api_key_env);
    let api_key = match &api_key_env {
        Some(name) => Some(env(name).ok_or_else(|| {
            SettingsError(format!(
                "the API key variable {name} (from api_key_env) is not set"
            ))
        })?),
        None => None,
    };
    Ok(AgentSettings {
        url: flags.url.clone().or_else(|| env(ENV_URL)).or(file.url),
        model: flags
            .model
            .clone()
            .or_else(|| env(ENV_MODEL))
            .or(file.model),
        action_mode: flags
            .action_mode
            .or(env_mode)
            .or(file_mode)
            .unwrap_or(ActionMode::Auto),
        max_actions,
        api_key,
        api_key_env,
        config_file,
    })
}

/// The text shown when no server answers: what was tried and how to start one.
pub fn no_server_help(tried: &[String]) -> String {
    format!(
        "no model server reachable (tried {}).\n\
         Start one, then pass --url (or set {ENV_URL}):\n\
         \x20 LM Studio:    lms server start            (or the Developer tab)   --url http://127.0.0.1:1234\n\
         \x20 Ollama:       ollama serve; ollama pull qwen3:8b                   --url http://127.0.0.1:11434\n\
         \x20 llama-server: llama-server -m MODEL.gguf --port 8080 --parallel 2   --url http://127.0.0.1:8080\n\
         \x20 vLLM:         vllm serve MODEL --port 8000                         --url http://127.0.0.1:8000",
        tried.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "url = \"http://file\"\nmodel = \"file-model\"\nmax_actions = 7\naction_mode = \"native\"\n").unwrap();
        let path = file.to_string_lossy().into_owned();
        let env = env_of(&[
            (ENV_CONFIG, &path),
            (ENV_MODEL, "env-model"),
            (ENV_URL, "http://env"),
        ]);
        let flags = FlagSettings {
            url: Some("http://flag".into()),
            ..FlagSettings::default()
        };
        let settings = resolve(&flags, &env).unwrap();
        assert_eq!(
            (
                settings.url.as_deref(),
                settings.model.as_deref(),
                settings.max_actions,
                settings.action_mode
            ),
            (
                Some("http://flag"),
                Some("env-model"),
                7,
                ActionMode::Native
            )
        );
        assert_eq!(settings.config_file, Some(file));
    }

    #[test]
    fn bad_values_name_their_source() {
        let env = env_of(&[
            (ENV_MAX_ACTIONS, "lots"),
            (ENV_CONFIG, "/nonexistent/swarm.toml"),
        ]);
        let err = resolve(&FlagSettings::default(), &env).unwrap_err();
        assert_eq!(
            err.0,
            "SWARM_CONFIG names /nonexistent/swarm.toml, which does not exist"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "urll = 1").unwrap();
        let path = file.to_string_lossy().into_owned();
        let err = resolve(&FlagSettings::default(), &env_of(&[(ENV_CONFIG, &path)])).unwrap_err();
        assert!(
            err.0.contains("is invalid") && err.0.contains("urll"),
            "{err}"
        );
        let err = resolve(
            &FlagSettings::default(),
            &env_of(&[
                (ENV_MAX_ACTIONS, "lots"),
                (ENV_CONFIG, &dir.path().join("none").to_string_lossy()),
            ]),
        );
        assert!(err.is_err());
    }

    #[test]
    fn api_key_comes_from_the_named_variable() {
        let env = env_of(&[(ENV_API_KEY_ENV, "MY_KEY"), (ENV_CONFIG, "/dev/null/x")]);
        // The config path does not exist but was named: that is the first error.
        assert!(resolve(&FlagSettings::default(), &env).is_err());
        let env = env_of(&[(ENV_API_KEY_ENV, "MY_KEY"), ("MY_KEY", "sk-1")]);
        let settings = resolve(&FlagSettings::default(), &env).unwrap();
        assert_eq!(settings.api_key.as_deref(), Some("sk-1"));
    }
}
