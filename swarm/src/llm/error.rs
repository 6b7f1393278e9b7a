//! Typed errors of the model client, and the classifier that turns an HTTP status and body
//! into one. Context overflow is recognised in the three shapes servers send it.

use std::time::Duration;

/// What went wrong talking to a model server.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The prompt does not fit the model's context window. Not retryable as is: shorten it.
    #[error("context overflow: {message}")]
    ContextOverflow {
        /// The server's words.
        message: String,
        /// Prompt tokens, when the server said.
        prompt_tokens: Option<u64>,
        /// Context window, when the server said.
        context_length: Option<u64>,
    },
    /// The server answered with an error status (5xx and 429 are retryable).
    #[error("server error {status} from {url}: {body}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Where.
        url: String,
        /// The start of the body.
        body: String,
    },
    /// Nothing listens at the URL.
    #[error("connection refused at {url}")]
    ConnectionRefused {
        /// The URL tried.
        url: String,
    },
    /// TCP connect took longer than the connect timeout.
    #[error("connect to {url} timed out after {after:?}")]
    ConnectTimeout {
        /// The URL tried.
        url: String,
        /// The limit that ran out.
        after: Duration,
    },
    /// Connected, but no byte of the reply came in time (model load and prefill count here).
    #[error("no reply from {url} within {after:?} (first-byte timeout)")]
    FirstByteTimeout {
        /// The URL tried.
        url: String,
        /// The limit that ran out.
        after: Duration,
    },
    /// The reply started but then went silent longer than the gap timeout.
    #[error("stream from {url} went silent for {after:?} after {tokens} tokens")]
    Stalled {
        /// The URL.
        url: String,
        /// The limit that ran out.
        after: Duration,
        /// Content chunks received before the silence.
        tokens: u64,
    },
    /// The connection broke mid-reply.
    #[error("connection to {url} dropped: {message}")]
    Dropped {
        /// The URL.
        url: String,
        /// What the transport said.
        message: String,
    },
    /// The reply could not be understood.
    #[error("malformed reply: {0}")]
    Malformed(String),
    /// The stream went on sending only keep-alive pings, no tokens, past the limit (pings
    /// say the server is up, never that the model is making progress).
    #[error("stream from {url} sent only keep-alive pings ({pings}) for {after:?} after {tokens} tokens: no progress")]
    OnlyPings {
        /// The URL.
        url: String,
        /// The limit that ran out (first-token or silence).
        after: Duration,
        /// Pings received since the last token.
        pings: u64,
        /// Tokens received before.
        tokens: u64,
    },
    /// The reply passed the largest reply allowed (knob `node.max_reply_tokens`, or the byte
    /// bound derived from it); reading stopped there.
    #[error("reply from {url} passed its bound ({limit}; knob node.max_reply_tokens) after {tokens} tokens and {bytes} bytes: stopped reading")]
    ReplyTooLong {
        /// The URL.
        url: String,
        /// Which bound: tokens or bytes, with its value.
        limit: String,
        /// Tokens read.
        tokens: u64,
        /// Bytes read.
        bytes: u64,
    },
    /// The whole reply took longer than the client's overall limit.
    #[error("reply from {url} still unfinished after {after:?} (the overall limit of one reply) with {tokens} tokens")]
    TooSlow {
        /// The URL.
        url: String,
        /// The limit that ran out.
        after: Duration,
        /// Tokens read.
        tokens: u64,
    },
    /// The server is busy and asked to be retried later than this client waits.
    #[error("server {url} is busy ({status}) and asked to retry after {retry_after:?}, longer than this client waits ({limit:?})")]
    Busy {
        /// The URL.
        url: String,
        /// HTTP status (429 or 503).
        status: u16,
        /// What its Retry-After said.
        retry_after: Duration,
        /// The longest wait this client accepts.
        limit: Duration,
    },
    /// The request itself is wrong (4xx other than overflow and 429). Not retryable.
    #[error("request rejected with {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

