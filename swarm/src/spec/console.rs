//! Console blocks in the trycmd style, the form acceptance commands and hidden checks take:
//!
//! ````markdown
//! ```console
//! $ python3 app.py add "buy milk"
//! added 1: buy milk
//! $ python3 app.py list
//! 1 [..] buy milk
//! ...
//! $ python3 app.py remove 99
//! ? 1
//! ```
//! ````
//!
//! `$ CMD` lines run in order in one directory; the lines after a command are its expected
//! stdout, where `[..]` matches anything within a line and a line `...` matches any number of
//! lines; `? N` on its own line anywhere before the next `$` states the exit code (0 when
//! absent). stderr is not compared. Fixture files come as fenced blocks whose info string
//! holds `file=PATH`.

use serde::{Deserialize, Serialize};

/// One command and what it must print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleStep {
    /// The shell command.
    pub command: String,
    /// Expected stdout lines (may hold `[..]` and `...`).
    pub expected: Vec<String>,
    /// Expected exit code.
    pub exit_code: i32,
}

/// A file given in a fenced block with `file=PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fixture {
    /// Relative path.
    pub path: String,
    /// Content.
    pub content: String,
}

/// Parses the body of one console block (without the fences).
pub fn parse_console(body: &str) -> Vec<ConsoleStep> {
    let mut steps: Vec<ConsoleStep> = Vec::new();
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(command) = line
            .strip_prefix("$ ")
            .or_else(|| (line == "$").then_some(""))
        {
            steps.push(ConsoleStep {
                command: command.trim().to_string(),
                expected: Vec::new(),
                exit_code: 0,
            });
            continue;
        }
        let Some(step) = steps.last_mut() else {
            continue;
        };
        if let Some(code) = line
            .strip_prefix("? ")
            .and_then(|code| code.trim().parse::<i32>().ok())
        {
            step.exit_code = code;
        } else {
            step.expected.push(line.to_string());
        }
    }
    // Trailing blank lines of a block are layout, not expected output.
    for step in &mut steps {
        while step
            .expected
            .last()
            .is_some_and(|line| line.trim().is_empty())
        {
            step.expected.pop();
        }
    }
    steps
}

/// A fenced block of a Markdown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FencedBlock {
    /// The info string after the opening fence (`console`, `text file=a.txt`, …).
    pub info: String,
    /// The body.
    pub body: String,
    /// 1-based line of the opening fence.
    pub line: usize,
}

/// Every fenced block (``` or ~~~, three or more) of a Markdown document, in order. An
/// unclosed block runs to the end of the document.
pub fn fenced_blocks(markdown: &str) -> Vec<FencedBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String, FencedBlock)> = None;
    for (number, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                let fence: String = trimmed
                    .chars()
                    .take_while(|c| *c == '`' || *c == '~')
                    .collect();
                if fence.len() >= 3
                    && fence
                        .chars()
                        .all(|c| c == fence.chars().next().unwrap_or('`'))
                {
                    let info = trimmed[fence.len()..].trim().to_string();
                    open = Some((
                        fence,
                        String::new(),
                        FencedBlock {
                            info,
                            body: String::new(),
                            line: number + 1,
                        },
                    ));
                }
            }
            Some((fence, body, _)) => {
                let closing = trimmed.starts_with(fence.as_str())
                    && trimmed.trim_end().chars().all(|c| fence.starts_with(c));
                if closing {
                    if let Some((_, body, mut block)) = open.take() {
                        block.body = body;
                        blocks.push(block);
                    }
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    if let Some((_, body, mut block)) = open {
        block.body = body;
        blocks.push(block);
    }
    blocks
}

/// The console steps of every `console` (or `trycmd`) block in a document.
pub fn console_steps(markdown: &str) -> Vec<ConsoleStep> {
    fenced_blocks(markdown)
        .into_iter()
        .filter(|block| {
            matches!(
                block.info.split_whitespace().next(),
                Some("console" | "trycmd")
            )
        })
        .flat_map(|block| parse_console(&block.body))
        .collect()
}

/// The fixtures (`file=PATH` blocks) of a document.
pub fn fixtures(markdown: &str) -> Vec<Fixture> {
    fenced_blocks(markdown)
        .into_iter()
        .filter_map(|block| {
            let path = block
                .info
                .split_whitespace()
                .find_map(|word| word.strip_prefix("file="))?;
            let path = path.trim_matches('"').to_string();
            Some(Fixture {
                path,
                content: block.body,
            })
        })
        .collect()
}

/// Whether one actual line matches one expected line (`[..]` matches within the line).
pub fn line_matches(expected: &str, actual: &str) -> bool {
    let expected = expected.trim_end();
    let actual = actual.trim_end();
    if !expected.contains("[..]") {
        return expected == actual;
    }
    let parts: Vec<&str> = expected.split("[..]").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first)
        || !actual.ends_with(last)
        || actual.len() < first.len() + last.len()
    {
        return false;
    }
    let mut position = first.len();
    let end = actual.len() - last.len();
    for part in &parts[1..parts.len() - 1] {
        match actual
            .get(position..end)
            .and_then(|window| window.find(part))
        {
            Some(found) => position += found + part.len(),
            None => return false,
        }
    }
    position <= end
}

