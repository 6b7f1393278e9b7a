//! The copies of a project the gates run in: a temporary copy each time, or, for a Rust app
//! with a build cache ([`VerifyOptions::rust_cache`]), the cache's kept copy.

use super::VerifyOptions;
use crate::fsutil::copy_tree;
use crate::spec::Spec;
use std::path::{Path, PathBuf};

/// The file that marks a directory as a Rust build cache.
const RUST_CACHE_MARKER: &str = "SWARM-RUST-CACHE";

/// Where a gate runs: a temporary copy of the project, or the kept copy of a Rust build cache
/// (see [`VerifyOptions::rust_cache`]).
pub(super) enum WorkCopy {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl WorkCopy {
    pub(super) fn path(&self) -> &Path {
        match self {
            WorkCopy::Temporary(dir) => dir.path(),
            WorkCopy::Kept(dir) => dir,
        }
    }

    /// cargo's build directory for this copy, when it is kept.
    pub(super) fn cargo_target(&self) -> Option<PathBuf> {
        match self {
            WorkCopy::Temporary(_) => None,
            WorkCopy::Kept(dir) => dir.parent().map(|cache| cache.join("target")),
        }
    }
}

/// The project copied afresh for a gate: into the Rust build cache's `app/` when there is
/// one (emptied first), else into a temporary directory.
pub(super) fn work_copy(
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
) -> Result<WorkCopy, std::io::Error> {
    let Some(cache) = options.rust_cache.as_deref() else {
        return Ok(WorkCopy::Temporary(fresh_copy(project, spec)?));
    };
    // `app/` is emptied before each copy: never in a directory this did not make.
    let marker = cache.join(RUST_CACHE_MARKER);
    if !marker.is_file() {
        let in_use = std::fs::read_dir(cache).is_ok_and(|mut entries| entries.next().is_some());
        if in_use {
            return Err(std::io::Error::other(format!(
                "{} is not empty and is not a Rust build cache; name a new or empty directory",
                cache.display()
            )));
        }
        std::fs::create_dir_all(cache)?;
        std::fs::write(&marker, "a Rust app's build cache kept by swarm verify\n")?;
    }
    let app = cache.join("app");
    if app.exists() {
        std::fs::remove_dir_all(&app)?;
    }
    copy_tree(project, &app)?;
    for fixture in &spec.fixtures {
        crate::fsutil::write_inside(&app, &fixture.path, fixture.content.as_bytes())?;
    }
    Ok(WorkCopy::Kept(app))
}

pub(super) fn fresh_copy(project: &Path, spec: &Spec) -> Result<tempfile::TempDir, std::io::Error> {
    let dir = tempfile::Builder::new().prefix("swarm-verify-").tempdir()?;
    copy_tree(project, dir.path())?;
    for fixture in &spec.fixtures {
        crate::fsutil::write_inside(dir.path(), &fixture.path, fixture.content.as_bytes())?;
    }
    Ok(dir)
}
