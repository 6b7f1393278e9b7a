//! Backend probes: what an orchestrator needs to know about a server before sending work —
//! which backend it is, which models are loaded, their context length, how many requests it
//! serves in parallel, whether it is busy, whether its template handles native tools.
//!
//! Each backend is asked through its own endpoints (LM Studio `/api/v1/models`, Ollama
//! `/api/ps` and `/api/tags`, llama-server `/health`, `/props`, `/slots`, vLLM `/metrics`)
//! and the generic `/v1/models` is the fallback. Parsers are pure functions over bytes so
//! they can be tested on recorded answers; none panics on any input.

use super::client::{normalize_base_url, transport_error};
use super::error::LlmError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Which kind of server answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// LM Studio.
    LmStudio,
    /// Ollama.
    Ollama,
    /// llama.cpp's llama-server (swarm-sim presents itself as one).
    LlamaServer,
    /// vLLM.
    Vllm,
    /// Some other OpenAI-compatible server.
    Generic,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::LmStudio => "LM Studio",
            Backend::Ollama => "Ollama",
            Backend::LlamaServer => "llama-server",
            Backend::Vllm => "vLLM",
            Backend::Generic => "OpenAI-compatible server",
        })
    }
}

/// One model the server knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The id to put in requests.
    pub id: String,
    /// Loaded in memory (None: the backend does not say).
    pub loaded: Option<bool>,
    /// Context window of the loaded instance (or the model's maximum when not loaded).
    pub context_length: Option<u64>,
    /// Requests served at once.
    pub parallel: Option<u32>,
    /// Whether the model/template handles native tool calls.
    pub supports_tools: Option<bool>,
    /// Other names the server answers to for it (llama-server's `--alias`).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// What the probe learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The normalised server root.
    pub url: String,
    /// The backend recognised.
    pub backend: Backend,
    /// Models, loaded ones first.
    pub models: Vec<ModelInfo>,
    /// Total parallel slots, when known.
    pub slots: Option<u32>,
    /// Slots busy right now, when known.
    pub slots_busy: Option<u32>,
    /// Requests waiting in the server's queue (vLLM), when known.
    pub requests_waiting: Option<u64>,
    /// Health as the server reports it ("ok", "loading model", …), when it has an endpoint.
    pub health: Option<String>,
}

impl ProbeReport {
    /// The model to use when none was named: the first loaded one, else the first listed.
    pub fn default_model(&self) -> Option<&ModelInfo> {
        self.models
            .iter()
            .find(|model| model.loaded == Some(true))
            .or_else(|| self.models.first())
    }

    /// Facts about `model` (or the default model when `None` or not listed).
    /// Every name a request may use for a model this server lists (ids and aliases).
    pub fn served_names(&self) -> Vec<&str> {
        self.models
            .iter()
            .flat_map(|m| {
                std::iter::once(m.id.as_str()).chain(m.aliases.iter().map(String::as_str))
            })
            .collect()
    }

    /// Whether `model` is a name this server lists. A server that lists nothing cannot be
    /// checked and counts as serving it; one that lists models but not this one answers a
    /// request for it with another model (llama-server ignores the field), so it does not.
    pub fn serves(&self, model: &str) -> bool {
        let names = self.served_names();
        // Ollama answers to `name` for `name:latest`.
        let latest = format!("{model}:latest");
        names.is_empty()
            || model.is_empty()
            || names.contains(&model)
            || names.contains(&latest.as_str())
    }

    pub fn model(&self, model: Option<&str>) -> Option<&ModelInfo> {
        model
            .and_then(|id| self.models.iter().find(|info| info.id == id))
            .or_else(|| self.default_model())
    }
}

