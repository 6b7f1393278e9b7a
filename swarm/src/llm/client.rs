//! The HTTP transport: one request, streamed or not, under three separate timeouts, with
//! bounded retry and backoff for errors a retry can fix.
//!
//! Flow: send → wait for the first byte (connect timeout for TCP, first-byte timeout for
//! model load and prefill) → read chunks, each within the gap timeout (keep-alive comments
//! and progress events reset it: they are alive, not tokens) → assemble the reply.

use super::assemble::{ChunkKind, ReplyAssembler};
use super::error::{classify_http_error, error_in_payload, LlmError};
use super::sse::{SseDecoder, SseItem};
use super::types::{ChatRequest, ChatResponse};
use futures::StreamExt;
use std::time::{Duration, Instant};

/// How to reach one server and how patient to be with it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server root, with or without a trailing `/v1`.
    pub base_url: String,
    /// Bearer token; never logged.
    pub api_key: Option<String>,
    /// Limit on establishing the TCP connection.
    pub connect_timeout: Duration,
    /// Limit from sending to the first byte of the reply (model load and prefill take minutes
    /// on big prompts).
    pub first_byte_timeout: Duration,
    /// Limit on silence between two chunks once the reply has started.
    pub gap_timeout: Duration,
    /// Extra attempts for retryable errors (5xx, 429, dropped before any token).
    pub max_retries: u32,
    /// First backoff; doubled each retry.
    pub backoff: Duration,
}

impl ClientConfig {
    /// Defaults suited to local servers running big models.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(300),
            gap_timeout: Duration::from_secs(60),
            max_retries: 2,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Strips a trailing slash and `/v1` so paths can be appended uniformly.
pub fn normalize_base_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    }
}

/// A client for one OpenAI-compatible server.
#[derive(Debug, Clone)]
pub struct LlmClient {
    config: ClientConfig,
    root: String,
    http: reqwest::Client,
}