/// Whether `actual` output matches the expected lines (`...` lines match any run of lines).
pub fn output_matches(expected: &[String], actual: &str) -> bool {
    let actual: Vec<&str> = actual.lines().collect();
    // reachable[i][j]: expected[..i] can match actual[..j].
    let rows = expected.len() + 1;
    let cols = actual.len() + 1;
    let mut reachable = vec![false; rows * cols];
    reachable[0] = true;
    for (i, line) in expected.iter().enumerate() {
        let wildcard = line.trim() == "...";
        // A `...` reaches every column at or after one already reached: a running OR keeps
        // the whole table linear in the output's length.
        let mut seen = false;
        for j in 0..cols {
            let here = reachable[i * cols + j];
            if wildcard {
                seen |= here;
                reachable[(i + 1) * cols + j] = seen;
            } else if here && j < actual.len() && line_matches(line, actual[j]) {
                reachable[(i + 1) * cols + j + 1] = true;
            }
        }
    }
    reachable[expected.len() * cols + actual.len()]
}

/// A short account of why output did not match: the first expected line that could not be
/// placed, and what was printed.
pub fn explain_mismatch(expected: &[String], actual: &str) -> String {
    let mut longest = 0;
    for length in (0..=expected.len()).rev() {
        let prefix: Vec<String> = expected[..length]
            .iter()
            .cloned()
            .chain(std::iter::once("...".to_string()))
            .collect();
        if output_matches(&prefix, actual) {
            longest = length;
            break;
        }
    }
    let printed: String = actual.lines().take(20).collect::<Vec<_>>().join("\n");
    match expected.get(longest) {
        Some(line) => format!(
            "expected line {} `{line}` not found in order; stdout was:\n{printed}",
            longest + 1
        ),
        None => format!("stdout had lines after the last expected one:\n{printed}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn steps_with_exit_codes_anywhere_before_the_next_command() {
        let steps = parse_console("$ app add x\nadded 1\n? 0\n$ app rm 9\n? 1\nno such item\n\n");
        assert_eq!(
            steps,
            vec![
                ConsoleStep {
                    command: "app add x".into(),
                    expected: vec!["added 1".into()],
                    exit_code: 0
                },
                ConsoleStep {
                    command: "app rm 9".into(),
                    expected: vec!["no such item".into()],
                    exit_code: 1
                },
            ]
        );
    }

    #[test]
    fn within_line_wildcards() {
        assert!(line_matches("1 [..] milk", "1 2026-11-25 milk"));
        assert!(line_matches("[..]", "anything"));
        assert!(line_matches("a[..]b[..]c", "a-b-c"));
        assert!(!line_matches("a[..]b[..]c", "a-c-b"));
        assert!(
            !line_matches("ab[..]ba", "aba"),
            "prefix and suffix may not overlap"
        );
        assert!(line_matches("total: 3  ", "total: 3"));
    }

    #[test]
    fn multi_line_wildcards() {
        let expected: Vec<String> = ["header", "...", "footer"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(output_matches(&expected, "header\nfooter\n"));
        assert!(output_matches(&expected, "header\na\nb\nfooter\n"));
        assert!(!output_matches(&expected, "header\na\n"));
        assert!(
            !output_matches(&["x".to_string()], "x\ny\n"),
            "extra lines fail without ..."
        );
        assert!(output_matches(&[], ""));
    }

    #[test]
    fn mismatch_explanations_point_at_the_line() {
        let expected: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            explain_mismatch(&expected, "a\nc\n"),
            "expected line 2 `b` not found in order; stdout was:\na\nc"
        );
    }

    #[test]
    fn blocks_and_fixtures_from_markdown() {
        let doc = "# Spec\n```text file=data/in.txt\nx y\n```\n\n```console\n$ wc -w data/in.txt\n2 data/in.txt\n```\n~~~python\nprint()\n~~~\n";
        assert_eq!(
            fixtures(doc),
            vec![Fixture {
                path: "data/in.txt".into(),
                content: "x y\n".into()
            }]
        );
        assert_eq!(console_steps(doc).len(), 1);
        assert_eq!(fenced_blocks(doc).len(), 3);
    }
}
