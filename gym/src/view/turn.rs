//! A turn's stored files, read for a person: grades.json (scores with evidence, hidden checks,
//! the judge's findings), the transcript split into one conversation per worker, the events,
//! the request, and the project snapshot with its diff against the previous turn's. Every
//! file is read from the turn's directory as the row names it; a path that would leave the
//! results directory is refused, and a missing or damaged file is a message, never an error.

use crate::results::ResultRow;
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// The most bytes of one project file the diff reads (larger files are named, not diffed).
const DIFF_FILE_LIMIT: u64 = 256 * 1024;
/// The most files the diff lists.
const DIFF_FILES: usize = 200;

/// One scored dimension as grades.json keeps it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StoredScore {
    /// Dimension.
    pub dimension: String,
    /// 0–10, or none when it could not be measured.
    pub score: Option<f64>,
    /// Why.
    pub evidence: String,
}

/// One hidden check's outcome.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StoredCheck {
    /// What was checked.
    pub label: String,
    /// pass, fail or inconclusive.
    pub verdict: String,
    /// Its output.
    pub evidence: String,
}

/// The judge panel's result.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StoredJudge {
    /// Models that judged.
    pub models: Vec<String>,
    /// Kept findings, each with its dimension; their quotes were found in the files.
    pub findings: Vec<(String, graders::judge::JudgeFinding)>,
    /// Findings dropped because their quote is not in the files.
    pub discarded: Vec<(String, graders::judge::JudgeFinding)>,
    /// Samples that failed.
    pub failures: Vec<String>,
}

/// grades.json.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StoredGrades {
    /// Every dimension.
    pub scores: Vec<StoredScore>,
    /// Every hidden check.
    pub checks: Vec<StoredCheck>,
    /// The judge, when one ran.
    pub judge: Option<StoredJudge>,
    /// test_depth's detail.
    pub test_depth_detail: String,
}

impl StoredGrades {
    /// The checks that did not pass, in order.
    pub fn failed_checks(&self) -> Vec<&StoredCheck> {
        self.checks.iter().filter(|c| c.verdict != "pass").collect()
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// system, user, assistant or tool.
    pub role: String,
    /// Its text.
    pub content: String,
    /// Tool calls it made, as `name(arguments)`.
    pub calls: Vec<String>,
}

/// One worker's conversation (the single agent has one).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// `task (stage, attempt N) on node`, or `agent`.
    pub title: String,
    /// Its messages; a line that is not a message shows as one saying so.
    pub messages: Vec<Message>,
}

/// What a row's turn directory holds.
#[derive(Debug, Clone)]
pub struct TurnFiles {
    /// The turn's directory, when the row names one inside the results directory.
    pub dir: Result<PathBuf, String>,
    /// grades.json.
    pub grades: Result<StoredGrades, String>,
    /// The transcript, per worker.
    pub conversations: Result<Vec<Conversation>, String>,
    /// The events, one JSON value per line (lines that are not JSON are skipped and counted).
    pub events: Result<(Vec<serde_json::Value>, usize), String>,
    /// The request the builder got this turn.
    pub request: Option<String>,
}

