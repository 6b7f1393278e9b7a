//! The model client's overall bounds, against a hand-written fake server on 127.0.0.1: a
//! stream of keep-alive pings with no tokens, a token flood, a huge error body, Retry-After,
//! a truncated body and a reset mid-stream. Memory is read from the process's own accounting
//! (`VmHWM` in /proc/self/status); the floods run in one test so no other test of this binary
//! can raise the peak while they are measured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use swarm::llm::{ChatRequest, ClientConfig, LlmClient, LlmError, Message, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the fake server does with the n-th request (0-based) on its socket.
type Behaviour =
    Arc<dyn Fn(usize, TcpStream) -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// Starts a fake server; returns its URL.
async fn serve(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behaviour = behaviour.clone();
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                read_request(&mut socket).await;
                behaviour(n, socket).await;
            });
        }
    });
    url
}

/// Reads one request's head and body (by Content-Length).
async fn read_request(socket: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(read) = socket.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        seen.extend_from_slice(&buffer[..read]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while seen.len() < end + 4 + length {
                let Ok(read) = socket.read(&mut buffer).await else {
                    return;
                };
                if read == 0 {
                    return;
                }
                seen.extend_from_slice(&buffer[..read]);
            }
            return;
        }
    }
}

const SSE_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";

fn token_chunk(text: &str) -> Vec<u8> {
    format!(
        "data: {}\n\n",
        serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]})
    )
    .into_bytes()
}

fn client(url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(url);
    config.first_byte_timeout = Duration::from_secs(2);
    config.gap_timeout = Duration::from_millis(700);
    config.backoff = Duration::from_millis(10);
    config.max_retries = 0;
    config
}

fn ask() -> ChatRequest {
    ChatRequest::new("fake", vec![Message::text(Role::User, "hi")])
}

/// The process's peak resident memory so far, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024.0
}

/// 300 MB of something, sent in 64 KiB writes until the client hangs up.
async fn send_flood(socket: &mut TcpStream, piece: &[u8], total: usize) {
    let mut block = Vec::with_capacity(64 << 10);
    while block.len() + piece.len() <= 64 << 10 {
        block.extend_from_slice(piece);
    }
    let mut sent = 0;
    while sent < total {
        if socket.write_all(&block).await.is_err() {
            return;
        }
        sent += block.len();
    }
}