fn as_u32(value: Option<&Value>) -> Option<u32> {
    value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// LM Studio `/api/v1/models`: `{"models":[{"key", "type", "loaded_instances":[{"id",
/// "config":{"context_length", …}}], "max_context_length", "capabilities"}]}`. Also accepts
/// the older `/api/v0/models` shape (`data[]` with `state` and `loaded_context_length`).
pub fn parse_lmstudio_models(body: &[u8]) -> Option<Vec<ModelInfo>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    if let Some(models) = value.get("models").and_then(Value::as_array) {
        let mut out = Vec::new();
        for model in models {
            if model.get("type").and_then(Value::as_str) == Some("embedding") {
                continue;
            }
            let key = model.get("key").and_then(Value::as_str)?;
            let max_context = model.get("max_context_length").and_then(Value::as_u64);
            let tools = model
                .get("capabilities")
                .and_then(|caps| caps.get("trained_for_tool_use"))
                .and_then(Value::as_bool);
            let instances = model.get("loaded_instances").and_then(Value::as_array);
            match instances.filter(|list| !list.is_empty()) {
                Some(instances) => {
                    for instance in instances {
                        let config = instance.get("config");
                        let field = |name: &str| config.and_then(|c| c.get(name));
                        out.push(ModelInfo {
                            id: instance
                                .get("id")
                                .and_then(Value::as_str)
                                .unwrap_or(key)
                                .into(),
                            loaded: Some(true),
                            context_length: field("context_length")
                                .and_then(Value::as_u64)
                                .or(max_context),
                            parallel: as_u32(field("parallel"))
                                .or_else(|| as_u32(field("num_parallel")))
                                .or_else(|| as_u32(field("max_parallel_predictions"))),
                            supports_tools: tools,
                            aliases: vec![key.to_string()],
                        });
                    }
                }
                None => out.push(ModelInfo {
                    id: key.into(),
                    loaded: Some(false),
                    context_length: max_context,
                    parallel: None,
                    supports_tools: tools,
                    aliases: Vec::new(),
                }),
            }
        }
        return Some(sort_loaded_first(out));
    }
    let data = value.get("data").and_then(Value::as_array)?;
    if !data.iter().any(|model| model.get("state").is_some()) {
        return None;
    }
    let models = data
        .iter()
        .filter(|model| model.get("type").and_then(Value::as_str) != Some("embeddings"))
        .filter_map(|model| {
            let loaded = model
                .get("state")
                .and_then(Value::as_str)
                .map(|s| s == "loaded");
            Some(ModelInfo {
                id: model.get("id")?.as_str()?.to_string(),
                loaded,
                context_length: model
                    .get("loaded_context_length")
                    .or_else(|| model.get("max_context_length"))
                    .and_then(Value::as_u64),
                parallel: None,
                supports_tools: model
                    .get("capabilities")
                    .and_then(Value::as_array)
                    .map(|caps| caps.iter().any(|c| c.as_str() == Some("tool_use"))),
                aliases: Vec::new(),
            })
        })
        .collect();
    Some(sort_loaded_first(models))
}

fn sort_loaded_first(mut models: Vec<ModelInfo>) -> Vec<ModelInfo> {
    models.sort_by_key(|model| model.loaded != Some(true));
    models
}

