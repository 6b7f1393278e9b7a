//! The model client against swarm-sim: every fault the issue names, seen from the client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pretty_assertions::assert_eq;
use std::time::{Duration, Instant};
use swarm::llm::{
    probe, Backend, ChatRequest, ClientConfig, JsonSchemaFormat, LlmClient, LlmError, Message,
    Role, ToolCallSource, ToolSpec,
};
use swarm::sim::{Scenario, SimFleet};

async fn fleet(yaml: &str) -> SimFleet {
    SimFleet::start(Scenario::from_yaml(yaml, "test").unwrap(), "127.0.0.1")
        .await
        .unwrap()
}

fn client(url: &str) -> LlmClient {
    let mut config = ClientConfig::new(url);
    config.first_byte_timeout = Duration::from_secs(2);
    config.gap_timeout = Duration::from_millis(500);
    config.backoff = Duration::from_millis(10);
    LlmClient::new(config).unwrap()
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new("sim-model", vec![Message::text(Role::User, text)])
}

fn with_tool(mut request: ChatRequest) -> ChatRequest {
    request.tools = vec![ToolSpec {
        name: "write_file".into(),
        description: "write".into(),
        parameters: serde_json::json!({"type": "object"}),
    }];
    request
}

const NODE: &str = "nodes: [{name: a, tokens_per_second: 2000}]\n";

#[tokio::test]
async fn streamed_and_whole_replies_agree() {
    let fleet = fleet(&format!(
        "{NODE}rules:\n  - reply: {{content: 'hello there, model', reasoning: 'thinking'}}\n"
    ))
    .await;
    let client = client(&fleet.nodes[0].url);
    let streamed = client.chat(&ask("hi")).await.unwrap();
    let mut whole_request = ask("hi");
    whole_request.stream = false;
    let whole = client.chat(&whole_request).await.unwrap();
    for reply in [&streamed, &whole] {
        assert_eq!(
            (reply.content.as_str(), reply.reasoning.as_str()),
            ("hello there, model", "thinking")
        );
        assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
        assert!(reply.usage.prompt_tokens > 0 && reply.usage.completion_tokens > 0);
        assert!(reply.usage.tokens_per_second.is_some());
    }
}

#[tokio::test]
async fn native_tool_calls_stream_as_fragments() {
    let fleet = fleet(&format!("{NODE}rules:\n  - reply: {{tool_calls: [{{tool: write_file, args: {{path: a.py, content: 'print(1)'}}}}]}}\n")).await;
    let reply = client(&fleet.nodes[0].url)
        .chat(&with_tool(ask("go")))
        .await
        .unwrap();
    assert_eq!(reply.tool_call_source, Some(ToolCallSource::Native));
    assert_eq!(reply.tool_calls[0].function.name, "write_file");
    let args: serde_json::Value =
        serde_json::from_str(&reply.tool_calls[0].function.arguments).unwrap();
    assert_eq!(
        args,
        serde_json::json!({"path": "a.py", "content": "print(1)"})
    );
}

#[tokio::test]
async fn tool_calls_written_as_text_are_recovered_in_every_dialect() {
    for dialect in ["hermes", "qwen3_coder", "lmstudio", "mistral"] {
        let fleet = fleet(&format!("{NODE}rules:\n  - reply: {{tool_calls: [{{tool: done, args: {{summary: ok}}}}]}}\n    fault: {{text_tool_calls: {dialect}}}\n")).await;
        let reply = client(&fleet.nodes[0].url)
            .chat(&with_tool(ask("go")))
            .await
            .unwrap();
        assert_eq!(
            reply.tool_call_source,
            Some(ToolCallSource::RecoveredFromText),
            "{dialect}"
        );
        assert_eq!(reply.tool_calls[0].function.name, "done", "{dialect}");
    }
}

#[tokio::test]
async fn reasoning_tags_are_split_from_the_answer() {
    let fleet = fleet(&format!("{NODE}rules:\n  - reply: {{content: answer, reasoning: hmm}}\n    fault: {{reasoning_tags: true}}\n")).await;
    let reply = client(&fleet.nodes[0].url).chat(&ask("q")).await.unwrap();
    assert_eq!(
        (reply.reasoning.as_str(), reply.content.as_str()),
        ("hmm", "answer")
    );
}

