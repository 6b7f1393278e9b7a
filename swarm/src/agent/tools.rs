//! The agent's tools. Each returns text for the model; a failure is a message the model can
//! act on (never a crash), and whether the call wrote to disk is recorded for the judge.

use super::workspace::{Access, Workspace};
use crate::llm::ToolSpec;
use crate::sandbox::{Limits, Sandbox, SandboxCommand};
use serde_json::{json, Value};
use std::time::Duration;

/// Names of the tools, in the order they are offered.
pub const TOOL_NAMES: [&str; 7] = [
    "read_file",
    "write_file",
    "edit_file",
    "list_files",
    "search",
    "run",
    "done",
];

/// Longest tool output returned to the model.
const MAX_OUTPUT_CHARS: usize = 12_000;
/// Most entries `list_files` and `search` return.
const MAX_LISTED: usize = 300;
/// Directories never listed or searched.
const SKIPPED_DIRS: [&str; 7] = [
    ".git",
    "target",
    "__pycache__",
    "node_modules",
    ".venv",
    ".swarm",
    ".pytest_cache",
];

/// The tools' JSON schemas, for the native protocol and the JSON-action schema.
pub fn tool_specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, parameters: Value| ToolSpec {
        name: name.into(),
        description: description.into(),
        parameters,
    };
    let string = |description: &str| json!({"type": "string", "description": description});
    vec![
        spec("read_file", "Read a text file of the workspace.",
            json!({"type":"object","properties":{"path":string("relative path")},"required":["path"]})),
        spec("write_file", "Create or overwrite a file with the full content.",
            json!({"type":"object","properties":{"path":string("relative path"),"content":string("the whole file")},"required":["path","content"]})),
        spec("edit_file", "Replace one exact, unique occurrence of `old` with `new` in a file.",
            json!({"type":"object","properties":{"path":string("relative path"),"old":string("exact text to replace, unique in the file"),"new":string("replacement text")},"required":["path","old","new"]})),
        spec("list_files", "List files under a directory of the workspace (default: all).",
            json!({"type":"object","properties":{"path":string("relative directory, default .")},"required":[]})),
        spec("search", "Search files for a regular expression; prints file:line: text.",
            json!({"type":"object","properties":{"pattern":string("regular expression"),"path":string("relative directory, default .")},"required":["pattern"]})),
        spec("run", "Run a shell command in the workspace root (sandboxed: no network, writes only in the workspace).",
            json!({"type":"object","properties":{"command":string("shell command")},"required":["command"]})),
        spec("done", "Finish: say what you built and how you checked it.",
            json!({"type":"object","properties":{"summary":string("what was done")},"required":["summary"]})),
    ]
}

/// The result of one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// Text for the model.
    pub output: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Relative path written, when it wrote.
    pub wrote: Option<String>,
    /// The summary, when this was `done`.
    pub done: Option<String>,
}

impl ToolResult {
    fn ok(output: impl Into<String>) -> Self {
        ToolResult {
            output: cap(output.into()),
            ok: true,
            wrote: None,
            done: None,
        }
    }
    fn error(output: impl Into<String>) -> Self {
        ToolResult {
            output: format!("ERROR: {}", output.into()),
            ok: false,
            wrote: None,
            done: None,
        }
    }
}

fn cap(mut text: String) -> String {
    if text.len() > MAX_OUTPUT_CHARS {
        let mut cut = MAX_OUTPUT_CHARS;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let total = text.len();
        text.truncate(cut);
        text.push_str(&format!(
            "\n[... output cut at {cut} of {total} characters ...]"
        ));
    }
    text
}

/// Reads a string argument; numbers and booleans are accepted as their text.
fn arg(args: &Value, name: &str) -> Option<String> {
    match args.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn required(args: &Value, tool: &str, names: &[&str]) -> Result<Vec<String>, ToolResult> {
    names
        .iter()
        .map(|name| {
            arg(args, name).ok_or_else(|| {
                let all: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                ToolResult::error(format!(
                    "{tool} needs {} (strings); `{name}` is missing",
                    all.join(", ")
                ))
            })
        })
        .collect()
}

/// Settings for the `run` tool.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Sandbox limits for commands the model runs.
    pub limits: Limits,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            limits: Limits {
                wall: Duration::from_secs(60),
                ..Limits::default()
            },
        }
    }
}

