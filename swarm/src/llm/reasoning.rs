//! Separates reasoning from the answer. Servers put it in `reasoning_content` (llama-server,
//! DeepSeek style) or `reasoning` (Ollama, LM Studio, vLLM); templates that do not parse it
//! leave `<think>…</think>` at the start of the content, sometimes without the opening tag.

/// Splits `content` into (reasoning, answer). A leading `<think>…</think>` block (or a
/// `…</think>` whose opening tag the template already emitted) becomes reasoning; an opened
/// but never closed block makes the whole reply reasoning.
pub fn split_think(content: &str) -> (String, String) {
    let trimmed = content.trim_start();
    for (open, close) in [("<think>", "</think>"), ("<thinking>", "</thinking>")] {
        if let Some(rest) = trimmed.strip_prefix(open) {
            return match rest.find(close) {
                Some(end) => (
                    rest[..end].trim().to_string(),
                    rest[end + close.len()..].trim_start().to_string(),
                ),
                None => (rest.trim().to_string(), String::new()),
            };
        }
        // Qwen3-style templates put `<think>` in the prompt, so the reply starts inside it.
        if let Some(end) = content.find(close) {
            if !content[..end].contains(open) {
                return (
                    content[..end].trim().to_string(),
                    content[end + close.len()..].trim_start().to_string(),
                );
            }
        }
    }
    (String::new(), content.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn leading_block_is_taken_out() {
        assert_eq!(
            split_think("<think>plan it</think>\n\nanswer"),
            ("plan it".to_string(), "answer".to_string())
        );
    }

    #[test]
    fn missing_open_tag_still_splits() {
        assert_eq!(
            split_think("hmm\n</think>done"),
            ("hmm".to_string(), "done".to_string())
        );
    }

    #[test]
    fn unclosed_block_is_all_reasoning() {
        assert_eq!(
            split_think("<think>still going"),
            ("still going".into(), String::new())
        );
    }

    #[test]
    fn plain_content_is_untouched() {
        assert_eq!(
            split_think("just text"),
            (String::new(), "just text".to_string())
        );
    }
}