#[tokio::test]
async fn a_stall_mid_stream_is_a_stall_not_a_first_byte_timeout() {
    let fleet = fleet(&format!("{NODE}rules:\n  - reply: {{content: 'a long answer that stalls'}}\n    fault: {{stall_after_tokens: 2}}\n")).await;
    let err = client(&fleet.nodes[0].url)
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Stalled { tokens: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_first_byte_hits_the_first_byte_timeout() {
    let fleet = fleet(&format!(
        "{NODE}rules:\n  - reply: {{content: late}}\n    fault: {{first_byte_delay_ms: 5000}}\n"
    ))
    .await;
    let err = client(&fleet.nodes[0].url)
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::FirstByteTimeout { .. }), "{err:?}");
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let fleet = fleet(&format!("{NODE}rules:\n  - fault: {{http_500: true}}\n    times: 2\n  - reply: {{content: recovered}}\n")).await;
    let reply = client(&fleet.nodes[0].url).chat(&ask("q")).await.unwrap();
    assert_eq!(reply.content, "recovered");
    assert_eq!(reply.retries, 2, "the reply says what it took");
    assert_eq!(fleet.served().len(), 3, "two failures and one success");
}

#[tokio::test]
async fn retries_are_bounded() {
    let fleet = fleet(&format!("{NODE}rules:\n  - fault: {{http_500: true}}\n")).await;
    let err = client(&fleet.nodes[0].url)
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(fleet.served().len(), 3, "one try and two retries");
}

#[tokio::test]
async fn a_dropped_connection_is_typed_and_retried() {
    let fleet = fleet(&format!("{NODE}rules:\n  - reply: {{content: 'will drop here'}}\n    fault: {{drop_after_tokens: 1}}\n    times: 1\n  - reply: {{content: second}}\n")).await;
    let reply = client(&fleet.nodes[0].url).chat(&ask("q")).await.unwrap();
    assert_eq!(reply.content, "second");
    let mut once = ClientConfig::new(fleet.nodes[0].url.clone());
    once.max_retries = 0;
    let fleet2 = self::fleet(&format!(
        "{NODE}rules:\n  - reply: {{content: 'will drop'}}\n    fault: {{drop_after_tokens: 1}}\n"
    ))
    .await;
    once.base_url = fleet2.nodes[0].url.clone();
    let err = LlmClient::new(once)
        .unwrap()
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Dropped { .. }), "{err:?}");
}

