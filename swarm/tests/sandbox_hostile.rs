//! Hostile apps against the sealed sandbox: each test is one attempt an app could make (write
//! outside, read secrets, reach the host over TCP or a Unix socket, read another process's
//! environment, exhaust processes or memory, never end, leave a daemon, plant a link, leave
//! the cgroup) and asserts it was contained, printing `CONTAINED: <attempt>` when it was.
//! The last tests take bubblewrap away: the run is refused, naming what would be missing,
//! unless unsealed runs were accepted explicitly; and no secret reaches the code either way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use swarm::sandbox::{
    Layer, Limits, Sandbox, SandboxCommand, SandboxError, SandboxOutcome, SANDBOX_HOME,
};

fn sealed() -> &'static Sandbox {
    let sandbox = Sandbox::detect();
    assert!(
        sandbox.is_sealed() && sandbox.missing_layers().is_empty(),
        "these tests need every layer (install bubblewrap: apt-get install bubblewrap); missing: {:?}",
        sandbox.missing_layers()
    );
    sandbox
}

fn limits(wall_secs: u64) -> Limits {
    Limits {
        wall: Duration::from_secs(wall_secs),
        ..Limits::default()
    }
}

/// Runs a Python program as the app in `dir`.
async fn python(sandbox: &Sandbox, dir: &Path, program: &str, wall_secs: u64) -> SandboxOutcome {
    std::fs::write(dir.join("hostile.py"), program).unwrap();
    // The absolute path puts the app's directory in every process's command line, so a
    // survivor of this test (and of no other) can be found.
    let script = dir.canonicalize().unwrap().join("hostile.py");
    let command = SandboxCommand {
        program: "python3".into(),
        args: vec![script.display().to_string()],
        dir: dir.to_path_buf(),
        writable: Vec::new(),
        env: Vec::new(),
        stdin: Vec::new(),
        limits: limits(wall_secs),
    };
    sandbox.run(&command).await.unwrap()
}

fn contained(attempt: &str) {
    eprintln!("CONTAINED: {attempt}");
}

/// Every process whose command line holds `marker` (a survivor check).
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(marker) && !text.contains("sandbox_hostile") {
                found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// A directory outside the app, on the host, holding `secret.txt`.
fn host_secret(content: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, content).unwrap();
    (dir, file)
}

#[tokio::test]
async fn writing_outside_the_app_is_contained() {
    let app = tempfile::tempdir().unwrap();
    let (outside, _) = host_secret("x");
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let targets = [
        outside.path().join("planted.txt"),
        PathBuf::from(&home).join(".swarm-hostile-planted"),
        PathBuf::from("/usr/swarm-hostile-planted"),
    ];
    let program = format!(
        "targets = {:?}\nfor t in targets:\n    try:\n        open(t, 'w').write('x')\n        print('WROTE', t)\n    except OSError as e:\n        print('REFUSED', t, e)\nopen('inside.txt', 'w').write('ok')\n",
        targets.iter().map(|t| t.display().to_string()).collect::<Vec<_>>()
    );
    let outcome = python(sealed(), app.path(), &program, 20).await;
    assert!(app.path().join("inside.txt").exists(), "{outcome:?}");
    for target in &targets {
        assert!(
            !target.exists(),
            "{} was written: {outcome:?}",
            target.display()
        );
    }
    assert!(!outcome.stdout.text().contains("WROTE"), "{outcome:?}");
    contained("write outside the app (another host directory, the host home, /usr)");
}

