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

/// Removes a worktree (its branch stays for the record).
pub async fn remove_worktree(repo: &Path, path: &Path) {
    let path_text = path.to_string_lossy().to_string();
    let _ = git(repo, &["worktree", "remove", "--force", &path_text]).await;
}