/// Executes one tool call.
pub async fn execute(
    workspace: &Workspace,
    run: &RunSettings,
    name: &str,
    args: &Value,
) -> ToolResult {
    let args = if args.is_object() {
        args.clone()
    } else {
        json!({})
    };
    match name {
        "read_file" => match required(&args, name, &["path"]) {
            Ok(values) => read_file(workspace, &values[0]),
            Err(err) => err,
        },
        "write_file" => match required(&args, name, &["path", "content"]) {
            Ok(values) => write_file(workspace, &values[0], &values[1]),
            Err(err) => err,
        },
        "edit_file" => match required(&args, name, &["path", "old", "new"]) {
            Ok(values) => edit_file(workspace, &values[0], &values[1], &values[2]),
            Err(err) => err,
        },
        "list_files" => list_files(workspace, &arg(&args, "path").unwrap_or_else(|| ".".into())),
        "search" => match required(&args, name, &["pattern"]) {
            Ok(values) => search(
                workspace,
                &values[0],
                &arg(&args, "path").unwrap_or_else(|| ".".into()),
            ),
            Err(err) => err,
        },
        "run" => match required(&args, name, &["command"]) {
            Ok(values) => run_command(workspace, run, &values[0]).await,
            Err(err) => err,
        },
        "done" => {
            let summary = arg(&args, "summary").unwrap_or_default();
            ToolResult {
                output: "finished".into(),
                ok: true,
                wrote: None,
                done: Some(summary),
            }
        }
        other => ToolResult::error(format!(
            "there is no tool `{other}`; the tools are {}",
            TOOL_NAMES.join(", ")
        )),
    }
}

fn read_file(workspace: &Workspace, path: &str) -> ToolResult {
    let (full, relative) = match workspace.resolve(path, Access::Read) {
        Ok(resolved) => resolved,
        Err(refused) => return ToolResult::error(refused.0),
    };
    if full.is_dir() {
        return ToolResult::error(format!("{relative} is a directory; use list_files"));
    }
    match std::fs::read(&full) {
        Ok(bytes) => ToolResult::ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => ToolResult::error(format!(
            "{relative} does not exist; use list_files to see what does"
        )),
        Err(err) => ToolResult::error(format!("cannot read {relative}: {err}")),
    }
}

fn write_file(workspace: &Workspace, path: &str, content: &str) -> ToolResult {
    let (full, relative) = match workspace.resolve(path, Access::Write) {
        Ok(resolved) => resolved,
        Err(refused) => return ToolResult::error(refused.0),
    };
    if full.is_dir() {
        return ToolResult::error(format!("{relative} is a directory; name a file inside it"));
    }
    if let Some(parent) = full.parent() {
        if let Err(err) = std::fs::create_dir_all(parent) {
            return ToolResult::error(format!("cannot create the directory for {relative}: {err}"));
        }
    }
    match std::fs::write(&full, content) {
        Ok(()) => ToolResult {
            output: format!("wrote {} bytes to {relative}", content.len()),
            ok: true,
            wrote: Some(relative),
            done: None,
        },
        Err(err) => ToolResult::error(format!("cannot write {relative}: {err}")),
    }
}

fn edit_file(workspace: &Workspace, path: &str, old: &str, new: &str) -> ToolResult {
    let (full, relative) = match workspace.resolve(path, Access::Write) {
        Ok(resolved) => resolved,
        Err(refused) => return ToolResult::error(refused.0),
    };
    let text = match std::fs::read_to_string(&full) {
        Ok(text) => text,
        Err(_) => {
            return ToolResult::error(format!(
                "{relative} does not exist or is not text; create it with write_file"
            ))
        }
    };
    if old.is_empty() {
        return ToolResult::error("`old` is empty; copy the exact text to replace from read_file");
    }
    let starts: Vec<usize> = text.match_indices(old).map(|(at, _)| at).collect();
    match starts.len() {
        0 => {
            let first_line = old
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            let near: Vec<String> = text
                .lines()
                .enumerate()
                .filter(|(_, line)| !first_line.is_empty() && line.contains(first_line))
                .map(|(n, _)| (n + 1).to_string())
                .take(5)
                .collect();
            let hint = if near.is_empty() {
                "read_file it and copy the exact text, whitespace included".to_string()
            } else {
                format!(
                    "its first line appears on line(s) {}; the rest differs (check indentation)",
                    near.join(", ")
                )
            };
            ToolResult::error(format!("`old` was not found in {relative}: {hint}"))
        }
        1 => {
            let updated = text.replacen(old, new, 1);
            match std::fs::write(&full, &updated) {
                Ok(()) => ToolResult {
                    output: format!("edited {relative}"),
                    ok: true,
                    wrote: Some(relative),
                    done: None,
                },
                Err(err) => ToolResult::error(format!("cannot write {relative}: {err}")),
            }
        }
        count => {
            let lines: Vec<String> = starts
                .iter()
                .take(8)
                .map(|at| (text[..*at].matches('\n').count() + 1).to_string())
                .collect();
            ToolResult::error(format!(
                "`old` occurs {count} times in {relative} (lines {}); include more surrounding lines so it matches exactly once",
                lines.join(", ")
            ))
        }
    }
}