/// A path from a row, joined to the results directory, or why it is refused.
pub fn inside(base: &Path, relative: &str) -> Result<PathBuf, String> {
    if relative.is_empty() {
        return Err("the row names no file".into());
    }
    let path = Path::new(relative);
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{relative}` is not a path inside the results directory: not read"
        ));
    }
    Ok(base.join(path))
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

/// The grades.json of a turn directory.
fn grades_in(dir: &Path) -> Result<StoredGrades, String> {
    let path = dir.join("grades.json");
    let text = read_text(&path)?;
    serde_json::from_str::<StoredGrades>(&text)
        .map_err(|err| format!("{} is damaged: {err}", path.display()))
}

/// The grades.json beside a row's events, under `base` (the CSV's directory).
pub fn read_grades(base: &Path, row: &ResultRow) -> Result<StoredGrades, String> {
    let events = inside(base, &row.events)?;
    let dir = events.parent().ok_or("no turn directory")?;
    grades_in(dir)
}

impl TurnFiles {
    /// Reads what the row names under `base` (the CSV's directory).
    pub fn read(base: &Path, row: &ResultRow) -> TurnFiles {
        let dir = inside(base, &row.events).and_then(|events| {
            events
                .parent()
                .map(Path::to_path_buf)
                .ok_or_else(|| "no turn directory".to_string())
        });
        let grades = dir.clone().and_then(|dir| grades_in(&dir));
        let conversations = inside(base, &row.transcript)
            .and_then(|path| read_text(&path))
            .map(|text| conversations(&text));
        let events = inside(base, &row.events)
            .and_then(|path| read_text(&path))
            .map(|text| {
                let mut skipped = 0;
                let values = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .filter_map(|l| {
                        let value = serde_json::from_str(l).ok();
                        skipped += usize::from(value.is_none());
                        value
                    })
                    .collect();
                (values, skipped)
            });
        let request = dir.as_ref().ok().and_then(|dir| {
            let text = std::fs::read_to_string(dir.join("request.json")).ok()?;
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            value["request"].as_str().map(str::to_string)
        });
        TurnFiles {
            dir,
            grades,
            conversations,
            events,
            request,
        }
    }
}

/// Splits a transcript into conversations: the swarm writes a header line (`task`, `stage`,
/// `attempt`, `node`) before each worker's messages; the single agent writes none.
pub fn conversations(text: &str) -> Vec<Conversation> {
    let mut out: Vec<Conversation> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Option<serde_json::Value> = serde_json::from_str(line).ok();
        let Some(value) = value.filter(|v| v.is_object()) else {
            current(&mut out).messages.push(Message {
                role: "unreadable".into(),
                content: format!("line {} is not a message", number + 1),
                calls: Vec::new(),
            });
            continue;
        };
        if let (Some(task), Some(stage)) = (value["task"].as_str(), value["stage"].as_str()) {
            out.push(Conversation {
                title: format!(
                    "{task} ({stage}, attempt {}) on {}",
                    value["attempt"],
                    value["node"].as_str().unwrap_or("?")
                ),
                messages: Vec::new(),
            });
            continue;
        }
        let calls = value["tool_calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .map(|call| {
                        format!(
                            "{}({})",
                            call["function"]["name"].as_str().unwrap_or("?"),
                            call["function"]["arguments"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        current(&mut out).messages.push(Message {
            role: value["role"].as_str().unwrap_or("?").to_string(),
            content: value["content"].as_str().unwrap_or("").to_string(),
            calls,
        });
    }
    out
}

fn current(out: &mut Vec<Conversation>) -> &mut Conversation {
    if out.is_empty() {
        out.push(Conversation {
            title: "agent".into(),
            messages: Vec::new(),
        });
    }
    let last = out.len() - 1;
    &mut out[last]
}

/// One file's change between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct FileDiff {
    /// Path in the project.
    pub path: String,
    /// added, removed, changed, or a reason it is not diffed.
    pub status: String,
    /// Unified diff text (empty when not diffed).
    pub diff: String,
}

/// The project after this turn against the one after the previous turn (turn 1: against
/// nothing — every file is new). `dir` is the turn's directory (`…/rN/turnT`).
pub fn project_diff(dir: &Path, turn: u32) -> Result<(String, Vec<FileDiff>), String> {
    let after = dir.join("project");
    if !after.is_dir() {
        return Err(format!(
            "no project snapshot at {} (older runs did not keep one)",
            after.display()
        ));
    }
    let before = (turn > 1)
        .then(|| {
            dir.parent()
                .map(|r| r.join(format!("turn{}", turn - 1)).join("project"))
        })
        .flatten();
    let against = match &before {
        Some(path) if path.is_dir() => format!("turn {}", turn - 1),
        Some(_) => format!("nothing (turn {}'s snapshot is missing)", turn - 1),
        None => "nothing (the first turn: every file is new)".to_string(),
    };
    let old = before
        .filter(|p| p.is_dir())
        .map(|p| files(&p))
        .unwrap_or_default();
    let new = files(&after);
    let mut paths: Vec<&String> = old.iter().chain(new.iter()).map(|(p, _)| p).collect();
    paths.sort();
    paths.dedup();
    let mut diffs = Vec::new();
    for path in paths.into_iter().take(DIFF_FILES) {
        let find =
            |set: &[(String, PathBuf)]| set.iter().find(|(p, _)| p == path).map(|(_, f)| f.clone());
        let (a, b) = (find(&old), find(&new));
        let text = |file: &Option<PathBuf>| -> Result<String, String> {
            match file {
                None => Ok(String::new()),
                Some(file) => {
                    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                    if size > DIFF_FILE_LIMIT {
                        return Err(format!("{size} bytes: too large to diff"));
                    }
                    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
                    String::from_utf8(bytes).map_err(|_| "binary: not diffed".to_string())
                }
            }
        };
        let (old_text, new_text) = match (text(&a), text(&b)) {
            (Ok(old_text), Ok(new_text)) => (old_text, new_text),
            (Err(why), _) | (_, Err(why)) => {
                diffs.push(FileDiff {
                    path: path.clone(),
                    status: why,
                    diff: String::new(),
                });
                continue;
            }
        };
        if a.is_some() && b.is_some() && old_text == new_text {
            continue;
        }
        let status = match (&a, &b) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "changed",
        };
        let diff = similar::TextDiff::from_lines(&old_text, &new_text)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        diffs.push(FileDiff {
            path: path.clone(),
            status: status.into(),
            diff,
        });
    }
    Ok((against, diffs))
}

/// Every file under `root` (not `.git`), as (relative path, full path), sorted.
fn files(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if entry.file_name() == ".git" || kind.is_symlink() {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push((relative.to_string_lossy().into_owned(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_path_leaving_the_results_directory_is_refused() {
        let base = Path::new("/r");
        assert!(inside(base, "../secret").is_err());
        assert!(inside(base, "/etc/passwd").is_err());
        assert_eq!(
            inside(base, "runs/x/events.jsonl"),
            Ok(PathBuf::from("/r/runs/x/events.jsonl"))
        );
    }

    #[test]
    fn a_swarm_transcript_splits_per_worker_and_a_broken_line_says_so() {
        let text = concat!(
            "{\"task\":\"t1\",\"stage\":\"build\",\"attempt\":1,\"node\":\"n1\"}\n",
            "{\"role\":\"user\",\"content\":\"do it\"}\n",
            "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"done\",\"arguments\":\"{}\"}}]}\n",
            "not json\n",
            "{\"task\":\"t2\",\"stage\":\"fix-1\",\"attempt\":2,\"node\":\"n2\"}\n",
            "{\"role\":\"user\",\"content\":\"fix\"}\n",
        );
        let split = conversations(text);
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].title, "t1 (build, attempt 1) on n1");
        assert_eq!(split[0].messages[1].calls, ["done({})"]);
        assert_eq!(split[0].messages[2].role, "unreadable");
        assert_eq!(split[1].title, "t2 (fix-1, attempt 2) on n2");
        assert_eq!(
            conversations("{\"role\":\"user\",\"content\":\"x\"}")[0].title,
            "agent"
        );
    }

    #[test]
    fn the_diff_is_against_the_previous_turn() {
        let dir = tempfile::tempdir().unwrap();
        let r1 = dir.path().join("r1");
        std::fs::create_dir_all(r1.join("turn1/project/.git")).unwrap();
        std::fs::create_dir_all(r1.join("turn2/project")).unwrap();
        std::fs::write(r1.join("turn1/project/app.py"), "a = 1\n").unwrap();
        std::fs::write(r1.join("turn1/project/same.py"), "x\n").unwrap();
        std::fs::write(r1.join("turn1/project/.git/HEAD"), "ref\n").unwrap();
        std::fs::write(r1.join("turn2/project/app.py"), "a = 2\n").unwrap();
        std::fs::write(r1.join("turn2/project/same.py"), "x\n").unwrap();
        std::fs::write(r1.join("turn2/project/new.py"), "n\n").unwrap();
        let (against, diffs) = project_diff(&r1.join("turn2"), 2).unwrap();
        assert_eq!(against, "turn 1");
        let listed: Vec<(&str, &str)> = diffs
            .iter()
            .map(|d| (d.path.as_str(), d.status.as_str()))
            .collect();
        assert_eq!(listed, [("app.py", "changed"), ("new.py", "added")]);
        assert!(diffs[0].diff.contains("-a = 1\n+a = 2"));
        let (first, all_new) = project_diff(&r1.join("turn1"), 1).unwrap();
        assert!(first.starts_with("nothing"));
        assert_eq!(all_new.len(), 2);
    }
}
