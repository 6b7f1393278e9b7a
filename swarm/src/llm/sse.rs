//! An incremental Server-Sent Events decoder. Bytes arrive in arbitrary pieces (a chunk may
//! end mid-line or mid-UTF-8 character); complete events come out. Comment lines (`: ping`)
//! are reported separately: they prove the server is alive but carry no tokens.

/// One item decoded from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A complete event: its `event:` name (empty when none) and its joined `data:` lines.
    Event {
        /// The `event:` field, or empty.
        name: String,
        /// The `data:` lines joined with `\n`.
        data: String,
    },
    /// A comment line, such as a keep-alive ping.
    Comment,
}

/// Longest line kept; longer lines are cut so garbage without newlines cannot grow memory.
const MAX_LINE: usize = 8 * 1024 * 1024;

/// Feeds bytes, yields items.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    data: Vec<String>,
    name: String,
    saw_cr: bool,
}

impl SseDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes as much as `bytes` completes; incomplete trailing lines wait for more.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseItem> {
        let mut items = Vec::new();
        for &byte in bytes {
            match byte {
                b'\n' if self.saw_cr => {
                    // The `\n` of a `\r\n` pair: the line already ended at `\r`.
                    self.saw_cr = false;
                }
                b'\r' | b'\n' => {
                    self.saw_cr = byte == b'\r';
                    self.end_line(&mut items);
                }
                _ => {
                    self.saw_cr = false;
                    if self.line.len() < MAX_LINE {
                        self.line.push(byte);
                    }
                }
            }
        }
        items
    }

    /// Flushes a final event that was not followed by a blank line.
    pub fn finish(&mut self) -> Vec<SseItem> {
        let mut items = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut items);
        }
        self.dispatch(&mut items);
        items
    }

    fn end_line(&mut self, items: &mut Vec<SseItem>) {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.is_empty() {
            self.dispatch(items);
            return;
        }
        if line.starts_with(':') {
            items.push(SseItem::Comment);
            return;
        }
        let (field, value) = match line.find(':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line.as_str(), ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "event" => self.name = value.to_string(),
            _ => {}
        }
    }

    fn dispatch(&mut self, items: &mut Vec<SseItem>) {
        if self.data.is_empty() {
            self.name.clear();
            return;
        }
        items.push(SseItem::Event {
            name: std::mem::take(&mut self.name),
            data: std::mem::take(&mut self.data).join("\n"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn event(data: &str) -> SseItem {
        SseItem::Event {
            name: String::new(),
            data: data.to_string(),
        }
    }

    #[test]
    fn events_split_across_chunks_and_crlf() {
        let mut decoder = SseDecoder::new();
        let mut items = decoder.push(b"data: {\"a\"");
        items.extend(decoder.push(b":1}\r\n\r\n: ping\n\ndata: [DONE]\n"));
        items.extend(decoder.push(b"\n"));
        assert_eq!(
            items,
            vec![event("{\"a\":1}"), SseItem::Comment, event("[DONE]")]
        );
    }

    #[test]
    fn multi_line_data_and_named_events() {
        let mut decoder = SseDecoder::new();
        let items = decoder.push(b"event: progress\ndata: one\ndata: two\n\n");
        assert_eq!(
            items,
            vec![SseItem::Event {
                name: "progress".into(),
                data: "one\ntwo".into()
            }]
        );
    }

    #[test]
    fn unterminated_event_flushes_at_finish() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.push(b"data: tail"), vec![]);
        assert_eq!(decoder.finish(), vec![event("tail")]);
    }
}