impl LlmError {
    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Server { status, .. } => *status >= 500 || *status == 429,
            LlmError::ConnectTimeout { .. } | LlmError::Dropped { .. } => true,
            // A slow or silent model is the scheduler's call (wait longer, or re-route), not
            // something to repeat blindly: a retry would redo minutes of prefill.
            LlmError::FirstByteTimeout { .. } | LlmError::Stalled { .. } => false,
            LlmError::ContextOverflow { .. }
            | LlmError::ConnectionRefused { .. }
            | LlmError::Malformed(_)
            | LlmError::Rejected { .. }
            | LlmError::OnlyPings { .. }
            | LlmError::TooSlow { .. }
            // Asking again would bring the same flood.
            | LlmError::ReplyTooLong { .. }
            // The caller (the scheduler) may try another node now instead.
            | LlmError::Busy { .. } => false,
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LlmError::ContextOverflow { .. } => ErrorKind::ContextOverflow,
            LlmError::Server { .. } => ErrorKind::ServerError,
            LlmError::ConnectionRefused { .. } => ErrorKind::ConnectionRefused,
            LlmError::ConnectTimeout { .. } => ErrorKind::ConnectTimeout,
            LlmError::FirstByteTimeout { .. } => ErrorKind::FirstByteTimeout,
            LlmError::Stalled { .. } => ErrorKind::Stalled,
            LlmError::Dropped { .. } => ErrorKind::Dropped,
            LlmError::Malformed(_) => ErrorKind::Malformed,
            LlmError::Rejected { .. } => ErrorKind::Rejected,
            // Silence with pings is still silence: counted with the stalls.
            LlmError::OnlyPings { .. } => ErrorKind::Stalled,
            LlmError::ReplyTooLong { .. } => ErrorKind::ReplyTooLong,
            LlmError::TooSlow { .. } => ErrorKind::TooSlow,
            LlmError::Busy { .. } => ErrorKind::ServerError,
        }
    }
}

/// The kind of a model-server failure: the one classification the agent, the pipeline, the
/// graders and the tuner share. Serialised as the stable snake_case names events and CSV
/// columns carry (`first_byte_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The prompt did not fit the context window.
    ContextOverflow,
    /// A 5xx, a 429, or a busy server.
    ServerError,
    /// Nothing listens at the address.
    ConnectionRefused,
    /// The connection could not be made in time.
    ConnectTimeout,
    /// No token arrived in time.
    FirstByteTimeout,
    /// The stream went silent (or sent only keep-alive pings).
    Stalled,
    /// The connection broke mid-reply.
    Dropped,
    /// The reply could not be read.
    Malformed,
    /// The server refused the request as wrong (4xx).
    Rejected,
    /// The reply passed its bound.
    ReplyTooLong,
    /// The reply came slower than the floor allows.
    TooSlow,
    /// A kind a newer version wrote (read from old or foreign logs).
    #[serde(other)]
    Other,
}

