//! Capped capture of one output stream: the first and last bytes are kept, the middle is
//! counted and dropped, so a command that prints gigabytes costs a bounded amount of memory.

use serde::{Deserialize, Serialize};

/// What a stream printed, capped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedOutput {
    /// The first bytes (up to the head cap), lossily decoded.
    pub head: String,
    /// The last bytes (up to the tail cap) when the stream overflowed the head; else empty.
    pub tail: String,
    /// Everything the stream printed, in bytes.
    pub total_bytes: u64,
    /// True when bytes between head and tail were dropped.
    pub truncated: bool,
}

impl CapturedOutput {
    /// The kept text, with a marker where bytes were dropped.
    pub fn text(&self) -> String {
        if !self.truncated {
            return format!("{}{}", self.head, self.tail);
        }
        let kept = (self.head.len() + self.tail.len()) as u64;
        format!(
            "{}\n[... {} bytes omitted of {} ...]\n{}",
            self.head,
            self.total_bytes.saturating_sub(kept),
            self.total_bytes,
            self.tail
        )
    }
}

/// Accumulates bytes under a head cap and a tail cap.
#[derive(Debug)]
pub struct Capture {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<u8>,
    tail: Vec<u8>,
    total: u64,
}

impl Capture {
    /// Keeps at most `head_cap` leading and `tail_cap` trailing bytes.
    pub fn new(head_cap: usize, tail_cap: usize) -> Self {
        Capture {
            head_cap,
            tail_cap,
            head: Vec::new(),
            tail: Vec::new(),
            total: 0,
        }
    }

    /// Adds bytes.
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.head.len() < self.head_cap {
            let take = (self.head_cap - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        if bytes.is_empty() {
            return;
        }
        if bytes.len() >= self.tail_cap {
            self.tail.clear();
            self.tail
                .extend_from_slice(&bytes[bytes.len() - self.tail_cap..]);
            return;
        }
        self.tail.extend_from_slice(bytes);
        // Compact only when twice over, so the cost is amortised.
        if self.tail.len() > self.tail_cap * 2 {
            let excess = self.tail.len() - self.tail_cap;
            self.tail.drain(..excess);
        }
    }

    /// The capped result.
    pub fn finish(mut self) -> CapturedOutput {
        if self.tail.len() > self.tail_cap {
            let excess = self.tail.len() - self.tail_cap;
            self.tail.drain(..excess);
        }
        let kept = (self.head.len() + self.tail.len()) as u64;
        CapturedOutput {
            head: String::from_utf8_lossy(&self.head).into_owned(),
            tail: String::from_utf8_lossy(&self.tail).into_owned(),
            total_bytes: self.total,
            truncated: kept < self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn small_output_is_kept_whole() {
        let mut capture = Capture::new(8, 8);
        capture.push(b"hello");
        assert_eq!(capture.finish().text(), "hello");
    }

    #[test]
    fn large_output_keeps_head_and_tail() {
        let mut capture = Capture::new(4, 4);
        for chunk in [b"abcdef".as_slice(), b"ghij", b"klmnopqrstuvwxyz"] {
            capture.push(chunk);
        }
        let out = capture.finish();
        assert_eq!(
            (out.head.as_str(), out.tail.as_str(), out.total_bytes),
            ("abcd", "wxyz", 26)
        );
        assert!(out.truncated);
        assert_eq!(out.text(), "abcd\n[... 18 bytes omitted of 26 ...]\nwxyz");
    }
}
