//! File-tree helpers: copying a project for grading, and a stable hash of a tree.

use std::path::Path;

/// Directories never copied or hashed: version control and caches.
const SKIPPED: [&str; 6] = [
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".venv",
    "node_modules",
    ".swarm",
];

/// Copies the files under `from` into `to` (created), skipping VCS and cache directories,
/// cargo's build output (see [`is_cargo_target`]) and symlinks (a link could point anywhere).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if SKIPPED.contains(&name.to_string_lossy().as_ref())
            || kind.is_symlink()
            || (kind.is_dir() && is_cargo_target(&entry.path()))
        {
            continue;
        }
        let target = to.join(&name);
        if kind.is_dir() {
            copied += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Why `relative` cannot name a file inside an app: it is empty, absolute, or climbs out with
/// `..`. `None` when it is a plain relative path.
pub fn outside_path_reason(relative: &str) -> Option<&'static str> {
    let path = Path::new(relative);
    if relative.trim().is_empty() {
        Some("it is empty")
    } else if relative.contains('\0') {
        Some("it holds a NUL byte")
    } else if path.is_absolute() {
        Some("it is absolute")
    } else if path
        .components()
        .any(|part| matches!(part, std::path::Component::ParentDir))
    {
        Some("it climbs out with `..`")
    } else {
        None
    }
}

