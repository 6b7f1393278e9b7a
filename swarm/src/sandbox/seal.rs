//! The sealed view bubblewrap builds for untrusted code: an empty root into which only what
//! running the app's language needs is mounted read-only (the system's `/usr` and its
//! merged-usr links, the dynamic linker's cache, the interpreter's own installation when it
//! lives elsewhere, e.g. pyenv under the user's home), the app directory read-write, a private
//! `/tmp` with an empty `HOME` inside it, a private `/dev` and a `/proc` of the sandbox's own
//! PID namespace. Nothing else of the host exists in there: not `/etc/shadow`, not the user's
//! home, not `/run` or `/var` where host services keep their Unix sockets, not `/sys`
//! (so no cgroup can be left).

use std::path::{Path, PathBuf};

/// The environment variable naming extra read-only paths (colon-separated) the sandbox shows,
/// for toolchains installed where discovery does not look.
pub const READ_ONLY_ENV: &str = "SWARM_SANDBOX_READ_ONLY";

/// `HOME` inside the sandbox: an empty directory on the private `/tmp`.
pub const SANDBOX_HOME: &str = "/tmp/home";

/// The system directories shown read-only (symlinks, as on merged-usr systems, are recreated
/// as links).
const SYSTEM_DIRS: [&str; 7] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// Files of `/etc` that programs need to start (the dynamic linker's cache, the alternatives
/// links Debian puts commands behind, the time zone); nothing that holds a secret.
const ETC_FILES: [&str; 6] = [
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/mime.types",
];

/// The system part of `PATH` inside the sandbox.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What the sealed sandbox mounts, decided once per process.
#[derive(Debug, Clone, Default)]
pub struct SealedView {
    /// Host paths mounted read-only at the same place.
    pub read_only: Vec<PathBuf>,
    /// Links recreated at the root: (target, link), e.g. ("usr/bin", "/bin").
    pub links: Vec<(String, String)>,
    /// `PATH` inside the sandbox: the toolchains' own `bin` directories, then the system's.
    pub path: String,
}

impl SealedView {
    /// Looks at this machine: the system directories, and the installations of the language
    /// toolchains found on `host_path` (the interpreter python3 reports, node's prefix, rustc's
    /// sysroot, the TypeScript compiler's cache) plus
    /// whatever [`READ_ONLY_ENV`] names.
    pub fn discover(host_path: &str, extra: Option<&str>) -> SealedView {
        let mut view = SealedView::default();
        for dir in SYSTEM_DIRS {
            let path = Path::new(dir);
            match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(path) {
                        view.links
                            .push((target.to_string_lossy().into_owned(), dir.to_string()));
                    }
                }
                Ok(meta) if meta.is_dir() => view.read_only.push(path.to_path_buf()),
                _ => {}
            }
        }
        for file in ETC_FILES {
            if Path::new(file).exists() {
                view.read_only.push(PathBuf::from(file));
            }
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let mut bin_dirs: Vec<PathBuf> = Vec::new();
        let mut add_root = |view: &mut SealedView, root: PathBuf, bin: Option<PathBuf>| {
            if !acceptable_root(&root, home.as_deref()) {
                return;
            }
            if !view.read_only.iter().any(|known| root.starts_with(known)) {
                view.read_only.push(root);
            }
            if let Some(bin) = bin.filter(|bin| bin.is_dir()) {
                if !bin_dirs.contains(&bin) {
                    bin_dirs.push(bin);
                }
            }
        };
        for (prefix, executable) in python_installations(host_path) {
            let bin = executable.parent().map(Path::to_path_buf);
            add_root(&mut view, prefix, bin);
        }
        // Rust: the toolchain's own sysroot (rustc, cargo, the standard library), never the
        // rustup proxies or `~/.cargo`; `CARGO_HOME` inside is the private, empty home's.
        if let Some(sysroot) = rust_sysroot(host_path) {
            let bin = sysroot.join("bin");
            add_root(&mut view, sysroot, Some(bin));
        }
        for tool in ["node"] {
            if let Some(real) = which(tool, host_path).and_then(|found| found.canonicalize().ok()) {
                let bin = real.parent().map(Path::to_path_buf);
                if let Some(prefix) = bin.as_deref().and_then(Path::parent) {
                    add_root(&mut view, prefix.to_path_buf(), bin.clone());
                }
            }
        }
        // TypeScript: the compiler and Node's types from the cache, read-only.
        if let Ok(typescript) = crate::toolchain::TypeScript::locate() {
            add_root(&mut view, typescript.root, None);
        }
        for extra in extra
            .unwrap_or_default()
            .split(':')
            .filter(|p| !p.is_empty())
        {
            let root = PathBuf::from(extra);
            if root.is_absolute() && root.exists() {
                let bin = root.join("bin");
                add_root(&mut view, root, Some(bin));
            }
        }
        let mut path: Vec<String> = bin_dirs
            .iter()
            .map(|dir| dir.to_string_lossy().into_owned())
            .collect();
        path.push(SYSTEM_PATH.to_string());
        view.path = path.join(":");
        view
    }

    /// bubblewrap's arguments for a command working in `dir` and also writing `writable`
    /// (all canonical).
    pub fn bwrap_args(&self, dir: &str, writable: &[String]) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| args.extend(items.iter().map(|s| s.to_string()));
        push(&[
            "--unshare-net",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            // Root outside stays uid 0 inside: without capabilities it can neither remount
            // the read-only views nor mount a host disk it creates a node for.
            "--cap-drop",
            "ALL",
            "--die-with-parent",
            "--new-session",
        ]);
        for root in &self.read_only {
            let root = root.to_string_lossy();
            push(&["--ro-bind", &root, &root]);
        }
        for (target, link) in &self.links {
            push(&["--symlink", target, link]);
        }
        push(&[
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--dir",
            SANDBOX_HOME,
            "--bind",
            dir,
            dir,
        ]);
        for other in writable {
            push(&["--bind", other, other]);
        }
        push(&[
            // The root itself (a tmpfs holding the mount points) is read-only too: only the app
            // and the private /tmp take writes.
            "--remount-ro",
            "/",
            "--chdir",
            dir,
            "--",
        ]);
        args
    }
}