/// Files under `dir` (relative to the root), sorted, skipping build and VCS directories.
pub fn walk(workspace: &Workspace, dir: &std::path::Path) -> Vec<String> {
    let skip = |name: &str| SKIPPED_DIRS.contains(&name);
    crate::fsutil::walk_files(dir, &skip, 20_000)
        .into_iter()
        .filter_map(|(path, _)| {
            let full = dir.join(path);
            let relative = full.strip_prefix(workspace.root()).ok()?;
            Some(relative.to_string_lossy().into_owned())
        })
        .collect()
}

fn list_files(workspace: &Workspace, path: &str) -> ToolResult {
    let (full, relative) = match workspace.resolve(path, Access::Read) {
        Ok(resolved) => resolved,
        Err(refused) => return ToolResult::error(refused.0),
    };
    if !full.is_dir() {
        return ToolResult::error(format!(
            "{} is not a directory",
            if relative.is_empty() { "." } else { &relative }
        ));
    }
    let files = walk(workspace, &full);
    if files.is_empty() {
        return ToolResult::ok("(no files yet)");
    }
    let shown: Vec<&str> = files.iter().take(MAX_LISTED).map(String::as_str).collect();
    let mut text = shown.join("\n");
    if files.len() > MAX_LISTED {
        text.push_str(&format!(
            "\n[... {} more files ...]",
            files.len() - MAX_LISTED
        ));
    }
    ToolResult::ok(text)
}

fn search(workspace: &Workspace, pattern: &str, path: &str) -> ToolResult {
    let (full, _) = match workspace.resolve(path, Access::Read) {
        Ok(resolved) => resolved,
        Err(refused) => return ToolResult::error(refused.0),
    };
    let regex = match regex::Regex::new(pattern) {
        Ok(regex) => regex,
        // A model often means the text literally; search for it as such.
        Err(_) => match regex::Regex::new(&regex::escape(pattern)) {
            Ok(regex) => regex,
            Err(err) => return ToolResult::error(format!("bad pattern: {err}")),
        },
    };
    let files = if full.is_file() {
        full.strip_prefix(workspace.root())
            .map(|p| vec![p.to_string_lossy().into_owned()])
            .unwrap_or_default()
    } else {
        walk(workspace, &full)
    };
    let mut hits = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(workspace.root().join(&file)) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if regex.is_match(line) {
                hits.push(format!("{file}:{}: {}", number + 1, line.trim_end()));
                if hits.len() >= MAX_LISTED {
                    hits.push("[... more matches cut ...]".into());
                    return ToolResult::ok(hits.join("\n"));
                }
            }
        }
    }
    if hits.is_empty() {
        ToolResult::ok(format!("no match for {pattern}"))
    } else {
        ToolResult::ok(hits.join("\n"))
    }
}

