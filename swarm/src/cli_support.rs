//! What every binary of the project does the same way at start-up.

/// Lets the process end quietly, as Unix tools do, when its reader goes away (`swarm knobs |
/// head -1`): Rust ignores SIGPIPE, so a write to a closed pipe would otherwise panic in
/// `println!`. With the default action restored the kernel simply ends the process.
pub fn quiet_on_broken_pipe() {
    // SAFETY: restoring a signal's default disposition at start-up, before any thread runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
