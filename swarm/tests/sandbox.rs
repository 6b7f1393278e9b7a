//! The sandbox's promises, proven by running hostile commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use swarm::sandbox::{Layer, Limits, Sandbox, SandboxCommand};

fn sandbox() -> &'static Sandbox {
    let sandbox = Sandbox::detect();
    let missing: Vec<_> = sandbox.missing_layers().iter().map(|m| m.layer).collect();
    assert!(
        missing.is_empty(),
        "these tests need every layer; missing: {:?} (install bubblewrap: apt-get install bubblewrap)",
        sandbox.missing_layers()
    );
    sandbox
}

fn quick(wall_secs: u64) -> Limits {
    Limits {
        wall: Duration::from_secs(wall_secs),
        ..Limits::default()
    }
}

#[tokio::test]
async fn reaching_the_network_fails() {
    // A listener on the host's loopback: outside the sandbox, connecting works.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); print('CONNECTED')\""
    );
    let outcome = sandbox()
        .run(&SandboxCommand::shell(script, dir.path()).with_limits(quick(20)))
        .await
        .unwrap();
    assert!(!outcome.success(), "connection should fail: {outcome:?}");
    assert!(!outcome.stdout.text().contains("CONNECTED"));
    assert!(
        listener.accept().is_err(),
        "the host listener must not have seen a connection"
    );
}

#[tokio::test]
async fn writing_outside_the_directory_fails_and_inside_works() {
    let work = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
    let target = elsewhere.path().join("escaped.txt");
    let script = format!(
        "echo in > inside.txt; echo out > {}; echo done",
        target.display()
    );
    let outcome = sandbox()
        .run(&SandboxCommand::shell(script, work.path()).with_limits(quick(20)))
        .await
        .unwrap();
    assert!(work.path().join("inside.txt").exists(), "{outcome:?}");
    assert!(
        !target.exists(),
        "a write outside the directory got through"
    );
    // The host is read-only inside the sandbox, and /tmp is a private tmpfs: a target under
    // /tmp does not even exist there.
    let refusal = outcome.stderr.text();
    assert!(
        refusal.contains("Read-only file system") || refusal.contains("nonexistent"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_build_cache_given_to_a_command_takes_writes_and_its_neighbours_do_not() {
    let work = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
    let cache = outside.path().join("cache/target");
    let beside = outside.path().join("cache/beside.txt");
    let script = format!(
        "echo built > \"$CARGO_TARGET_DIR/built.txt\"; echo out > {}; echo done",
        beside.display()
    );
    let command = SandboxCommand::shell(script, work.path())
        .with_limits(quick(20))
        .with_cargo_target(Some(&cache));
    let outcome = sandbox().run(&command).await.unwrap();
    assert!(cache.join("built.txt").is_file(), "{outcome:?}");
    assert!(!beside.exists(), "a write beside the cache got through");
    // A link the command left in the cache, pointing out of it, is removed afterwards.
    let command = SandboxCommand::shell(
        "ln -s /etc/passwd \"$CARGO_TARGET_DIR/passwd\"",
        work.path(),
    )
    .with_cargo_target(Some(&cache));
    let outcome = sandbox().run(&command).await.unwrap();
    assert!(
        std::fs::symlink_metadata(cache.join("passwd")).is_err(),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_at_the_wall_limit() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let outcome = sandbox()
        .run(&SandboxCommand::shell("while :; do :; done", dir.path()).with_limits(quick(2)))
        .await
        .unwrap();
    assert!(outcome.timed_out);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_fork_bomb_is_stopped_and_nothing_survives() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_processes: 64,
        ..quick(3)
    };
    let started = Instant::now();
    // Foreground recursion: the shell waits on an ever-growing tree of pipelines.
    let outcome = sandbox()
        .run(
            &SandboxCommand::shell("forkbomb() { forkbomb | forkbomb; }; forkbomb", dir.path())
                .with_limits(limits),
        )
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}: {outcome:?}",
        started.elapsed()
    );
    let after = std::process::Command::new("sh")
        .args(["-c", "ps -eo args | grep -c '[f]orkbomb'"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&after.stdout).trim(),
        "0",
        "fork bomb processes survived"
    );
}

#[tokio::test]
async fn the_process_cap_holds_even_for_root() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_processes: 32,
        ..quick(20)
    };
    // 100 sleepers at once against a cap of 32: the shell must fail to fork some of them.
    let script = "n=0; for i in $(seq 100); do sleep 2 & n=$((n+1)); done; echo started $n; wait";
    let outcome = sandbox()
        .run(&SandboxCommand::shell(script, dir.path()).with_limits(limits))
        .await
        .unwrap();
    let stderr = outcome.stderr.text();
    assert!(
        stderr.contains("fork") || stderr.contains("Resource temporarily unavailable"),
        "no fork failed under a cap of 32: {outcome:?}"
    );
}

#[tokio::test]
async fn a_huge_output_is_capped_with_its_size_reported() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = sandbox()
        .run(
            &SandboxCommand::shell("yes 0123456789 | head -c 50000000; echo END", dir.path())
                .with_limits(quick(30)),
        )
        .await
        .unwrap();
    assert!(outcome.success(), "{outcome:?}");
    assert_eq!(outcome.stdout.total_bytes, 50_000_004);
    assert!(outcome.stdout.truncated);
    assert!(outcome.stdout.head.len() <= Limits::default().output_head);
    assert!(outcome.stdout.tail.ends_with("END\n"));
}

#[tokio::test]
async fn a_child_that_outlives_its_parent_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    // The child sleeps past the parent's exit, then would write a file. Had the sandbox
    // waited for it, or left it running, the file would exist.
    let script = "(sleep 3; echo late > late.txt) & echo parent-exits";
    let outcome = sandbox()
        .run(&SandboxCommand::shell(script, dir.path()).with_limits(quick(30)))
        .await
        .unwrap();
    assert!(outcome.success(), "{outcome:?}");
    assert!(
        !dir.path().join("late.txt").exists(),
        "the sandbox waited for the orphan"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !dir.path().join("late.txt").exists(),
        "the orphan survived and wrote its file"
    );
}

#[tokio::test]
async fn api_keys_in_the_environment_do_not_reach_the_command() {
    std::env::set_var("SWARM_TEST_SECRET_KEY", "sk-should-not-leak");
    let dir = tempfile::tempdir().unwrap();
    let outcome = sandbox()
        .run(&SandboxCommand::shell("env", dir.path()).with_limits(quick(10)))
        .await
        .unwrap();
    assert!(!outcome.stdout.text().contains("sk-should-not-leak"));
    assert!(outcome.stdout.text().contains("HOME="));
}

#[test]
fn layers_have_stable_names() {
    assert_eq!(Layer::NoNetwork.to_string(), "no-network");
}
