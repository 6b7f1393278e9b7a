//! Git through the command line: the output directory is a repository, each task works in
//! its own worktree on its own branch, and finished work is merged into main.

use std::path::Path;
use tokio::process::Command;

/// A git command that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("git {args}: {message}")]
pub struct GitError {
    /// The arguments.
    pub args: String,
    /// stderr, or why it could not start.
    pub message: String,
}

/// Runs `git ARGS` in `dir` with a fixed identity; returns stdout.
pub async fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=swarm",
            "-c",
            "user.email=swarm@localhost",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .await
        .map_err(|err| GitError {
            args: args.join(" "),
            message: format!("cannot run git (is it installed?): {err}"),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(GitError {
            args: args.join(" "),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// Makes `dir` a repository on branch `main` (if it is not one), ignoring caches and the
/// swarm's own directory, with everything already there committed.
pub async fn init(dir: &Path) -> Result<(), GitError> {
    std::fs::create_dir_all(dir).map_err(|err| GitError {
        args: "init".into(),
        message: err.to_string(),
    })?;
    if !dir.join(".git").exists() {
        git(dir, &["init", "-q", "-b", "main"]).await?;
    }
    let ignore = dir.join(".gitignore");
    let current = std::fs::read_to_string(&ignore).unwrap_or_default();
    let mut text = current.clone();
    for line in [".swarm/", "__pycache__/", "*.pyc", ".pytest_cache/"] {
        if !current.lines().any(|l| l.trim() == line) {
            text.push_str(line);
            text.push('\n');
        }
    }
    if text != current {
        std::fs::write(&ignore, text).map_err(|err| GitError {
            args: "write .gitignore".into(),
            message: err.to_string(),
        })?;
    }
    commit_all(dir, "swarm: project as found").await?;
    Ok(())
}

/// Commits everything not ignored; no-op when nothing changed. Returns HEAD.
pub async fn commit_all(dir: &Path, message: &str) -> Result<String, GitError> {
    git(dir, &["add", "-A"]).await?;
    if !git(dir, &["status", "--porcelain"]).await?.is_empty()
        || git(dir, &["rev-parse", "-q", "--verify", "HEAD"])
            .await
            .is_err()
    {
        git(dir, &["commit", "-q", "--allow-empty", "-m", message]).await?;
    }
    head(dir).await
}

/// The commit HEAD points at.
pub async fn head(dir: &Path) -> Result<String, GitError> {
    git(dir, &["rev-parse", "HEAD"]).await
}

/// A worktree at `path` on a new branch `branch` from the current branch's HEAD, where merges
/// land (reused if it exists).
pub async fn worktree(repo: &Path, path: &Path, branch: &str) -> Result<(), GitError> {
    if path.join(".git").exists() {
        return Ok(());
    }
    let path_text = path.to_string_lossy().to_string();
    // A branch left by a killed run is reset to HEAD.
    git(repo, &["worktree", "prune"]).await?;
    git(
        repo,
        &["worktree", "add", "-q", "-B", branch, &path_text, "HEAD"],
    )
    .await?;
    Ok(())
}

/// Commits `files` (those that exist) in the worktree; returns whether anything was committed.
pub async fn commit_files(
    worktree: &Path,
    files: &[String],
    message: &str,
) -> Result<bool, GitError> {
    let existing: Vec<&str> = files
        .iter()
        .filter(|f| worktree.join(f).exists())
        .map(String::as_str)
        .collect();
    if existing.is_empty() {
        return Ok(false);
    }
    let mut args = vec!["add", "--"];
    args.extend(existing);
    git(worktree, &args).await?;
    if git(worktree, &["diff", "--cached", "--quiet"])
        .await
        .is_ok()
    {
        return Ok(false);
    }
    git(worktree, &["commit", "-q", "-m", message]).await?;
    Ok(true)
}

/// Merges `branch` into main (in `repo`); returns the new HEAD. A conflict is aborted.
pub async fn merge(repo: &Path, branch: &str, message: &str) -> Result<String, GitError> {
    if let Err(err) = git(repo, &["merge", "-q", "--no-ff", "-m", message, branch]).await {
        let _ = git(repo, &["merge", "--abort"]).await;
        return Err(err);
    }
    head(repo).await
}

/// The trailer lines a merge commit carries so that git itself says which run, stage and task
/// it merged (resume reads them back: git is the truth for what merged).
pub fn merge_trailers(run_id: &str, stage: &str, task: &str) -> String {
    format!("\n\nSwarm-Run: {run_id}\nSwarm-Stage: {stage}\nSwarm-Task: {task}")
}

/// One merge commit of a run, as git records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMerge {
    /// build or fix-N.
    pub stage: String,
    /// The task merged.
    pub task: String,
    /// The merge commit.
    pub commit: String,
}

/// The merges of run `run_id` on the current branch's first-parent history, oldest first
/// (none when the repository has no commit yet).
pub async fn merges_of_run(repo: &Path, run_id: &str) -> Result<Vec<RunMerge>, GitError> {
    if git(repo, &["rev-parse", "-q", "--verify", "HEAD"])
        .await
        .is_err()
    {
        return Ok(Vec::new());
    }
    let log = git(
        repo,
        &[
            "log",
            "--first-parent",
            "--merges",
            "--reverse",
            "--format=%H%x1f%B%x1e",
            "HEAD",
        ],
    )
    .await?;
    Ok(log
        .split('\x1e')
        .filter_map(|entry| {
            let (commit, body) = entry.trim().split_once('\x1f')?;
            let trailer = |key: &str| {
                body.lines()
                    .find_map(|line| line.strip_prefix(key))
                    .map(|value| value.trim().to_string())
            };
            (trailer("Swarm-Run:")? == run_id).then_some(())?;
            Some(RunMerge {
                stage: trailer("Swarm-Stage:")?,
                task: trailer("Swarm-Task:")?,
                commit: commit.trim().to_string(),
            })
        })
        .collect())
}

/// Whether `commit` is in the history of HEAD.
pub async fn is_ancestor(repo: &Path, commit: &str) -> bool {
    !commit.is_empty()
        && git(repo, &["merge-base", "--is-ancestor", commit, "HEAD"])
            .await
            .is_ok()
}

/// Undoes what a kill in the middle of a git command leaves: a stale `index.lock` (no other
/// process uses the run's repository) and a merge that never finished.
pub async fn recover_interrupted(repo: &Path) -> Result<(), GitError> {
    let git_dir = repo.join(".git");
    let lock = git_dir.join("index.lock");
    if lock.exists() {
        std::fs::remove_file(&lock).map_err(|err| GitError {
            args: "remove index.lock".into(),
            message: err.to_string(),
        })?;
    }
    if git_dir.join("MERGE_HEAD").exists() {
        git(repo, &["merge", "--abort"]).await?;
    }
    Ok(())
}

/// Removes a worktree (its branch stays for the record).
pub async fn remove_worktree(repo: &Path, path: &Path) {
    let path_text = path.to_string_lossy().to_string();
    let _ = git(repo, &["worktree", "remove", "--force", &path_text]).await;
}
