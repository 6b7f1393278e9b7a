//! The child process of a sandboxed command: what it does between fork and exec (rlimits,
//! joining its pids cgroup), how its whole group is killed, and where bubblewrap is.

use super::{Limits, NO_BWRAP_ENV};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// What the child does between fork and exec, prepared in the parent so nothing allocates.
#[derive(Clone)]
pub(super) struct ChildSetup {
    /// (resource, limit); `None` leaves the resource as inherited.
    limits: [(libc::__rlimit_resource_t, Option<u64>); 4],
    cgroup_procs: Option<std::ffi::CString>,
}

impl ChildSetup {
    pub(super) fn new(limits: &Limits, cgroup_procs: Option<&Path>) -> Self {
        use std::os::unix::ffi::OsStrExt;
        // RLIMIT_NPROC counts every process the user owns, not just this command's: with a
        // pids cgroup it is not needed; without one the cap sits above what the user already
        // runs, so a busy desktop does not make every fork in the sandbox fail.
        let processes = match cgroup_procs {
            Some(_) => None,
            None => Some(user_process_count() + limits.max_processes),
        };
        ChildSetup {
            limits: [
                (libc::RLIMIT_CPU, Some(limits.cpu_seconds)),
                (libc::RLIMIT_AS, Some(limits.memory_bytes)),
                (libc::RLIMIT_NPROC, processes),
                (libc::RLIMIT_FSIZE, Some(limits.max_file_bytes)),
            ],
            cgroup_procs: cgroup_procs
                .and_then(|path| std::ffi::CString::new(path.as_os_str().as_bytes()).ok()),
        }
    }

    pub(super) fn apply(&self) -> std::io::Result<()> {
        // SAFETY: plain libc calls on values owned by self; async-signal-safe.
        unsafe {
            if let Some(procs) = &self.cgroup_procs {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                if fd >= 0 {
                    libc::write(fd, b"0\n".as_ptr().cast(), 2);
                    libc::close(fd);
                }
            }
            libc::setsid();
            for (resource, value) in self.limits {
                let Some(value) = value else { continue };
                let limit = libc::rlimit {
                    rlim_cur: value,
                    rlim_max: value,
                };
                libc::setrlimit(resource, &limit);
            }
        }
        Ok(())
    }
}

/// Processes owned by the effective user right now.
pub(super) fn user_process_count() -> u64 {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| {
                    entry
                        .file_name()
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .filter(|entry| entry.metadata().is_ok_and(|meta| meta.uid() == uid))
                .count() as u64
        })
        .unwrap_or(0)
}

pub(super) fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: signalling a process group we created; failure (already gone) is fine.
        unsafe {
            libc::killpg(pid, libc::SIGKILL);
        }
    }
}

pub(super) fn find_bwrap() -> Result<PathBuf, String> {
    if std::env::var(NO_BWRAP_ENV).is_ok_and(|v| v == "1") {
        return Err(format!("bubblewrap disabled by {NO_BWRAP_ENV}=1"));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(bwrap) = std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|candidate| candidate.is_file())
    else {
        return Err("bubblewrap (bwrap) is not installed: apt-get install bubblewrap".into());
    };
    // It can be installed yet unusable (no user namespaces in a container): try it.
    let works = std::process::Command::new(&bwrap)
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-net",
            "--unshare-pid",
            "--cap-drop",
            "ALL",
            "--",
            "true",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if works {
        Ok(bwrap)
    } else {
        Err(format!(
            "{} is installed but cannot create namespaces here",
            bwrap.display()
        ))
    }
}
