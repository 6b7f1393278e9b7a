//! A pids cgroup per sandboxed command: caps the number of processes (which holds for root,
//! unlike RLIMIT_NPROC) and lists every process the command started so all can be killed.
//! Uses cgroup v1's `pids` hierarchy, or a writable cgroup v2 directory with `pids` enabled.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where sandbox cgroups are created.
#[derive(Debug, Clone)]
pub struct CgroupRoot {
    dir: PathBuf,
}

/// One command's cgroup; removed after the command.
#[derive(Debug)]
pub struct Cgroup {
    dir: PathBuf,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl CgroupRoot {
    /// Finds a writable pids hierarchy, or `None`.
    pub fn detect() -> Option<CgroupRoot> {
        let candidates = [
            PathBuf::from("/sys/fs/cgroup/pids"),
            PathBuf::from("/sys/fs/cgroup"),
        ];
        candidates.into_iter().find_map(|base| {
            if !base.join("pids.max").exists() && !base.join("cgroup.procs").exists() {
                return None;
            }
            let dir = base.join("swarm-sandbox");
            std::fs::create_dir_all(&dir).ok()?;
            let usable = dir.join("pids.max").exists();
            if usable {
                sweep_stale(&dir);
                Some(CgroupRoot { dir })
            } else {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        })
    }

    /// A fresh cgroup capped at `max_processes`.
    pub fn create(&self, max_processes: u64) -> Option<Cgroup> {
        let id = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("{}-{id}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        std::fs::write(dir.join("pids.max"), max_processes.to_string()).ok()?;
        Some(Cgroup { dir })
    }
}

impl Cgroup {
    /// The file a process writes `0` to in order to join.
    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Kills every process in the cgroup, repeating while new ones appear (a fork bomb
    /// races the killer).
    pub fn kill_all(&self) {
        for _ in 0..50 {
            let pids = read_pids(&self.procs_file());
            if pids.is_empty() {
                return;
            }
            for pid in pids {
                // SAFETY: signalling processes of our own cgroup.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Removes the cgroup (after its processes are gone).
    pub fn remove(self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            self.kill_all();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Removes the cgroups a killed process left behind: a cgroup is named `OWNER-N` after the
/// process that made it, and one whose owner is gone is emptied (its processes were that
/// process's sandboxed commands) and removed. Returns how many were removed.
pub fn sweep_stale(root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .split_once('-')
            .and_then(|(owner, _)| owner.parse::<i32>().ok())
        else {
            continue;
        };
        if owner_alive(owner) {
            continue;
        }
        let group = Cgroup { dir: entry.path() };
        group.kill_all();
        if std::fs::remove_dir(&group.dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a process with this id exists (a reused id counts as alive: the group is then
/// left for a later sweep, never taken from a stranger).
fn owner_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn read_pids(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_a_dead_owner_are_swept_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        // pid_max is at most 2^22: this owner cannot exist.
        let dead = root.path().join("99999999-0");
        let live = root.path().join(format!("{}-3", std::process::id()));
        let foreign = root.path().join("not-ours");
        for dir in [&dead, &live, &foreign] {
            std::fs::create_dir(dir).unwrap();
        }
        assert_eq!(sweep_stale(root.path()), 1);
        assert!(!dead.exists());
        assert!(live.exists() && foreign.exists());
    }
}