impl ErrorKind {
    /// Its stable name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::ContextOverflow => "context_overflow",
            ErrorKind::ServerError => "server_error",
            ErrorKind::ConnectionRefused => "connection_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::FirstByteTimeout => "first_byte_timeout",
            ErrorKind::Stalled => "stalled",
            ErrorKind::Dropped => "dropped",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Rejected => "rejected",
            ErrorKind::ReplyTooLong => "reply_too_long",
            ErrorKind::TooSlow => "too_slow",
            ErrorKind::Other => "other",
        }
    }

    /// A stall: the node was reached but did not answer in time (counted as `stalls`).
    pub fn is_stall(self) -> bool {
        matches!(
            self,
            ErrorKind::Stalled | ErrorKind::FirstByteTimeout | ErrorKind::ConnectTimeout
        )
    }

    /// A server error: the node answered wrongly, broke off, or was not there (counted as
    /// `server_errors`).
    pub fn is_server_error(self) -> bool {
        matches!(
            self,
            ErrorKind::ServerError | ErrorKind::Dropped | ErrorKind::ConnectionRefused
        )
    }

    /// The node, not the task, is the problem: the task moves on and the node cools down.
    /// Exactly the stalls and the server errors.
    pub fn is_node_failure(self) -> bool {
        self.is_stall() || self.is_server_error()
    }

    /// The node failed before any work could start, so running the turn again is fair.
    pub fn before_any_work(self) -> bool {
        matches!(
            self,
            ErrorKind::ConnectionRefused | ErrorKind::ConnectTimeout | ErrorKind::FirstByteTimeout
        )
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Longest body excerpt kept in an error.
pub const BODY_EXCERPT: usize = 600;

fn excerpt(body: &str) -> String {
    let mut end = body.len().min(BODY_EXCERPT);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_string()
}

/// Recognises a context overflow in an error message or body, in any of the three shapes:
/// llama-server (`exceed_context_size_error`, with `n_prompt_tokens` and `n_ctx`), vLLM
/// ("maximum context length is N tokens"), LM Studio ("Trying to keep the first N tokens").
pub fn detect_context_overflow(body: &str) -> Option<LlmError> {
    let lower = body.to_ascii_lowercase();
    let is_overflow = lower.contains("exceed_context_size")
        || lower.contains("exceeds the available context size")
        || lower.contains("maximum context length")
        || lower.contains("trying to keep the first")
        || lower.contains("context length exceeded")
        || lower.contains("context_length_exceeded");
    if !is_overflow {
        return None;
    }
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let error_obj = parsed
        .as_ref()
        .map(|value| value.get("error").unwrap_or(value));
    let field = |name: &str| {
        error_obj
            .and_then(|obj| obj.get(name))
            .and_then(|v| v.as_u64())
    };
    let message = error_obj
        .and_then(|obj| obj.get("message").or(Some(obj)))
        .and_then(|m| m.as_str().map(str::to_string))
        .unwrap_or_else(|| excerpt(body));
    let numbers = numbers_in(&message);
    let (prompt_tokens, context_length) = if lower.contains("trying to keep the first") {
        // LM Studio: "Trying to keep the first 5000 tokens ... context length of only 4096 tokens"
        (numbers.first().copied(), numbers.get(1).copied())
    } else if lower.contains("maximum context length") {
        // vLLM: "maximum context length is 4096 tokens. However, you requested 5000 tokens"
        (numbers.get(1).copied(), numbers.first().copied())
    } else {
        (field("n_prompt_tokens"), field("n_ctx"))
    };
    Some(LlmError::ContextOverflow {
        message: excerpt(&message),
        prompt_tokens,
        context_length,
    })
}

fn numbers_in(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// Turns a non-success HTTP answer into a typed error.
pub fn classify_http_error(status: u16, url: &str, body: &str) -> LlmError {
    if let Some(overflow) = detect_context_overflow(body) {
        return overflow;
    }
    if status >= 500 || status == 429 {
        LlmError::Server {
            status,
            url: url.to_string(),
            body: excerpt(body),
        }
    } else {
        LlmError::Rejected {
            status,
            body: excerpt(body),
        }
    }
}

/// An error carried inside a successful (HTTP 200) body or SSE event, as LM Studio and some
/// proxies send: `{"error": "..."}` or `{"error": {"message": "..."}}`.
pub fn error_in_payload(value: &serde_json::Value, url: &str) -> Option<LlmError> {
    let error = value.get("error")?;
    if error.is_null() {
        return None;
    }
    let text = error
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .or_else(|| error.as_str().map(str::to_string))
        .unwrap_or_else(|| error.to_string());
    let status = error.get("code").and_then(|c| c.as_u64()).unwrap_or(500);
    Some(
        detect_context_overflow(&value.to_string())
            .or_else(|| detect_context_overflow(&text))
            .unwrap_or_else(|| classify_http_error(status.min(599) as u16, url, &text)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn llama_server_overflow_keeps_counts() {
        let body = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5210,"n_ctx":4096}}"#;
        assert_eq!(
            classify_http_error(400, "u", body),
            LlmError::ContextOverflow {
                message: "the request exceeds the available context size, try increasing it".into(),
                prompt_tokens: Some(5210),
                context_length: Some(4096),
            }
        );
    }

    #[test]
    fn vllm_overflow_reads_numbers_from_message() {
        let body = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion).","type":"BadRequestError","param":null,"code":400}"#;
        match classify_http_error(400, "u", body) {
            LlmError::ContextOverflow {
                prompt_tokens,
                context_length,
                ..
            } => {
                assert_eq!((prompt_tokens, context_length), (Some(5000), Some(4096)));
            }
            other => panic!("not an overflow: {other:?}"),
        }
    }

    #[test]
    fn lm_studio_overflow_inside_http_200_payload() {
        let payload = serde_json::json!({"error": "Trying to keep the first 6120 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input"});
        match error_in_payload(&payload, "u") {
            Some(LlmError::ContextOverflow {
                prompt_tokens,
                context_length,
                ..
            }) => {
                assert_eq!((prompt_tokens, context_length), (Some(6120), Some(4096)));
            }
            other => panic!("not an overflow: {other:?}"),
        }
    }

    #[test]
    fn retryability_follows_status() {
        assert!(classify_http_error(503, "u", "busy").is_retryable());
        assert!(classify_http_error(429, "u", "slow down").is_retryable());
        assert!(!classify_http_error(404, "u", "no such model").is_retryable());
    }
}