/// Ollama `/api/tags` (installed) merged with `/api/ps` (loaded, with `context_length` in
/// recent versions).
pub fn parse_ollama(tags: &[u8], ps: Option<&[u8]>) -> Option<Vec<ModelInfo>> {
    let tags: Value = serde_json::from_slice(tags).ok()?;
    let installed = tags.get("models")?.as_array()?;
    let running: Vec<Value> = ps
        .and_then(|body| serde_json::from_slice::<Value>(body).ok())
        .and_then(|value| value.get("models").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let name_of = |model: &Value| {
        model
            .get("name")
            .or_else(|| model.get("model"))
            .and_then(Value::as_str)
            .map(String::from)
    };
    let mut models: Vec<ModelInfo> = installed
        .iter()
        .filter_map(|model| {
            let id = name_of(model)?;
            let live = running
                .iter()
                .find(|r| name_of(r).as_deref() == Some(id.as_str()));
            Some(ModelInfo {
                loaded: Some(live.is_some()),
                context_length: live
                    .and_then(|r| r.get("context_length"))
                    .and_then(Value::as_u64),
                parallel: None,
                supports_tools: None,
                id,
                aliases: Vec::new(),
            })
        })
        .collect();
    // A model can be loaded without being listed in tags (pulled under another name).
    for live in &running {
        if let Some(id) = name_of(live) {
            if !models.iter().any(|model| model.id == id) {
                models.push(ModelInfo {
                    id,
                    loaded: Some(true),
                    context_length: live.get("context_length").and_then(Value::as_u64),
                    ..ModelInfo::default()
                });
            }
        }
    }
    Some(sort_loaded_first(models))
}

/// llama-server `/props`: the model, its context, the slot count and tool support.
pub fn parse_llama_props(body: &[u8]) -> Option<(ModelInfo, Option<u32>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let settings = value.get("default_generation_settings");
    let total_slots = as_u32(value.get("total_slots"));
    if settings.is_none() && total_slots.is_none() {
        return None;
    }
    let id = value
        .get("model_alias")
        .and_then(Value::as_str)
        .filter(|alias| !alias.is_empty())
        .or_else(|| value.get("model_path").and_then(Value::as_str))
        .unwrap_or("default")
        .to_string();
    let context_length = settings
        .and_then(|s| s.get("n_ctx"))
        .or_else(|| value.get("n_ctx"))
        .and_then(Value::as_u64);
    let supports_tools = value
        .get("chat_template_caps")
        .and_then(|caps| {
            caps.get("supports_tools")
                .or_else(|| caps.get("supports_tool_calls"))
        })
        .and_then(Value::as_bool);
    let info = ModelInfo {
        id,
        loaded: Some(true),
        context_length,
        parallel: total_slots,
        supports_tools,
        aliases: Vec::new(),
    };
    Some((info, total_slots))
}

/// llama-server `/slots`: (total, busy).
pub fn parse_llama_slots(body: &[u8]) -> Option<(u32, u32)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let slots = value.as_array()?;
    let busy = slots
        .iter()
        .filter(|slot| {
            slot.get("is_processing")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || slot.get("state").and_then(Value::as_u64).unwrap_or(0) != 0
        })
        .count();
    Some((u32::try_from(slots.len()).ok()?, u32::try_from(busy).ok()?))
}

/// vLLM `/metrics` (Prometheus text): (running, waiting) requests summed over models.
pub fn parse_vllm_metrics(body: &[u8]) -> Option<(u64, u64)> {
    let text = String::from_utf8_lossy(body);
    if !text.contains("vllm:") {
        return None;
    }
    let mut running = 0.0;
    let mut waiting = 0.0;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(number)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(number) = number.parse::<f64>() else {
            continue;
        };
        let metric = name.split('{').next().unwrap_or(name);
        match metric {
            "vllm:num_requests_running" => running += number,
            "vllm:num_requests_waiting" => waiting += number,
            _ => {}
        }
    }
    Some((running.max(0.0) as u64, waiting.max(0.0) as u64))
}