const FLOOD: usize = 300_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_are_cut_and_memory_stays_bounded() {
    // A token flood: an endless-looking stream of one-token chunks, 300 MB of them.
    let flood = serve(Arc::new(|_, mut socket| {
        Box::pin(async move {
            let _ = socket.write_all(SSE_HEAD).await;
            send_flood(&mut socket, &token_chunk("flood "), FLOOD).await;
            let _ = socket.write_all(b"data: [DONE]\n\n").await;
        })
    }))
    .await;
    let before = peak_mib();
    let started = Instant::now();
    let mut config = client(&flood);
    config.max_reply_tokens = 512;
    let result = LlmClient::new(config).unwrap().chat(&ask()).await;
    let grown = peak_mib() - before;
    eprintln!(
        "FIGURE: 300 MB token flood: {} in {:.1} s; peak memory grew {grown:.1} MiB",
        match &result {
            Ok(reply) => format!("read whole ({} bytes of content)", reply.content.len()),
            Err(err) => format!("stopped: {err}"),
        },
        started.elapsed().as_secs_f64()
    );
    let err = result.unwrap_err();
    assert!(matches!(err, LlmError::ReplyTooLong { .. }), "{err}");
    assert!(err.to_string().contains("node.max_reply_tokens"), "{err}");
    assert!(!err.is_retryable());
    assert!(grown < 64.0, "peak memory grew {grown:.1} MiB");
    // A request that asks for more than the client's bound raises it (the server is trusted
    // up to what was asked), and is still cut past that.
    let mut config = client(&flood);
    config.max_reply_tokens = 512;
    let mut longer = ask();
    longer.max_tokens = Some(2000);
    let err = LlmClient::new(config)
        .unwrap()
        .chat(&longer)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::ReplyTooLong { tokens: 2001, .. }),
        "{err}"
    );

    // A 300 MB error body: only what is shown is read.
    let huge_error = serve(Arc::new(|_, mut socket| {
        Box::pin(async move {
            let head = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {FLOOD}\r\nconnection: close\r\n\r\n"
            );
            let _ = socket.write_all(head.as_bytes()).await;
            send_flood(&mut socket, b"the server is on fire; ", FLOOD).await;
        })
    }))
    .await;
    let before = peak_mib();
    let started = Instant::now();
    let result = LlmClient::new(client(&huge_error))
        .unwrap()
        .chat(&ask())
        .await;
    let grown = peak_mib() - before;
    let err = result.unwrap_err();
    eprintln!(
        "FIGURE: 300 MB error body: {} ... in {:.1} s; peak memory grew {grown:.1} MiB",
        err.to_string().chars().take(100).collect::<String>(),
        started.elapsed().as_secs_f64()
    );
    assert!(matches!(err, LlmError::Server { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("the server is on fire"), "{err}");
    assert!(err.to_string().len() < 2000, "{err}");
    assert!(grown < 64.0, "peak memory grew {grown:.1} MiB");
}

#[tokio::test]
async fn a_stream_of_pings_with_no_tokens_ends_at_the_first_token_limit() {
    let url = serve(Arc::new(|_, mut socket| {
        Box::pin(async move {
            let _ = socket.write_all(SSE_HEAD).await;
            for _ in 0..3000 {
                if socket.write_all(b": keep-alive\n\n").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }))
    .await;
    let started = Instant::now();
    let err = LlmClient::new(client(&url))
        .unwrap()
        .chat(&ask())
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!(
        "FIGURE: ping-only stream: {err} after {:.1} s",
        took.as_secs_f64()
    );
    assert!(
        matches!(err, LlmError::OnlyPings { tokens: 0, .. }),
        "{err}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn pings_after_some_tokens_end_at_the_silence_limit() {
    let url = serve(Arc::new(|_, mut socket| {
        Box::pin(async move {
            let _ = socket.write_all(SSE_HEAD).await;
            let _ = socket.write_all(&token_chunk("hello ")).await;
            let _ = socket.write_all(&token_chunk("there")).await;
            for _ in 0..3000 {
                if socket
                    .write_all(b"data: {\"choices\":[{\"index\":0,\"delta\":{}}]}\n\n")
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }))
    .await;
    let started = Instant::now();
    let err = LlmClient::new(client(&url))
        .unwrap()
        .chat(&ask())
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::OnlyPings { tokens: 2, .. }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

fn busy_then_ok(retry_after: &'static str) -> Behaviour {
    Arc::new(move |n, mut socket| {
        Box::pin(async move {
            let reply = if n == 0 {
                format!("HTTP/1.1 503 Service Unavailable\r\nretry-after: {retry_after}\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy")
            } else {
                let body = serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}).to_string();
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
            };
            let _ = socket.write_all(reply.as_bytes()).await;
        })
    })
}

#[tokio::test]
async fn retry_after_is_honoured_and_announced_within_a_bound() {
    let url = serve(busy_then_ok("1")).await;
    let said = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut config = client(&url);
    config.max_retries = 2;
    let heard = said.clone();
    config.notices = Some(swarm::llm::Notices(Arc::new(move |line: &str| {
        heard.lock().unwrap().push(line.to_string())
    })));
    let started = Instant::now();
    let mut request = ask();
    request.stream = false;
    let reply = LlmClient::new(config.clone())
        .unwrap()
        .chat(&request)
        .await
        .unwrap();
    assert_eq!((reply.content.as_str(), reply.retries), ("ok", 1));
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    let said = said.lock().unwrap().clone();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("503") && said[0].contains("waiting 1 s"),
        "{said:?}"
    );

    // Asked to wait an hour: not waited, said so at once.
    let url = serve(busy_then_ok("3600")).await;
    config.base_url = url;
    config.max_retry_wait = Duration::from_secs(5);
    let started = Instant::now();
    let err = LlmClient::new(config)
        .unwrap()
        .chat(&request)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Busy { status: 503, .. }), "{err}");
    assert!(err.to_string().contains("3600s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_truncated_body_and_a_reset_stream_say_what_happened() {
    let truncated = serve(Arc::new(|_, mut socket| {
        Box::pin(async move {
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"choices\": [{\"index\": 0, \"message\": {\"content\": \"cut")
                .await;
        })
    }))
    .await;
    let mut request = ask();
    request.stream = false;
    let err = LlmClient::new(client(&truncated))
        .unwrap()
        .chat(&request)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("error decoding response body"), "{text}");
    assert!(
        text.contains("of 1000 bytes") && text.contains("truncated"),
        "{text}"
    );

    let reset = serve(Arc::new(|_, mut socket| {
        Box::pin(async move {
            let _ = socket.write_all(SSE_HEAD).await;
            let _ = socket.write_all(&token_chunk("one ")).await;
            let _ = socket.write_all(&token_chunk("two ")).await;
            let _ = socket.flush().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            // Linger 0: closing sends a reset, as a crashed server's kernel does.
            let std_socket = socket.into_std().unwrap();
            socket2::SockRef::from(&std_socket)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(std_socket);
        })
    }))
    .await;
    let err = LlmClient::new(client(&reset))
        .unwrap()
        .chat(&ask())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LlmError::Dropped { .. }), "{text}");
    assert!(!text.contains("error decoding response body"), "{text}");
    assert!(text.contains("mid-stream, after 2 token(s)"), "{text}");
}