/// Writes `content` at `relative` under `root`, creating directories, but only if the path
/// stays inside `root`: it must be relative without `..`, and no part of it that already
/// exists may be a symbolic link (one could lead anywhere). Nothing is written otherwise.
pub fn write_inside(root: &Path, relative: &str, content: &[u8]) -> std::io::Result<()> {
    let refuse = |why: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{relative}` is not a path inside the app: {why}"),
        )
    };
    if let Some(why) = outside_path_reason(relative) {
        return Err(refuse(why));
    }
    let mut current = root.to_path_buf();
    for part in Path::new(relative).components() {
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(refuse(&format!(
                    "`{}` is a symbolic link",
                    current.strip_prefix(root).unwrap_or(&current).display()
                )))
            }
            _ => {}
        }
    }
    let target = root.join(relative);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(target, content)
}

/// A file written a whole line at a time, cut by a crash mid-line: moves whatever follows its
/// last newline to the end of `aside` (with a newline) and cuts it from `path`, so the next
/// append starts a line of its own and the fragment stays for inspection. Both files are
/// synced. Returns whether anything was cut; a missing file is not an error.
pub fn set_torn_tail_aside(path: &Path, aside: &Path) -> std::io::Result<bool> {
    use std::io::Write;
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err),
    };
    if bytes.is_empty() || bytes.last() == Some(&b'\n') {
        return Ok(false);
    }
    let cut = bytes
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |at| at + 1);
    let mut side = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(aside)?;
    side.write_all(&bytes[cut..])?;
    side.write_all(b"\n")?;
    side.sync_all()?;
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(cut as u64)?;
    file.sync_all()?;
    Ok(true)
}

/// A hex digest of every file's relative path and bytes under `dir`, in sorted order
/// (FNV-1a, 64 bits: for telling versions apart, not for security).
pub fn hash_tree(dir: &Path) -> String {
    let files = project_files(dir);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for relative in files {
        feed(relative.as_bytes());
        feed(&[0]);
        feed(&std::fs::read(dir.join(&relative)).unwrap_or_default());
        feed(&[0]);
    }
    format!("{hash:016x}")
}

/// Every entry under `dir` that is not a directory (regular files, symbolic links — never
/// followed — and the rest), as sorted paths relative to `dir` with their kind. Directories
/// whose name `skip_dir` accepts are not entered; the walk stops after about `limit` entries.
/// The one tree walker: the agent's listing and search, and every copy, hash and review of a
/// project go through it.
pub fn walk_files(
    dir: &Path,
    skip_dir: &dyn Fn(&str) -> bool,
    limit: usize,
) -> Vec<(String, std::fs::FileType)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !skip_dir(&name) {
                    stack.push(entry.path());
                }
            } else if let Ok(relative) = entry.path().strip_prefix(dir) {
                files.push((relative.to_string_lossy().into_owned(), kind));
            }
        }
        if files.len() > limit {
            break;
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// The regular files under `dir`, as sorted relative paths, skipping hidden directories
/// (VCS, virtual environments, caches), `__pycache__`, `node_modules` and cargo's build output.
pub fn project_files(dir: &Path) -> Vec<String> {
    let skip =
        |name: &str| name.starts_with('.') || name == "__pycache__" || name == "node_modules";
    let files: Vec<String> = walk_files(dir, &skip, usize::MAX)
        .into_iter()
        .filter(|(_, kind)| kind.is_file())
        .map(|(path, _)| path)
        .collect();
    let outputs: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let crate_dir = file.strip_suffix("Cargo.toml")?;
            (crate_dir.is_empty() || crate_dir.ends_with('/'))
                .then(|| format!("{crate_dir}target/"))
        })
        .collect();
    files
        .into_iter()
        .filter(|file| !outputs.iter().any(|output| file.starts_with(output)))
        .collect()
}

/// Whether `dir` is cargo's build output: a `target` directory beside a `Cargo.toml`. It is
/// never copied, hashed or graded: cargo decides from file times whether to rebuild, so a
/// copied `target/` newer than the copied sources runs a binary built from an earlier turn's
/// code (the current sources are never compiled).
pub fn is_cargo_target(dir: &Path) -> bool {
    dir.file_name().is_some_and(|name| name == "target")
        && dir
            .parent()
            .is_some_and(|parent| parent.join("Cargo.toml").is_file())
}

/// The text files under `dir` (see [`project_files`]) as (relative path, content); binary
/// files and files over `max_bytes` are left out.
pub fn text_files(dir: &Path, max_bytes: usize) -> Vec<(String, String)> {
    project_files(dir)
        .into_iter()
        .filter_map(|relative| {
            let bytes = std::fs::read(dir.join(&relative)).ok()?;
            if bytes.len() > max_bytes || bytes.contains(&0) {
                return None;
            }
            Some((relative, String::from_utf8(bytes).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod write_inside_tests {
    use super::*;

    #[test]
    fn writes_only_inside_and_never_through_a_link() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        write_inside(root.path(), "data/in.txt", b"ok").unwrap();
        assert_eq!(
            std::fs::read(root.path().join("data/in.txt")).unwrap(),
            b"ok"
        );
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        let err = write_inside(root.path(), "link/escaped.txt", b"boom").unwrap_err();
        assert!(
            err.to_string().contains("`link` is a symbolic link"),
            "{err}"
        );
        for bad in ["../x", "/tmp/x", "a/../../x", ""] {
            assert!(write_inside(root.path(), bad, b"boom").is_err(), "{bad}");
        }
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_build_output_is_never_copied_or_listed_but_a_folder_called_target_elsewhere_is() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        for file in [
            "Cargo.toml",
            "src/main.rs",
            "target/debug/answer",
            "tools/target/notes.txt",
            "sub/Cargo.toml",
            "sub/target/debug/sub",
        ] {
            write_inside(&app, file, b"x").unwrap();
        }
        assert_eq!(
            project_files(&app),
            [
                "Cargo.toml",
                "src/main.rs",
                "sub/Cargo.toml",
                "tools/target/notes.txt"
            ]
        );
        let copy = dir.path().join("copy");
        copy_tree(&app, &copy).unwrap();
        assert_eq!(project_files(&copy), project_files(&app));
        assert!(!copy.join("target").exists() && !copy.join("sub/target").exists());
        assert!(
            is_cargo_target(&app.join("target")) && !is_cargo_target(&app.join("tools/target"))
        );
    }
}