/// A toolchain root is shown only if it is not the whole host, the user's home itself, or a
/// directory above that home (which would show every file in it).
fn acceptable_root(root: &Path, home: Option<&Path>) -> bool {
    if !root.is_absolute() || root.parent().is_none() {
        return false;
    }
    match home {
        Some(home) => !home.starts_with(root),
        None => true,
    }
}

/// `program` on `host_path`, as the shell would find it.
pub(crate) fn which(program: &str, host_path: &str) -> Option<PathBuf> {
    std::env::split_paths(host_path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Whether `program` is on this machine's `PATH`.
pub fn host_has(program: &str) -> bool {
    which(program, &std::env::var("PATH").unwrap_or_default()).is_some()
}

/// Where the host's python3 lives: (prefix to show, the real executable), for its base
/// installation and, when it runs in a virtual environment, that environment too. Asked of
/// the interpreter itself, since `python3` on `PATH` may be a shim (pyenv) that needs far more
/// of the host than the interpreter does.
fn python_installations(host_path: &str) -> Vec<(PathBuf, PathBuf)> {
    let Some(python) = which("python3", host_path) else {
        return Vec::new();
    };
    let output = std::process::Command::new(python)
        .args([
            "-c",
            "import sys; print(sys.base_prefix); print(sys.prefix); print(sys.executable)",
        ])
        .env("PATH", host_path)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let Some(output) = output.ok().filter(|o| o.status.success()) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let [base, prefix, executable] = lines.as_slice() else {
        return Vec::new();
    };
    let executable = PathBuf::from(executable);
    let mut found = vec![(PathBuf::from(base), executable.clone())];
    if prefix != base {
        found.push((PathBuf::from(prefix), executable));
    }
    found
}

/// The Rust toolchain `rustc` on `host_path` belongs to (its sysroot, holding `bin/cargo`),
/// when there is one with a cargo.
fn rust_sysroot(host_path: &str) -> Option<PathBuf> {
    let rustc = which("rustc", host_path)?;
    let output = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .env("PATH", host_path)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    (sysroot.is_absolute() && sysroot.join("bin/cargo").is_file()).then_some(sysroot)
}

/// Removes every symbolic link under `dir` whose target lies outside `dir` (absolute, or
/// climbing out with `..`), so nothing the sandboxed code planted can lead a host process
/// that later reads the app (graders, the agent's tools, the judge) to a host file. Returns
/// the removed links, relative to `dir`. Bounded: at most `limit` entries are looked at.
pub fn remove_escaping_links(dir: &Path, limit: usize) -> Vec<String> {
    let mut removed = Vec::new();
    for (relative, kind) in crate::fsutil::walk_files(dir, &|_| false, limit) {
        if !kind.is_symlink() {
            continue;
        }
        let path = dir.join(&relative);
        let Ok(target) = std::fs::read_link(&path) else {
            continue;
        };
        let parent = path.parent().unwrap_or(dir);
        if !stays_inside(dir, parent, &target) && std::fs::remove_file(&path).is_ok() {
            removed.push(relative);
        }
    }
    removed
}

/// Whether a link in `parent` with `target` stays under `root`, judged on the text of the
/// path (following nothing).
fn stays_inside(root: &Path, parent: &Path, target: &Path) -> bool {
    let joined = parent.join(target);
    normalise(&joined).is_some_and(|resolved| resolved.starts_with(root))
}

/// `path` with `.` and `..` folded lexically; `None` if it climbs above `/`.
fn normalise(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::RootDir => out.push("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(part) => out.push(part),
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_that_would_show_the_home_is_refused() {
        let home = Path::new("/home/alice");
        assert!(!acceptable_root(Path::new("/"), Some(home)));
        assert!(!acceptable_root(Path::new("/home"), Some(home)));
        assert!(!acceptable_root(Path::new("/home/alice"), Some(home)));
        assert!(acceptable_root(
            Path::new("/home/alice/.pyenv/versions/3.11.7"),
            Some(home)
        ));
        assert!(!acceptable_root(Path::new("relative"), Some(home)));
    }

    #[test]
    fn links_are_judged_by_where_they_lead() {
        let root = Path::new("/app");
        let sub = Path::new("/app/data");
        assert!(stays_inside(root, sub, Path::new("../main.py")));
        assert!(stays_inside(root, sub, Path::new("/app/x")));
        assert!(!stays_inside(root, sub, Path::new("../../etc/shadow")));
        assert!(!stays_inside(root, sub, Path::new("/etc/shadow")));
        assert!(!stays_inside(root, root, Path::new("../../../../../..")));
    }

    #[test]
    fn escaping_links_are_removed_and_inner_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("main.py"), "").unwrap();
        let link =
            |target: &str, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link("/etc/shadow", "shadow");
        link("../../outside", "sub/up");
        link("../main.py", "sub/main");
        link("main.py", "alias");
        let removed = remove_escaping_links(&root, 1000);
        assert_eq!(removed, vec!["shadow".to_string(), "sub/up".to_string()]);
        assert!(root.join("sub/main").symlink_metadata().is_ok());
        assert!(root.join("alias").symlink_metadata().is_ok());
    }
}
