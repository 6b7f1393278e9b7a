//! The HTTP transport: one request, streamed or not, under three separate timeouts, with
//! bounded retry and backoff for errors a retry can fix.
//!
//! Flow: send → wait for the first token (connect timeout for TCP, first-byte timeout for
//! model load and prefill) → read chunks, a token within the gap timeout of the last one →
//! assemble the reply. Keep-alive comments and progress events say the server is up, never
//! that the model progresses: they reset no timeout. Every reply is bounded overall: in
//! time (`reply_timeout`), in tokens and in bytes (from `max_reply_tokens`, the knob
//! `node.max_reply_tokens`); an error body is read only as far as it is shown. A 429 or 503
//! with `Retry-After` is retried after the wait it asks for, when that wait is within
//! `max_retry_wait`, and the wait is announced through `notices`.

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
    /// Largest reply, in tokens (the knob `node.max_reply_tokens`); reading stops past it, or
    /// past the byte bound derived from it.
    pub max_reply_tokens: u32,
    /// Overall limit on one reply, from sending to its last byte.
    pub reply_timeout: Duration,
    /// Longest `Retry-After` honoured; a server asking for more is reported busy at once.
    pub max_retry_wait: Duration,
    /// Where the client says what it is doing that a user would wonder about (waiting on a
    /// busy server), since a library never prints.
    pub notices: Option<Notices>,
    /// Sampling settings every request carries (the node's).
    pub sampling: crate::fleet::Sampling,
}

/// Receives the client's notices (one line each).
#[derive(Clone)]
pub struct Notices(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notices")
    }
}

/// Bytes of an error body kept for classification and shown in part; the rest is not read.
const ERROR_BODY_READ: usize = 64 << 10;

/// Bytes allowed per token of the reply bound: an SSE chunk wraps each token in JSON.
const BYTES_PER_TOKEN: usize = 1024;

/// The byte bound of a reply of at most `tokens` tokens (at least 1 MiB).
fn reply_bytes_for(tokens: u32) -> usize {
    (tokens as usize)
        .saturating_mul(BYTES_PER_TOKEN)
        .max(1 << 20)
}

impl ClientConfig {
    /// The byte bound derived from the token bound (at least 1 MiB).
    pub fn max_reply_bytes(&self) -> usize {
        reply_bytes_for(self.max_reply_tokens)
    }

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
            max_reply_tokens: 4096,
            reply_timeout: Duration::from_secs(3600),
            max_retry_wait: Duration::from_secs(120),
            notices: None,
            sampling: crate::fleet::Sampling::default(),
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

    /// The same client, saying its notices (a wait on a busy server) to `notices`.
    pub fn with_notices(mut self, notices: Notices) -> Self {
        self.config.notices = Some(notices);
        self
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
            match self.attempt(request).await {
                Err((err, retry_after))
                    if err.is_retryable() && attempt < self.config.max_retries =>
                {
                    let delay = match retry_after {
                        Some(asked) if asked > self.config.max_retry_wait => {
                            return Err(busy(&err, asked, self.config.max_retry_wait))
                        }
                        Some(asked) => {
                            self.notice(&format!(
                                "{} answered {}; waiting {:.0} s as its Retry-After asks (retry {} of {})",
                                self.root,
                                status_of(&err),
                                asked.as_secs_f64(),
                                attempt + 1,
                                self.config.max_retries
                            ));
                            asked
                        }
                        None => self.config.backoff.saturating_mul(1 << attempt.min(10)),
                    };
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Ok(mut reply) => {
                    reply.retries = attempt;
                    return Ok(reply);
                }
                Err((err, Some(asked))) if asked > self.config.max_retry_wait => {
                    return Err(busy(&err, asked, self.config.max_retry_wait))
                }
                Err((err, _)) => return Err(err),
            }
        }
    }

    fn notice(&self, line: &str) {
        if let Some(notices) = &self.config.notices {
            (notices.0)(line);
        }
    }

    /// One attempt, no retry.
    pub async fn chat_once(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        self.attempt(request).await.map_err(|(err, _)| err)
    }

    /// One attempt; a failure comes with the wait its `Retry-After` asked for, if any.
    async fn attempt(
        &self,
        request: &ChatRequest,
    ) -> Result<ChatResponse, (LlmError, Option<Duration>)> {
        let url = format!("{}/v1/chat/completions", self.root);
        let mut retry_after = None;
        self.read_reply(request, &url, &mut retry_after)
            .await
            .map_err(|err| (err, retry_after))
    }