#[tokio::test]
async fn reading_host_secrets_is_contained() {
    let app = tempfile::tempdir().unwrap();
    let (_dir, secret) = host_secret("swarm-hostile-secret-4711");
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let program = format!(
        r#"import os
for path in ["/etc/shadow", {secret:?}, os.path.join({home:?}, ".ssh", "id_rsa"), os.path.join({home:?}, ".ssh", "id_ed25519")]:
    try:
        print("READ", path, open(path).read()[:40])
    except OSError as e:
        print("REFUSED", path, type(e).__name__)
for path in [{home:?}, os.path.join({home:?}, ".ssh"), "/run", "/var", "/sys", "/etc"]:
    try:
        print("LISTED", path, sorted(os.listdir(path)))
    except OSError as e:
        print("REFUSED", path, type(e).__name__)
print("HOME", os.environ.get("HOME"), sorted(os.listdir(os.environ["HOME"])))
"#,
        secret = secret.display().to_string(),
    );
    let outcome = python(sealed(), app.path(), &program, 20).await;
    let stdout = outcome.stdout.text();
    assert!(outcome.success(), "{outcome:?}");
    assert!(!stdout.contains("READ "), "a host file was read: {stdout}");
    assert!(!stdout.contains("swarm-hostile-secret"), "{stdout}");
    for line in stdout.lines().filter(|l| l.starts_with("LISTED")) {
        // Only the path down to the toolchain may show (e.g. /root holding .pyenv), and
        // /etc only its few loader files: never the home's own files.
        assert!(
            !line.contains(".ssh") && !line.contains("shadow") && !line.contains("passwd"),
            "{line}"
        );
    }
    assert!(
        stdout.contains(&format!("HOME {SANDBOX_HOME} []")),
        "HOME must be empty: {stdout}"
    );
    contained("read /etc/shadow, ~/.ssh and a host secret file; list the home, /run, /var, /sys");
}

#[tokio::test]
async fn tcp_to_the_host_is_contained() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = tempfile::tempdir().unwrap();
    let program = format!(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    print('CONNECTED')\nexcept OSError as e:\n    print('REFUSED', e)\n"
    );
    let outcome = python(sealed(), app.path(), &program, 20).await;
    assert!(outcome.stdout.text().contains("REFUSED"), "{outcome:?}");
    assert!(
        listener.accept().is_err(),
        "the host listener saw a connection"
    );
    contained("connect over TCP to a host service on 127.0.0.1");
}

