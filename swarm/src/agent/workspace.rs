//! The agent's workspace: every path a model names resolves inside one root. `..` that
//! climbs out, absolute paths and symlinks that point outside are refused with a message the
//! model can act on. An optional set of owned files limits where it may write.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// Why a path was refused; the text goes back to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PathRefused(pub String);

/// A directory the agent works in.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    owned: Option<BTreeSet<String>>,
}

/// Whether the path will be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read or list.
    Read,
    /// Create, overwrite or edit.
    Write,
}

impl Workspace {
    /// A workspace rooted at `root` (which must exist).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(Workspace {
            root: root.canonicalize()?,
            owned: None,
        })
    }

    /// Restricts writes to these relative paths (a path ending in `/` owns a directory).
    pub fn with_owned_files(mut self, owned: impl IntoIterator<Item = String>) -> Self {
        self.owned = Some(
            owned
                .into_iter()
                .map(|p| p.trim_start_matches("./").to_string())
                .collect(),
        );
        self
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The owned files, when restricted.
    pub fn owned(&self) -> Option<&BTreeSet<String>> {
        self.owned.as_ref()
    }

    /// Resolves a model-given path to (absolute path, normalised relative path).
    pub fn resolve(&self, given: &str, access: Access) -> Result<(PathBuf, String), PathRefused> {
        let given = given.trim();
        if given.is_empty() {
            return Err(PathRefused(
                "the path is empty; give a path relative to the workspace root, e.g. src/main.py"
                    .into(),
            ));
        }
        if Path::new(given).is_absolute() {
            return Err(PathRefused(format!(
                "absolute paths are not allowed ({given}); use a path relative to the workspace root, e.g. {}",
                given.trim_start_matches('/').rsplit('/').next().unwrap_or("main.py")
            )));
        }
        let mut parts: Vec<String> = Vec::new();
        for component in Path::new(given).components() {
            match component {
                Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(PathRefused(format!(
                            "{given} climbs out of the workspace with `..`; every file you may touch is inside it: use list_files to see them"
                        )));
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(PathRefused(format!("{given} is not a relative path")));
                }
            }
        }
        let relative = parts.join("/");
        let full = self.root.join(&relative);
        self.check_symlinks(&full, given)?;
        if access == Access::Write {
            if relative.is_empty() {
                return Err(PathRefused(
                    "cannot write to the workspace root itself; name a file".into(),
                ));
            }
            if let Some(owned) = &self.owned {
                let allowed = owned.contains(&relative)
                    || owned
                        .iter()
                        .any(|dir| dir.ends_with('/') && relative.starts_with(dir.as_str()));
                if !allowed {
                    let list: Vec<&str> = owned.iter().map(String::as_str).collect();
                    return Err(PathRefused(format!(
                        "you may not write {relative}: this task owns only {}. Write your code there; other files belong to other tasks",
                        list.join(", ")
                    )));
                }
            }
        }
        Ok((full, relative))
    }

    /// The deepest existing ancestor (or the path itself) must resolve inside the root, so a
    /// symlink cannot lead a read or a write outside.
    fn check_symlinks(&self, full: &Path, given: &str) -> Result<(), PathRefused> {
        let mut probe = full.to_path_buf();
        loop {
            if probe.symlink_metadata().is_ok() {
                let real = probe.canonicalize().map_err(|_| {
                    PathRefused(format!(
                        "{given} goes through a broken symlink; pick another path"
                    ))
                })?;
                if !real.starts_with(&self.root) {
                    return Err(PathRefused(format!(
                        "{given} leads outside the workspace through a symlink; only files inside it can be used"
                    )));
                }
                return Ok(());
            }
            if !probe.pop() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn inside_paths_resolve_and_escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = Workspace::new(dir.path()).unwrap();
        let (_, relative) = workspace.resolve("./src/../app.py", Access::Write).unwrap();
        assert_eq!(relative, "app.py");
        assert!(workspace
            .resolve("../x", Access::Read)
            .unwrap_err()
            .0
            .contains("climbs out"));
        assert!(workspace
            .resolve("/etc/passwd", Access::Read)
            .unwrap_err()
            .0
            .contains("absolute"));
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let workspace = Workspace::new(dir.path()).unwrap();
        let err = workspace
            .resolve("link/new.txt", Access::Write)
            .unwrap_err();
        assert!(err.0.contains("symlink"), "{err}");
    }

    #[test]
    fn owned_files_limit_writes_not_reads() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = Workspace::new(dir.path())
            .unwrap()
            .with_owned_files(["app.py".to_string(), "pkg/".to_string()]);
        assert!(workspace.resolve("app.py", Access::Write).is_ok());
        assert!(workspace.resolve("pkg/util.py", Access::Write).is_ok());
        let err = workspace.resolve("other.py", Access::Write).unwrap_err();
        assert!(err.0.contains("owns only app.py, pkg/"), "{err}");
        assert!(workspace.resolve("other.py", Access::Read).is_ok());
    }
}