async fn run_command(workspace: &Workspace, settings: &RunSettings, command: &str) -> ToolResult {
    let request =
        SandboxCommand::shell(command, workspace.root()).with_limits(settings.limits.clone());
    match Sandbox::detect().run(&request).await {
        Err(err) => ToolResult::error(format!("could not run: {err}")),
        Ok(outcome) => {
            let status = if outcome.timed_out {
                format!("timed out after {:?} and was killed", settings.limits.wall)
            } else if let Some(code) = outcome.exit_code {
                format!("exit code {code}")
            } else {
                format!("killed by signal {}", outcome.signal.unwrap_or(0))
            };
            let mut text = format!("$ {command}\n[{status}]\n");
            let stdout = outcome.stdout.text();
            let stderr = outcome.stderr.text();
            if !stdout.is_empty() {
                text.push_str(&format!("--- stdout ---\n{stdout}\n"));
            }
            if !stderr.is_empty() {
                text.push_str(&format!("--- stderr ---\n{stderr}\n"));
            }
            // A command that ran is a successful tool call even when it failed: the model
            // needs the output, and the exit code is in it.
            ToolResult::ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn workspace() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let workspace = Workspace::new(dir.path()).unwrap();
        (dir, workspace)
    }

    #[tokio::test]
    async fn write_then_edit_then_read() {
        let (_dir, ws) = workspace();
        let run = RunSettings::default();
        let wrote = execute(
            &ws,
            &run,
            "write_file",
            &json!({"path":"a/b.py","content":"x = 1\ny = 1\n"}),
        )
        .await;
        assert_eq!(wrote.wrote.as_deref(), Some("a/b.py"));
        let edited = execute(
            &ws,
            &run,
            "edit_file",
            &json!({"path":"a/b.py","old":"y = 1","new":"y = 2"}),
        )
        .await;
        assert!(edited.ok, "{}", edited.output);
        let read = execute(&ws, &run, "read_file", &json!({"path":"a/b.py"})).await;
        assert_eq!(read.output, "x = 1\ny = 2\n");
    }

    #[tokio::test]
    async fn edit_explains_missing_and_ambiguous_matches() {
        let (_dir, ws) = workspace();
        let run = RunSettings::default();
        execute(
            &ws,
            &run,
            "write_file",
            &json!({"path":"f.py","content":"a = 1\na = 1\n    b = 2\n"}),
        )
        .await;
        let twice = execute(
            &ws,
            &run,
            "edit_file",
            &json!({"path":"f.py","old":"a = 1","new":"a = 3"}),
        )
        .await;
        assert_eq!(twice.output, "ERROR: `old` occurs 2 times in f.py (lines 1, 2); include more surrounding lines so it matches exactly once");
        let missing = execute(
            &ws,
            &run,
            "edit_file",
            &json!({"path":"f.py","old":"  b = 2\nc","new":""}),
        )
        .await;
        assert!(missing.output.contains("line(s) 3"), "{}", missing.output);
        assert_eq!(twice.wrote, None);
    }

    #[tokio::test]
    async fn list_and_search_skip_vcs_dirs() {
        let (_dir, ws) = workspace();
        let run = RunSettings::default();
        execute(
            &ws,
            &run,
            "write_file",
            &json!({"path":"src/m.py","content":"def main():\n    pass\n"}),
        )
        .await;
        std::fs::create_dir_all(ws.root().join(".git")).unwrap();
        std::fs::write(ws.root().join(".git/config"), "def main").unwrap();
        assert_eq!(
            execute(&ws, &run, "list_files", &json!({})).await.output,
            "src/m.py"
        );
        assert_eq!(
            execute(&ws, &run, "search", &json!({"pattern":"def main("}))
                .await
                .output,
            "src/m.py:1: def main():"
        );
    }

    #[tokio::test]
    async fn missing_arguments_and_unknown_tools_get_guidance() {
        let (_dir, ws) = workspace();
        let run = RunSettings::default();
        let missing = execute(&ws, &run, "write_file", &json!({"path":"x"})).await;
        assert_eq!(
            missing.output,
            "ERROR: write_file needs `path`, `content` (strings); `content` is missing"
        );
        let unknown = execute(&ws, &run, "delete", &json!({})).await;
        assert!(unknown.output.contains("there is no tool `delete`"));
    }

    #[tokio::test]
    async fn run_reports_exit_code_and_output() {
        let (_dir, ws) = workspace();
        let result = execute(
            &ws,
            &RunSettings::default(),
            "run",
            &json!({"command":"echo hi; exit 3"}),
        )
        .await;
        assert_eq!(
            result.output,
            "$ echo hi; exit 3\n[exit code 3]\n--- stdout ---\nhi\n\n"
        );
    }
}