#[tokio::test]
async fn a_host_unix_socket_is_contained() {
    // A host service's socket file under /var/tmp, where the adversarial test found one.
    let holder = tempfile::tempdir_in("/var/tmp").unwrap();
    let path = holder.path().join("service.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    // An abstract socket too: those live in the network namespace, not the file system.
    let app = tempfile::tempdir().unwrap();
    let program = format!(
        r#"import socket
for address in [{path:?}, "/var/run/docker.sock", "/run/dbus/system_bus_socket"]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(address)
        print("CONNECTED", address)
    except OSError as e:
        print("REFUSED", address, type(e).__name__)
"#,
        path = path.display().to_string()
    );
    let outcome = python(sealed(), app.path(), &program, 20).await;
    let stdout = outcome.stdout.text();
    assert!(!stdout.contains("CONNECTED"), "{stdout}");
    assert_eq!(stdout.matches("REFUSED").count(), 3, "{outcome:?}");
    assert!(
        listener.accept().is_err(),
        "the host socket saw a connection"
    );
    contained("connect to a host Unix socket (a service's socket file, docker, dbus)");
}

#[tokio::test]
async fn another_processes_environment_is_contained() {
    let marker = format!("swarm-hostile-environ-{}", std::process::id());
    let mut holder = std::process::Command::new("sleep")
        .arg("30")
        .env("OPENAI_API_KEY", &marker)
        .spawn()
        .unwrap();
    let app = tempfile::tempdir().unwrap();
    let program = format!(
        r#"import os
seen = 0
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            data = open("/proc/%s/environ" % pid, "rb").read()
            seen += 1
            if {marker:?}.encode() in data:
                print("FOUND", pid)
        except OSError:
            pass
print("READABLE", seen)
try:
    print("PARENT", open("/proc/%d/environ" % os.getppid(), "rb").read()[:80])
except OSError as e:
    print("REFUSED parent", type(e).__name__)
"#
    );
    let outcome = python(sealed(), app.path(), &program, 20).await;
    holder.kill().unwrap();
    holder.wait().unwrap();
    let stdout = outcome.stdout.text();
    assert!(!stdout.contains("FOUND"), "{stdout}");
    assert!(!stdout.contains(&marker), "{stdout}");
    // The scan itself worked: it read its own environment.
    assert!(!stdout.contains("READABLE 0"), "{outcome:?}");
    contained("read another process's /proc/PID/environ (an API key)");
}

#[tokio::test]
async fn a_fork_loop_is_contained() {
    let app = tempfile::tempdir().unwrap();
    let program = "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n";
    let started = Instant::now();
    let outcome = python(sealed(), app.path(), program, 3).await;
    assert!(started.elapsed() < Duration::from_secs(30), "{outcome:?}");
    assert!(outcome.timed_out || !outcome.success(), "{outcome:?}");
    std::thread::sleep(Duration::from_millis(500));
    let survivors = processes_with(&app.path().canonicalize().unwrap().display().to_string());
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    contained("fork loop (stopped at the process cap and the wall limit; nothing survives)");
}

#[tokio::test]
async fn eight_gibibytes_are_contained() {
    let app = tempfile::tempdir().unwrap();
    let program = "try:\n    block = bytearray(8 << 30)\n    print('ALLOCATED', len(block))\nexcept MemoryError:\n    print('REFUSED MemoryError')\n";
    let outcome = python(sealed(), app.path(), program, 30).await;
    assert!(!outcome.stdout.text().contains("ALLOCATED"), "{outcome:?}");
    contained("allocate 8 GiB (the address-space limit refuses it)");
}

#[tokio::test]
async fn sleeping_forever_is_contained() {
    let app = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let outcome = python(sealed(), app.path(), "import time\ntime.sleep(10**6)\n", 2).await;
    assert!(outcome.timed_out, "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "{outcome:?}");
    contained("sleep forever (killed at the wall limit)");
}

/// A daemon: double fork, `setsid`, optional extra escape, then a file written later.
fn daemon_program(escape: &str, late_file: &str) -> String {
    format!(
        r#"import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
{escape}
        time.sleep(2)
        open({late_file:?}, "w").write("survived")
        os._exit(0)
    os._exit(0)
print("parent exits")
"#
    )
}

async fn assert_daemon_dies(escape: &str, attempt: &str) {
    let app = tempfile::tempdir().unwrap();
    let late = app.path().join("late.txt");
    let program = daemon_program(escape, &late.display().to_string());
    let outcome = python(sealed(), app.path(), &program, 20).await;
    assert!(outcome.success(), "{outcome:?}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !late.exists(),
        "the daemon survived the run and wrote its file"
    );
    let survivors = processes_with(&app.path().canonicalize().unwrap().display().to_string());
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    contained(attempt);
}

#[tokio::test]
async fn a_daemon_that_outlives_the_run_is_contained() {
    assert_daemon_dies("        pass", "a setsid daemon that outlives the run").await;
}

#[tokio::test]
async fn a_daemon_leaving_the_cgroup_is_contained() {
    let escape = r#"        for procs in ["/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cgroup.procs"]:
            try:
                open(procs, "w").write(str(os.getpid()))
            except OSError:
                pass"#;
    assert_daemon_dies(escape, "a daemon that moves itself out of the pids cgroup").await;
}

#[tokio::test]
async fn a_link_planted_at_run_time_is_contained() {
    let app = tempfile::tempdir().unwrap();
    let (_dir, secret) = host_secret("swarm-hostile-linked-secret");
    let program = format!(
        r#"import os
os.symlink("/etc/shadow", "shadow")
os.symlink({secret:?}, "secret")
os.makedirs("data", exist_ok=True)
os.symlink("../../../../../../../../etc", "data/etc")
os.symlink("hostile.py", "alias.py")
for link in ["shadow", "secret", "data/etc/shadow"]:
    try:
        print("READ", link, open(link).read()[:40])
    except OSError as e:
        print("REFUSED", link, type(e).__name__)
"#,
        secret = secret.display().to_string()
    );
    let outcome = python(sealed(), app.path(), &program, 20).await;
    let stdout = outcome.stdout.text();
    assert!(!stdout.contains("READ"), "{stdout}");
    assert_eq!(
        outcome.removed_links,
        vec!["data/etc", "secret", "shadow"],
        "{outcome:?}"
    );
    // After the run the host can read the app without following any of them.
    for link in ["shadow", "secret", "data/etc"] {
        assert!(
            app.path().join(link).symlink_metadata().is_err(),
            "{link} left"
        );
    }
    assert!(app.path().join("alias.py").symlink_metadata().is_ok());
    contained(
        "a symlink planted at run time that points outside (unreadable inside; removed after)",
    );
}

#[tokio::test]
async fn secret_variables_never_enter_the_sandbox() {
    let app = tempfile::tempdir().unwrap();
    let command = SandboxCommand {
        program: "sh".into(),
        args: vec!["-c".into(), "env".into()],
        dir: app.path().to_path_buf(),
        writable: Vec::new(),
        env: vec![
            ("OPENAI_API_KEY".into(), "sk-passed-explicitly".into()),
            ("GITHUB_TOKEN".into(), "ghp-passed-explicitly".into()),
            ("APP_MODE".into(), "test".into()),
        ],
        stdin: Vec::new(),
        limits: limits(10),
    };
    let outcome = sealed().run(&command).await.unwrap();
    let env = outcome.stdout.text();
    assert!(!env.contains("passed-explicitly"), "{env}");
    assert!(env.contains("APP_MODE=test"), "{env}");
    contained("secrets passed as variables (dropped by name)");
}

/// Every attempt above in a few lines, for the machine without bubblewrap.
const ATTEMPTS: &[(&str, &str)] = &[
    ("write outside the app", "open('/usr/planted', 'w').write('x')"),
    ("read /etc/shadow and ~/.ssh", "import os; print(open('/etc/shadow').read(), os.listdir(os.path.expanduser('~/.ssh')))"),
    ("connect over TCP", "import socket; socket.create_connection(('127.0.0.1', 22), timeout=2)"),
    ("connect to a host Unix socket", "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/dbus/system_bus_socket')"),
    ("read another process's environ", "print(open('/proc/1/environ', 'rb').read())"),
    ("fork loop", "import os\nwhile True: os.fork()"),
    ("allocate 8 GiB", "block = bytearray(8 << 30)"),
    ("sleep forever", "import time; time.sleep(10**6)"),
    ("leave a daemon", "import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(600)"),
    ("plant a link outside", "import os; os.symlink('/etc/shadow', 'shadow')"),
    ("leave the pids cgroup", "import os; open('/sys/fs/cgroup/pids/cgroup.procs', 'w').write(str(os.getpid()))"),
];

#[tokio::test]
async fn without_bubblewrap_every_attempt_is_refused_naming_what_is_missing() {
    let unsealed = Sandbox::without_bubblewrap();
    for (attempt, program) in ATTEMPTS {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(app.path().join("hostile.py"), program).unwrap();
        let command = SandboxCommand {
            program: "python3".into(),
            args: vec!["hostile.py".into()],
            dir: app.path().to_path_buf(),
            writable: Vec::new(),
            env: Vec::new(),
            stdin: Vec::new(),
            limits: limits(5),
        };
        let err = unsealed.run(&command).await.unwrap_err();
        assert!(
            matches!(err, SandboxError::Unsealed { .. }),
            "{attempt}: {err}"
        );
        let message = err.to_string();
        for named in [
            "no-network",
            "write-confinement",
            "host-files-hidden",
            "host-processes-hidden",
            "environ",
            "sandbox.allow_unsealed=true",
            "apt-get install bubblewrap",
        ] {
            assert!(
                message.contains(named),
                "{attempt}: `{named}` missing from: {message}"
            );
        }
        assert!(
            app.path().read_dir().unwrap().count() == 1,
            "{attempt}: something ran"
        );
        eprintln!("REFUSED (no bubblewrap, not accepted): {attempt}");
    }
    let layers: Vec<Layer> = unsealed.missing_layers().iter().map(|m| m.layer).collect();
    assert!(layers.contains(&Layer::HostProcesses), "{layers:?}");
    assert!(unsealed
        .unsealed_note()
        .unwrap()
        .starts_with("unsealed (missing: no-network"));
}

#[tokio::test]
async fn accepted_unsealed_runs_still_get_no_secrets() {
    std::env::set_var("SWARM_HOSTILE_API_KEY", "sk-unsealed-should-not-leak");
    let unsealed = Sandbox::without_bubblewrap().accepting_unsealed();
    let app = tempfile::tempdir().unwrap();
    let outcome = unsealed
        .run(&SandboxCommand::shell(
            "env; echo ran > ran.txt",
            app.path(),
        ))
        .await
        .unwrap();
    assert!(app.path().join("ran.txt").exists(), "{outcome:?}");
    assert!(
        !outcome.stdout.text().contains("sk-unsealed"),
        "{outcome:?}"
    );
    assert!(!outcome.missing_layers.is_empty());
}
