//! swarm-gym's command line: commands whose issue has not landed refuse with exit 2 and
//! print no result; `tasks check` proves suites and rejects malformed tasks clearly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn every_command_says_not_available_yet_and_exits_2() {
    for command in ["nightly", "generate", "tune"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
            .arg(command)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert!(output.stdout.is_empty(), "{command} printed to stdout");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("not available yet"), "{command}: {stderr}");
    }
}

#[test]
fn help_lists_the_commands() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "tasks", "run", "show", "study", "nightly", "report", "generate", "tune",
    ] {
        assert!(help.contains(command), "{help}");
    }
}