/// Generic `/v1/models`: ids, plus vLLM's `max_model_len` where present.
pub fn parse_openai_models(body: &[u8]) -> Option<Vec<ModelInfo>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let data = value.get("data")?.as_array()?;
    Some(
        data.iter()
            .filter_map(|model| {
                Some(ModelInfo {
                    id: model.get("id")?.as_str()?.to_string(),
                    context_length: model
                        .get("max_model_len")
                        .or_else(|| model.get("context_length"))
                        .and_then(Value::as_u64),
                    aliases: model
                        .get("aliases")
                        .and_then(Value::as_array)
                        .map(|names| {
                            names
                                .iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default(),
                    ..ModelInfo::default()
                })
            })
            .collect(),
    )
}

/// Asks the server at `url` what it is, sending `api_key` as a bearer token when given (LM
/// Studio and vLLM can require one). Fails only when the server cannot be reached at all; an
/// unknown server is reported as `Backend::Generic`.
pub async fn probe(
    url: &str,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<ProbeReport, LlmError> {
    let root = normalize_base_url(url);
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = api_key {
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                LlmError::Malformed("the API key holds characters a header cannot carry".into())
            })?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    let http = reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .default_headers(headers)
        .build()
        .map_err(|err| LlmError::Malformed(format!("cannot build HTTP client: {err}")))?;
    let get = |path: &'static str| {
        let http = http.clone();
        let url = format!("{root}{path}");
        async move {
            let response = http
                .get(&url)
                .send()
                .await
                .map_err(|err| transport_error(&url, &err, timeout))?;
            let ok = response.status().is_success();
            let bytes = response
                .bytes()
                .await
                .map_err(|err| transport_error(&url, &err, timeout))?;
            Ok::<Option<Vec<u8>>, LlmError>(ok.then(|| bytes.to_vec()))
        }
    };
    // Backend-specific endpoints are optional: an error or a non-success status is "not this
    // backend", never a failure of the probe.
    let fetch = |path: &'static str| {
        let request = get(path);
        async move { request.await.ok().flatten() }
    };
    // Reachability first, so a dead address fails fast with a clear error.
    let generic = get("/v1/models").await?;
    let mut report = ProbeReport {
        url: root.clone(),
        backend: Backend::Generic,
        models: generic
            .as_deref()
            .and_then(parse_openai_models)
            .unwrap_or_default(),
        slots: None,
        slots_busy: None,
        requests_waiting: None,
        health: None,
    };
    if let Some((model, slots)) = fetch("/props").await.as_deref().and_then(parse_llama_props) {
        report.backend = Backend::LlamaServer;
        report.slots = slots;
        // Requests must use the ids /v1/models lists when it lists some: /props only enriches
        // the first (the loaded model); the others stay listed (a router serves several).
        match report.models.first_mut() {
            Some(first) => {
                *first = ModelInfo {
                    id: first.id.clone(),
                    aliases: std::mem::take(&mut first.aliases),
                    ..model
                }
            }
            None => report.models = vec![model],
        }
        if let Some((total, busy)) = fetch("/slots").await.as_deref().and_then(parse_llama_slots) {
            report.slots = Some(total);
            report.slots_busy = Some(busy);
        }
        report.health = fetch("/health")
            .await
            .and_then(|body| serde_json::from_slice::<Value>(&body).ok())
            .and_then(|value| {
                value
                    .get("status")
                    .and_then(Value::as_str)
                    .map(String::from)
            });
        return Ok(report);
    }
    for path in ["/api/v1/models", "/api/v0/models"] {
        if let Some(models) = fetch(path).await.as_deref().and_then(parse_lmstudio_models) {
            report.backend = Backend::LmStudio;
            report.slots = models
                .iter()
                .filter(|m| m.loaded == Some(true))
                .filter_map(|m| m.parallel)
                .max();
            report.models = models;
            return Ok(report);
        }
    }
    if let Some(tags) = fetch("/api/tags").await {
        let ps = fetch("/api/ps").await;
        if let Some(models) = parse_ollama(&tags, ps.as_deref()) {
            report.backend = Backend::Ollama;
            report.models = models;
            return Ok(report);
        }
    }
    if let Some((running, waiting)) = fetch("/metrics")
        .await
        .as_deref()
        .and_then(parse_vllm_metrics)
    {
        report.backend = Backend::Vllm;
        report.slots_busy = u32::try_from(running).ok();
        report.requests_waiting = Some(waiting);
        for model in &mut report.models {
            model.loaded = Some(true);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn lm_studio_v1_loaded_instance() {
        let body = br#"{"models":[
            {"type":"llm","key":"qwen/qwen3-coder-30b","max_context_length":262144,
             "capabilities":{"vision":false,"trained_for_tool_use":true},
             "loaded_instances":[{"id":"qwen/qwen3-coder-30b","config":{"context_length":32768,"parallel":4}}]},
            {"type":"embedding","key":"nomic","loaded_instances":[]},
            {"type":"llm","key":"gemma","max_context_length":8192,"loaded_instances":[]}]}"#;
        assert_eq!(
            parse_lmstudio_models(body),
            Some(vec![
                ModelInfo {
                    id: "qwen/qwen3-coder-30b".into(),
                    loaded: Some(true),
                    context_length: Some(32768),
                    parallel: Some(4),
                    supports_tools: Some(true),
                    aliases: vec!["qwen/qwen3-coder-30b".into()],
                },
                ModelInfo {
                    id: "gemma".into(),
                    loaded: Some(false),
                    context_length: Some(8192),
                    parallel: None,
                    supports_tools: None,
                    aliases: Vec::new(),
                },
            ])
        );
    }

    #[test]
    fn a_model_is_served_by_its_id_or_an_alias_and_never_by_a_misspelling() {
        let body =
            br#"{"object":"list","data":[{"id":"smollm2","aliases":["smollm2","smollm2-again"]}]}"#;
        let report = ProbeReport {
            url: String::new(),
            backend: Backend::Generic,
            models: parse_openai_models(body).unwrap(),
            slots: None,
            slots_busy: None,
            requests_waiting: None,
            health: None,
        };
        assert!(report.serves("smollm2") && report.serves("smollm2-again"));
        assert!(!report.serves("smolm2"));
        let ollama = ProbeReport {
            models: parse_ollama(br#"{"models":[{"name":"qwen3:latest"}]}"#, None).unwrap(),
            ..report.clone()
        };
        assert!(ollama.serves("qwen3") && !ollama.serves("qwen3:8b"));
        let silent = ProbeReport {
            models: Vec::new(),
            ..report
        };
        assert!(
            silent.serves("anything"),
            "a server that lists nothing cannot be checked"
        );
    }

    #[test]
    fn ollama_tags_and_ps_merge() {
        let tags = br#"{"models":[{"name":"qwen3:8b"},{"name":"llama3.2:3b"}]}"#;
        let ps = br#"{"models":[{"name":"qwen3:8b","model":"qwen3:8b","context_length":8192}]}"#;
        let models = parse_ollama(tags, Some(ps)).unwrap();
        assert_eq!(
            models
                .iter()
                .map(|m| (m.id.as_str(), m.loaded, m.context_length))
                .collect::<Vec<_>>(),
            vec![
                ("qwen3:8b", Some(true), Some(8192)),
                ("llama3.2:3b", Some(false), None)
            ]
        );
    }

    #[test]
    fn llama_props_and_slots() {
        let props = br#"{"default_generation_settings":{"n_ctx":4096},"total_slots":2,"model_path":"/m/smol.gguf","chat_template_caps":{"supports_tools":true}}"#;
        let (model, slots) = parse_llama_props(props).unwrap();
        assert_eq!(
            (model.context_length, slots, model.supports_tools),
            (Some(4096), Some(2), Some(true))
        );
        let slots = br#"[{"id":0,"is_processing":true},{"id":1,"is_processing":false}]"#;
        assert_eq!(parse_llama_slots(slots), Some((2, 1)));
    }

    #[test]
    fn vllm_metrics_sum_running_and_waiting() {
        let body = b"# HELP x\nvllm:num_requests_running{model_name=\"q\"} 3.0\nvllm:num_requests_waiting{model_name=\"q\"} 1.0\n";
        assert_eq!(parse_vllm_metrics(body), Some((3, 1)));
        assert_eq!(parse_vllm_metrics(b"process_cpu 1"), None);
    }

    #[test]
    fn openai_models_with_max_model_len() {
        let body = br#"{"object":"list","data":[{"id":"Qwen/Qwen3-32B","max_model_len":32768}]}"#;
        assert_eq!(
            parse_openai_models(body).unwrap()[0].context_length,
            Some(32768)
        );
    }
}
