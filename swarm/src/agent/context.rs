//! Keeps the conversation inside the model's context window. Before each request the prompt
//! size is estimated (characters per token calibrated from the server's own prompt-token
//! counts); when it passes the budget, the oldest tool results are shortened to their head
//! and tail, newest last, so the model keeps its recent evidence.

use crate::llm::Message;

/// Characters per token before any calibration (a safe underestimate for code).
const DEFAULT_CHARS_PER_TOKEN: f64 = 3.0;
/// Characters kept at each end of a shortened tool result.
const KEEP_EACH_END: usize = 300;

/// Tracks the budget of one conversation.
#[derive(Debug, Clone)]
pub struct ContextBudget {
    /// The window in tokens, when known.
    pub context_length: Option<u64>,
    /// Tokens reserved for the reply.
    pub reply_reserve: u64,
    chars_per_token: f64,
}

/// Why the context is being fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressure {
    /// Our estimate says the prompt may not fit: shorten until it does.
    Estimate,
    /// The server reported an overflow: shorten every tool result.
    Overflowed,
}

/// What one shortening pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shortened {
    /// Messages shortened.
    pub messages: usize,
    /// Characters removed.
    pub chars_removed: usize,
}

impl ContextBudget {
    /// A budget for a window of `context_length` tokens (None: unlimited).
    pub fn new(context_length: Option<u64>, reply_reserve: u64) -> Self {
        ContextBudget {
            context_length,
            reply_reserve,
            chars_per_token: DEFAULT_CHARS_PER_TOKEN,
        }
    }

    /// Learns the ratio from a request whose prompt the server counted.
    pub fn calibrate(&mut self, messages: &[Message], prompt_tokens: u64) {
        if prompt_tokens > 50 {
            let chars = total_chars(messages) as f64;
            // Lean to the pessimistic side so estimates stay above the truth.
            self.chars_per_token = (chars / prompt_tokens as f64).clamp(1.5, 6.0) * 0.9;
        }
    }

    /// Estimated prompt tokens.
    pub fn estimate(&self, messages: &[Message]) -> u64 {
        (total_chars(messages) as f64 / self.chars_per_token) as u64 + 8 * messages.len() as u64
    }

    /// Tokens the prompt may use: 85% of the window less the reply reserve.
    pub fn limit(&self) -> Option<u64> {
        self.context_length
            .map(|n| (n * 85 / 100).saturating_sub(self.reply_reserve))
    }

    /// Shortens tool results, oldest first and the newest last, until the estimate fits (or
    /// nothing more can be cut). After an overflow our estimate missed, every result is
    /// shortened. `tool_results` holds the indices of tool-result messages, in order.
    pub fn fit(
        &self,
        messages: &mut [Message],
        tool_results: &[usize],
        pressure: Pressure,
    ) -> Shortened {
        let mut done = Shortened::default();
        let Some(limit) = self.limit() else {
            return done;
        };
        let aggressive = pressure == Pressure::Overflowed;
        for &index in tool_results {
            if !aggressive && self.estimate(messages) <= limit {
                break;
            }
            if let Some(message) = messages.get_mut(index) {
                let removed = shorten(&mut message.content);
                if removed > 0 {
                    done.messages += 1;
                    done.chars_removed += removed;
                }
            }
        }
        done
    }
}

fn total_chars(messages: &[Message]) -> usize {
    messages
        .iter()
        .map(|m| {
            m.content.len()
                + m.tool_calls
                    .iter()
                    .map(|c| c.function.arguments.len() + 32)
                    .sum::<usize>()
        })
        .sum()
}

/// Keeps the head and tail of `text`; returns the characters removed.
fn shorten(text: &mut String) -> usize {
    if text.len() <= KEEP_EACH_END * 2 + 100 {
        return 0;
    }
    let mut head_end = KEEP_EACH_END;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - KEEP_EACH_END;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    let removed = tail_start - head_end;
    *text = format!(
        "{}\n[... {removed} characters removed to save context; run the tool again if you need them ...]\n{}",
        &text[..head_end],
        &text[tail_start..]
    );
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Role;

    #[test]
    fn oldest_results_shrink_first_and_recent_ones_stay() {
        let mut messages = vec![Message::text(Role::System, "s")];
        for _ in 0..4 {
            messages.push(Message::text(Role::User, "x".repeat(3000)));
        }
        let budget = ContextBudget::new(Some(3000), 500);
        let done = budget.fit(&mut messages, &[1, 2, 3, 4], Pressure::Estimate);
        assert!(done.messages >= 1);
        assert!(messages[1].content.len() < 1000);
        assert_eq!(
            messages[4].content.len(),
            3000,
            "the newest result is kept whole"
        );
        assert!(messages[1]
            .content
            .contains("characters removed to save context"));
    }

    #[test]
    fn no_window_means_no_cut() {
        let mut messages = vec![Message::text(Role::User, "y".repeat(10_000))];
        assert_eq!(
            ContextBudget::new(None, 0).fit(&mut messages, &[0], Pressure::Overflowed),
            Shortened::default()
        );
    }
}