#[tokio::test]
async fn garbage_bytes_are_a_malformed_reply_not_a_panic() {
    let fleet = fleet(&format!(
        "{NODE}rules:\n  - reply: {{content: x}}\n    fault: {{garbage: true}}\n"
    ))
    .await;
    let err = client(&fleet.nodes[0].url)
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn context_overflow_is_typed_with_counts() {
    let fleet =
        fleet("nodes: [{name: a, context_length: 50}]\ndefault_reply: {content: x}\n").await;
    let err = client(&fleet.nodes[0].url)
        .chat(&ask(&"word ".repeat(200)))
        .await
        .unwrap_err();
    match err {
        LlmError::ContextOverflow {
            context_length,
            prompt_tokens,
            ..
        } => {
            assert_eq!(context_length, Some(50));
            assert!(prompt_tokens.unwrap() > 50);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_names_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let err = client(&url).chat(&ask("q")).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::ConnectionRefused { url: u } if u.contains(&port.to_string())),
        "{err:?}"
    );
    assert!(matches!(
        probe(&url, None, Duration::from_secs(1)).await,
        Err(LlmError::ConnectionRefused { .. })
    ));
}

#[tokio::test]
async fn replies_are_chosen_by_schema_name() {
    let fleet = fleet(&format!("{NODE}rules:\n  - when: {{schema: plan}}\n    reply: {{json: {{tasks: []}}}}\n  - reply: {{content: other}}\n")).await;
    let mut request = ask("plan it");
    request.response_format = Some(JsonSchemaFormat {
        name: "plan".into(),
        schema: serde_json::json!({"type": "object"}),
    });
    assert_eq!(
        client(&fleet.nodes[0].url)
            .chat(&request)
            .await
            .unwrap()
            .content,
        r#"{"tasks":[]}"#
    );
    assert_eq!(
        client(&fleet.nodes[0].url)
            .chat(&ask("x"))
            .await
            .unwrap()
            .content,
        "other"
    );
}

#[tokio::test]
async fn the_probe_sees_a_llama_server_with_slots_and_context() {
    let fleet = fleet(
        "nodes: [{name: a, slots: 3, context_length: 4096, supports_tools: true, model: m1}]\n",
    )
    .await;
    let report = probe(&fleet.nodes[0].url, None, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(report.backend, Backend::LlamaServer);
    assert_eq!((report.slots, report.slots_busy), (Some(3), Some(0)));
    let model = report.default_model().unwrap();
    assert_eq!(
        (
            model.id.as_str(),
            model.context_length,
            model.supports_tools
        ),
        ("m1", Some(4096), Some(true))
    );
}

#[tokio::test]
async fn slots_queue_requests_beyond_capacity() {
    // One slot, 40 tokens at 100 tokens/s: ~0.4 s each; two requests at once take ~0.8 s.
    let fleet = fleet("nodes: [{name: a, slots: 1, tokens_per_second: 100}]\ndefault_reply: {content: '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789'}\n").await;
    let client = client(&fleet.nodes[0].url);
    let started = Instant::now();
    let (first, second) = (ask("1"), ask("2"));
    let (a, b) = tokio::join!(client.chat(&first), client.chat(&second));
    assert!(a.is_ok() && b.is_ok());
    assert!(
        started.elapsed() >= Duration::from_millis(750),
        "slots did not queue: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn keep_alive_pings_are_never_progress() {
    // Prefill takes 1.5 s. Pings every 100 ms say the server is up, but they move no limit:
    // with a first-token limit of 1 s the reply is given up as "only pings", exactly as a
    // silent server is given up as a first-byte timeout; with 3 s it arrives.
    let scenario = |pings: &str| {
        format!("{NODE}rules:\n  - reply: {{content: done}}\n    fault: {{first_byte_delay_ms: 1500{pings}}}\n")
    };
    let mut config = ClientConfig::new("");
    config.first_byte_timeout = Duration::from_secs(1);
    config.gap_timeout = Duration::from_millis(300);
    config.max_retries = 0;
    let with_pings = fleet(&scenario(", keepalive_ms: 100")).await;
    config.base_url = with_pings.nodes[0].url.clone();
    let started = Instant::now();
    let err = LlmClient::new(config.clone())
        .unwrap()
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::OnlyPings { tokens: 0, pings, .. } if pings >= 5),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    let mut patient = config.clone();
    patient.first_byte_timeout = Duration::from_secs(3);
    let reply = LlmClient::new(patient)
        .unwrap()
        .chat(&ask("q"))
        .await
        .unwrap();
    assert_eq!(reply.content, "done");
    let silent = fleet(&scenario("")).await;
    config.base_url = silent.nodes[0].url.clone();
    let err = LlmClient::new(config.clone())
        .unwrap()
        .chat(&ask("q"))
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::FirstByteTimeout { .. }), "{err:?}");
}

/// A node's sampling settings go out with every request: its temperature replaces the
/// request's own, and top_p and seed are added (what an A/B arm's `temperature=`, `top_p=`,
/// `seed=` change, and what every results row records).
#[tokio::test]
async fn the_node_sampling_is_sent_with_every_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let n = socket.read(&mut buffer).await.unwrap();
            received.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&received).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    let reply = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                        reply.len()
                    );
                    socket.write_all(response.as_bytes()).await.unwrap();
                    return serde_json::from_str::<serde_json::Value>(body).unwrap();
                }
            }
        }
    });
    let mut config = ClientConfig::new(&url);
    config.sampling = swarm::Sampling {
        temperature: Some(0.7),
        top_p: Some(0.9),
        seed: Some(42),
    };
    let client = LlmClient::new(config).unwrap();
    let mut request = ask("hi");
    request.stream = false;
    request.temperature = Some(0.2);
    client.chat(&request).await.unwrap();
    let body = server.await.unwrap();
    let sent = |name: &str| body.get(name).and_then(|v| v.as_f64());
    assert_eq!(
        (
            sent("temperature").map(|t| (t * 100.0).round()),
            sent("top_p").map(|p| (p * 100.0).round()),
            sent("seed")
        ),
        (Some(70.0), Some(90.0), Some(42.0))
    );
}
