//! Backend detection over HTTP: small stand-ins answer each backend's own endpoints the way
//! the real servers document them, and the probe must tell them apart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::routing::get;
use axum::{Json, Router};
use pretty_assertions::assert_eq;
use serde_json::json;
use std::time::Duration;
use swarm::llm::{probe, Backend};

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test]
async fn lm_studio_is_recognised_with_its_loaded_instance() {
    // LM Studio answers unknown routes with HTTP 200 and an error body; /props is one of them.
    let app = Router::new()
        .route("/v1/models", get(|| async { Json(json!({"data": [{"id": "qwen3-coder"}]})) }))
        .route("/props", get(|| async { Json(json!({"error": "Unexpected endpoint or method. (GET /props)"})) }))
        .route("/api/v1/models", get(|| async {
            Json(json!({"models": [{"type": "llm", "key": "qwen3-coder", "max_context_length": 262144,
                "capabilities": {"trained_for_tool_use": true},
                "loaded_instances": [{"id": "qwen3-coder", "config": {"context_length": 32768, "parallel": 4}}]}]}))
        }));
    let report = probe(&serve(app).await, None, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(report.backend, Backend::LmStudio);
    assert_eq!(report.slots, Some(4));
    let model = report.default_model().unwrap();
    assert_eq!(
        (
            model.id.as_str(),
            model.context_length,
            model.supports_tools
        ),
        ("qwen3-coder", Some(32768), Some(true))
    );
}

#[tokio::test]
async fn ollama_is_recognised_with_the_loaded_model_first() {
    let app = Router::new()
        .route(
            "/v1/models",
            get(|| async {
                Json(json!({"object": "list", "data": [{"id": "llama3.2:3b"}, {"id": "qwen3:8b"}]}))
            }),
        )
        .route(
            "/api/tags",
            get(|| async {
                Json(json!({"models": [{"name": "llama3.2:3b"}, {"name": "qwen3:8b"}]}))
            }),
        )
        .route(
            "/api/ps",
            get(|| async {
                Json(json!({"models": [{"name": "qwen3:8b", "context_length": 8192}]}))
            }),
        );
    let report = probe(&serve(app).await, None, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(report.backend, Backend::Ollama);
    assert_eq!(report.default_model().unwrap().id, "qwen3:8b");
    assert_eq!(report.default_model().unwrap().context_length, Some(8192));
}

#[tokio::test]
async fn vllm_is_recognised_from_its_metrics() {
    let app = Router::new()
        .route("/v1/models", get(|| async { Json(json!({"data": [{"id": "Qwen/Qwen3-32B", "max_model_len": 32768}]})) }))
        .route("/metrics", get(|| async {
            "# HELP vllm:num_requests_running x\nvllm:num_requests_running{model_name=\"Qwen/Qwen3-32B\"} 2.0\nvllm:num_requests_waiting{model_name=\"Qwen/Qwen3-32B\"} 5.0\n"
        }));
    let report = probe(&serve(app).await, None, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(report.backend, Backend::Vllm);
    assert_eq!(
        (report.slots_busy, report.requests_waiting),
        (Some(2), Some(5))
    );
    assert_eq!(report.default_model().unwrap().context_length, Some(32768));
}

#[tokio::test]
async fn an_unknown_server_is_generic_and_the_api_key_is_sent() {
    let app = Router::new().route(
        "/v1/models",
        get(|headers: axum::http::HeaderMap| async move {
            let authorised = headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some("Bearer sk-local");
            let models = if authorised {
                json!([{"id": "secret-model"}])
            } else {
                json!([])
            };
            Json(json!({"data": models}))
        }),
    );
    let url = serve(app).await;
    let report = probe(&url, Some("sk-local"), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(report.backend, Backend::Generic);
    assert_eq!(report.default_model().unwrap().id, "secret-model");
    let anonymous = probe(&url, None, Duration::from_secs(2)).await.unwrap();
    assert!(anonymous.models.is_empty());
}
