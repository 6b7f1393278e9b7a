//! Continuing a real app: a `continue-existing` task can start from the project of an earlier
//! turn that **passed its hidden checks** (from a results file), instead of start files the
//! brain invents. The generator shows the brain that project and writes it as the task's
//! `start/`; `tasks check` then proves the new checks fail on it, as for any task.

use crate::generate::DraftFile;
use crate::ResultRow;
use std::path::Path;

/// Most characters of a project shown to the brain.
const MOST_SHOWN: usize = 60_000;

/// A passed project and where it came from.
#[derive(Debug, Clone)]
pub struct PassedProject {
    /// Its text files.
    pub files: Vec<DraftFile>,
    /// The row it is the snapshot of (`origin.json` beside the task).
    pub origin: serde_json::Value,
}

/// The snapshot of row `number` of `results` (1-based, as `swarm-gym show` counts), or of the
/// newest row whose hidden checks passed when `number` is `None`. Refused, with the reason,
/// when that row did not pass, its snapshot is gone, or the project is too large to show.
pub fn passed_project(results: &Path, number: Option<usize>) -> Result<PassedProject, String> {
    let (rows, _) = crate::read_rows(results).map_err(|e| e.to_string())?;
    let base = results.parent().unwrap_or(Path::new("."));
    let snapshot = |row: &ResultRow| {
        row.grades_file(base)
            .and_then(|g| g.parent().map(|dir| dir.join("project")))
            .filter(|dir| dir.is_dir())
    };
    let (index, row) = match number {
        Some(n) => {
            let row = n
                .checked_sub(1)
                .and_then(|i| rows.get(i))
                .ok_or_else(|| format!("{} has no row {n} ({} rows)", results.display(), rows.len()))?;
            if !row.hidden_pass() {
                return Err(format!(
                    "row {n} ({} turn {}) did not pass its hidden checks ({}): only a project that passed can be continued",
                    row.task, row.turn, row.hidden_verdict
                ));
            }
            (n, row)
        }
        None => rows
            .iter()
            .enumerate()
            .rev()
            .find(|(_, row)| row.hidden_pass() && snapshot(row).is_some())
            .map(|(i, row)| (i + 1, row))
            .ok_or_else(|| {
                format!(
                    "{} holds no row that passed its hidden checks with its project still beside it",
                    results.display()
                )
            })?,
    };
    let dir = snapshot(row).ok_or_else(|| {
        format!(
            "row {index} ({} turn {}): its project snapshot is gone",
            row.task, row.turn
        )
    })?;
    let files: Vec<DraftFile> = crate::fsutil::text_files(&dir, 200_000)
        .into_iter()
        .map(|(path, content)| DraftFile { path, content })
        .collect();
    let size: usize = files.iter().map(|f| f.content.len()).sum();
    if files.is_empty() || size > MOST_SHOWN {
        return Err(format!(
            "row {index}'s project has {} text file(s), {size} characters: a continued app must have some and fewer than {MOST_SHOWN}",
            files.len()
        ));
    }
    Ok(PassedProject {
        files,
        origin: serde_json::json!({
            "results": results.display().to_string(),
            "row": index,
            "run_id": row.run_id,
            "suite": row.suite,
            "task": row.task,
            "turn": row.turn,
            "replicate": row.replicate,
            "builder_model": row.builder_model,
            "hidden_verdict": row.hidden_verdict,
        }),
    })
}

/// The files as the prompt shows them.
pub fn show_files(files: &[DraftFile]) -> String {
    files
        .iter()
        .map(|f| format!("--- {}\n{}\n", f.path, f.content))
        .collect()
}