impl LlmClient {
    /// Builds the client; fails only if the TLS/HTTP stack cannot initialise.
    pub fn new(config: ClientConfig) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|err| LlmError::Malformed(format!("cannot build HTTP client: {err}")))?;
        let root = normalize_base_url(&config.base_url);
        Ok(LlmClient { config, root, http })
    }

    /// The server root this client talks to.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The underlying configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends a chat request, retrying retryable failures with exponential backoff.
    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let mut attempt = 0;
        loop {
            match self.chat_once(request).await {
                Err(err) if err.is_retryable() && attempt < self.config.max_retries => {
                    let delay = self.config.backoff.saturating_mul(1 << attempt.min(10));
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Ok(mut reply) => {
                    reply.retries = attempt;
                    return Ok(reply);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// One attempt, no retry.
    pub async fn chat_once(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let url = format!("{}/v1/chat/completions", self.root);
        let started = Instant::now();
        let deadline = started + self.config.first_byte_timeout;
        let mut builder = self.http.post(&url).json(&request.to_body());
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = match tokio::time::timeout_at(deadline.into(), builder.send()).await {
            Err(_) => {
                return Err(LlmError::FirstByteTimeout {
                    url,
                    after: self.config.first_byte_timeout,
                })
            }
            Ok(Err(err)) => return Err(transport_error(&url, &err, self.config.connect_timeout)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/event-stream"));
        let mut body = response.bytes_stream();
        let mut first_byte_ms = None;
        let mut raw = Vec::new();
        let mut decoder = SseDecoder::new();
        let mut assembler = ReplyAssembler::new();
        let mut tokens = 0u64;
        let mut malformed = 0u32;
        let mut done = false;
        while !done {
            let wait = match first_byte_ms {
                None => tokio::time::timeout_at(deadline.into(), body.next()).await,
                Some(_) => tokio::time::timeout(self.config.gap_timeout, body.next()).await,
            };
            let chunk = match wait {
                Err(_) if first_byte_ms.is_none() => {
                    return Err(LlmError::FirstByteTimeout {
                        url,
                        after: self.config.first_byte_timeout,
                    })
                }
                Err(_) => {
                    return Err(LlmError::Stalled {
                        url,
                        after: self.config.gap_timeout,
                        tokens,
                    })
                }
                Ok(None) => break,
                Ok(Some(Err(err))) => {
                    return Err(LlmError::Dropped {
                        url,
                        message: err.to_string(),
                    });
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            if first_byte_ms.is_none() {
                first_byte_ms = Some(started.elapsed().as_millis() as u64);
            }
            if status >= 400 || !is_sse {
                raw.extend_from_slice(&chunk);
                continue;
            }
            for item in decoder.push(&chunk) {
                match handle_sse_item(item, &url, &mut assembler)? {
                    SseStep::Tokens => tokens += 1,
                    SseStep::Alive => {}
                    SseStep::Malformed => malformed += 1,
                    SseStep::Done => done = true,
                }
            }
        }
        if status >= 400 {
            return Err(classify_http_error(
                status,
                &url,
                &String::from_utf8_lossy(&raw),
            ));
        }
        if is_sse {
            for item in decoder.finish() {
                if let SseStep::Malformed = handle_sse_item(item, &url, &mut assembler)? {
                    malformed += 1;
                }
            }
        } else {
            let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|err| {
                LlmError::Malformed(format!(
                    "body is not JSON ({err}): {}",
                    String::from_utf8_lossy(&raw[..raw.len().min(200)])
                ))
            })?;
            if let Some(error) = error_in_payload(&value, &url) {
                return Err(error);
            }
            assembler.push_full(&value);
        }
        let mut response = assembler.finish();
        if is_sse && tokens == 0 && malformed > 0 && response.tool_calls.is_empty() {
            return Err(LlmError::Malformed(format!(
                "stream held {malformed} unreadable chunks and no tokens"
            )));
        }
        response.malformed_chunks = malformed;
        response.first_byte_ms = first_byte_ms.unwrap_or(0);
        response.total_ms = started.elapsed().as_millis() as u64;
        if response.usage.tokens_per_second.is_none() && response.usage.completion_tokens > 0 {
            let generating_ms = response
                .total_ms
                .saturating_sub(response.first_byte_ms)
                .max(1);
            response.usage.tokens_per_second =
                Some(response.usage.completion_tokens as f64 * 1000.0 / generating_ms as f64);
        }
        Ok(response)
    }
}

enum SseStep {
    Tokens,
    Alive,
    Malformed,
    Done,
}

fn handle_sse_item(
    item: SseItem,
    url: &str,
    assembler: &mut ReplyAssembler,
) -> Result<SseStep, LlmError> {
    let SseItem::Event { data, .. } = item else {
        return Ok(SseStep::Alive);
    };
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(SseStep::Done);
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else {
        return Ok(SseStep::Malformed);
    };
    if let Some(error) = error_in_payload(&value, url) {
        return Err(error);
    }
    Ok(match assembler.push_chunk(&value) {
        ChunkKind::Tokens => SseStep::Tokens,
        ChunkKind::Alive => SseStep::Alive,
    })
}

/// Maps a transport failure to the error a caller can act on.
pub(crate) fn transport_error(url: &str, err: &reqwest::Error, connect: Duration) -> LlmError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return LlmError::ConnectionRefused {
                    url: url.to_string(),
                };
            }
        }
        source = cause.source();
    }
    if err.is_connect() && err.is_timeout() {
        return LlmError::ConnectTimeout {
            url: url.to_string(),
            after: connect,
        };
    }
    if err.is_connect() {
        return LlmError::ConnectionRefused {
            url: url.to_string(),
        };
    }
    LlmError::Dropped {
        url: url.to_string(),
        message: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_normalize() {
        assert_eq!(normalize_base_url("http://h:1234/v1/"), "http://h:1234");
        assert_eq!(
            normalize_base_url("127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