    async fn read_reply(
        &self,
        request: &ChatRequest,
        url: &str,
        retry_after: &mut Option<Duration>,
    ) -> Result<ChatResponse, LlmError> {
        let url = url.to_string();
        let started = Instant::now();
        let deadline = started + self.config.first_byte_timeout;
        let overall = started + self.config.reply_timeout;
        let mut body = request.to_body();
        let sampling = &self.config.sampling;
        if let Some(temperature) = sampling.temperature {
            body["temperature"] = serde_json::json!(temperature);
        }
        if let Some(top_p) = sampling.top_p {
            body["top_p"] = serde_json::json!(top_p);
        }
        if let Some(seed) = sampling.seed {
            body["seed"] = serde_json::json!(seed);
        }
        let mut builder = self.http.post(&url).json(&body);
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
        if status == 429 || status == 503 {
            *retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after);
        }
        let expected_length = response.content_length();
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("text/event-stream"));
        let mut body = response.bytes_stream();
        let mut first_byte_ms = None;
        let mut raw = Vec::new();
        let mut received = 0u64;
        let mut decoder = SseDecoder::new();
        let mut assembler = ReplyAssembler::new();
        let mut tokens = 0u64;
        let mut pings_since_token = 0u64;
        let mut malformed = 0u32;
        let mut done = false;
        // Until the first token the first-byte limit runs; after, the gap since the last one.
        let mut progress_deadline = deadline;
        // A request may ask for a longer reply than the client's bound: a server that obeys
        // it stays within it, and only one that ignores it is cut.
        let token_bound = self
            .config
            .max_reply_tokens
            .max(request.max_tokens.unwrap_or(0));
        let max_bytes = reply_bytes_for(token_bound);
        let max_tokens = u64::from(token_bound);
        while !done {
            let limit = progress_deadline.min(overall);
            let chunk = match tokio::time::timeout_at(limit.into(), body.next()).await {
                Err(_) if Instant::now() >= overall => {
                    return Err(LlmError::TooSlow {
                        url,
                        after: self.config.reply_timeout,
                        tokens,
                    })
                }
                Err(_) => {
                    let after = if tokens == 0 {
                        self.config.first_byte_timeout
                    } else {
                        self.config.gap_timeout
                    };
                    if pings_since_token > 0 {
                        return Err(LlmError::OnlyPings {
                            url,
                            after,
                            pings: pings_since_token,
                            tokens,
                        });
                    }
                    if first_byte_ms.is_none() {
                        return Err(LlmError::FirstByteTimeout { url, after });
                    }
                    return Err(LlmError::Stalled { url, after, tokens });
                }
                Ok(None) => break,
                Ok(Some(Err(err))) => {
                    return Err(body_error(
                        &url,
                        &err,
                        received,
                        expected_length,
                        tokens,
                        is_sse,
                    ));
                }
                Ok(Some(Ok(chunk))) => chunk,
            };
            if first_byte_ms.is_none() {
                first_byte_ms = Some(started.elapsed().as_millis() as u64);
            }
            received += chunk.len() as u64;
            if status >= 400 {
                // Only what is shown (and enough to classify) is read; the rest is dropped.
                let room = ERROR_BODY_READ.saturating_sub(raw.len());
                raw.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if raw.len() >= ERROR_BODY_READ {
                    break;
                }
                continue;
            }
            if received as usize > max_bytes {
                return Err(LlmError::ReplyTooLong {
                    url,
                    limit: format!("{max_bytes} bytes"),
                    tokens,
                    bytes: received,
                });
            }
            if !is_sse {
                raw.extend_from_slice(&chunk);
                // A whole (non-streamed) body is progress as it comes.
                progress_deadline = Instant::now() + self.config.gap_timeout;
                continue;
            }
            for item in decoder.push(&chunk) {
                match handle_sse_item(item, &url, &mut assembler)? {
                    SseStep::Tokens => {
                        tokens += 1;
                        pings_since_token = 0;
                        progress_deadline = Instant::now() + self.config.gap_timeout;
                        if tokens > max_tokens {
                            return Err(LlmError::ReplyTooLong {
                                url,
                                limit: format!("{max_tokens} tokens"),
                                tokens,
                                bytes: received,
                            });
                        }
                    }
                    SseStep::Alive => pings_since_token += 1,
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
                if err.is_eof() {
                    LlmError::Malformed(format!(
                        "the reply body ended after {} bytes, before its JSON was complete (a truncated body)",
                        raw.len()
                    ))
                } else {
                    LlmError::Malformed(format!(
                        "body is not JSON ({err}): {}",
                        String::from_utf8_lossy(&raw[..raw.len().min(200)])
                    ))
                }
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

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn status_of(err: &LlmError) -> String {
    match err {
        LlmError::Server { status, .. } => status.to_string(),
        other => other.kind().to_string(),
    }
}

fn busy(err: &LlmError, asked: Duration, limit: Duration) -> LlmError {
    match err {
        LlmError::Server { status, url, .. } => LlmError::Busy {
            url: url.clone(),
            status: *status,
            retry_after: asked,
            limit,
        },
        other => other.clone(),
    }
}

/// Names what happened when the body broke off, instead of the transport's "error decoding
/// response body": how far it got, and the cause underneath (reset, early close).
fn body_error(
    url: &str,
    err: &reqwest::Error,
    received: u64,
    expected: Option<u64>,
    tokens: u64,
    is_sse: bool,
) -> LlmError {
    let mut cause = String::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            cause = match io.kind() {
                std::io::ErrorKind::ConnectionReset => "the server reset the connection".into(),
                std::io::ErrorKind::UnexpectedEof => {
                    "the server closed the connection early".into()
                }
                _ => io.to_string(),
            };
        } else if cause.is_empty() && inner.source().is_none() {
            cause = inner.to_string();
        }
        source = inner.source();
    }
    if cause.is_empty() || cause.contains("decoding") {
        cause = "the connection ended before the reply did".into();
    }
    let message = match (is_sse, expected) {
        (true, _) => format!("{cause} mid-stream, after {tokens} token(s) and {received} bytes"),
        (false, Some(total)) => {
            format!("{cause} after {received} of {total} bytes of the reply (a truncated body)")
        }
        (false, None) => format!("{cause} after {received} bytes of the reply (a truncated body)"),
    };
    LlmError::Dropped {
        url: url.to_string(),
        message,
    }
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
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        let asked = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(asked <= Duration::from_secs(30) && asked >= Duration::from_secs(28));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn base_urls_normalize() {
        assert_eq!(normalize_base_url("http://h:1234/v1/"), "http://h:1234");
        assert_eq!(
            normalize_base_url("127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
