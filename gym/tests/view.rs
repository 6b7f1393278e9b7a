//! `swarm-gym view` in a real browser: the demo's results (run by the demo itself) and a
//! malformed line are served, and headless Chromium loads each page; the assertions are what
//! a person would see — the failed hidden check's name and output on a false-green turn, the
//! FALSE GREEN mark, the A/B verdict, the malformed line, the live board. The live stream is
//! read over HTTP as the page's EventSource reads it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The viewer, stopped when the test ends.
struct Viewer {
    child: Child,
    address: String,
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_viewer(dir: &Path) -> Viewer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["view", "--port", "0", "--no-open"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line.trim().trim_end_matches('/').to_string();
    assert!(address.starts_with("http://127.0.0.1:"), "{line}");
    Viewer { child, address }
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let found = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            found
                .status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&found.stdout).trim()))
        })
}

/// The page's DOM after Chromium loaded it and ran its script.
fn dom(browser: &Path, profile: &Path, url: &str) -> String {
    // A page that never settles (an open stream) must not hang the test.
    let output = Command::new("timeout")
        .arg("60")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    assert!(output.status.success(), "chromium failed on {url}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A plain GET: status and body.
fn get(address: &str, path: &str) -> (u16, String) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    (status, text)
}

fn first_turn_link(html: &str) -> String {
    let at = html.find("href=\"/turn/").expect("a turn link");
    let rest = &html[at + 6..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[test]
fn a_person_sees_why_a_turn_failed_the_false_green_and_the_verdict() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no chromium on PATH (.ci/run installs the Debian package `chromium`)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    let demo = Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["demo", "--replicates", "1", "--results"])
        .arg(&results)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let mut csv = std::fs::OpenOptions::new()
        .append(true)
        .open(&results)
        .unwrap();
    csv.write_all(b"this line is not a row\n").unwrap();
    drop(csv);
    let (rows, _) = gym::read_rows(&results).unwrap();
    let viewer = start_viewer(dir.path());
    let profile = tempfile::tempdir().unwrap();
    let page = |path: &str| {
        dom(
            &browser,
            profile.path(),
            &format!("{}{path}", viewer.address),
        )
    };

    let front = page("/");
    assert!(front.contains("SIMULATED"), "simulated rows are labelled");
    let last_line = std::fs::read_to_string(&results).unwrap().lines().count();
    assert!(
        front.contains("1 malformed line(s)")
            && front.contains(&format!("results.csv:{last_line}")),
        "the malformed line is counted and named by its line"
    );
    assert!(front.contains(&format!("{} of {} row(s)", rows.len(), rows.len())));

    // A false green: the mark, then the failed check with its output, on the turn's page.
    let greens = page("/?false_green=1");
    assert!(greens.contains("FALSE GREEN"));
    let turn = page(&first_turn_link(&greens));
    assert!(turn.contains("FALSE GREEN"));
    let shown = rows
        .iter()
        .find(|r| {
            r.false_green() && turn.contains(&format!("{} / {} turn {}", r.suite, r.task, r.turn))
        })
        .expect("the page names a false-green row");
    let grades: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shown.grades_file(dir.path()).unwrap()).unwrap(),
    )
    .unwrap();
    let failed = grades["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verdict"] == "fail")
        .unwrap();
    let label = failed["label"].as_str().unwrap();
    let evidence_line = failed["evidence"].as_str().unwrap().lines().next().unwrap();
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    assert!(turn.contains(&escape(label)), "{label}");
    assert!(turn.contains(&escape(evidence_line)), "{evidence_line}");
    assert!(
        turn.find("Hidden checks").unwrap() < turn.find("Scores").unwrap(),
        "why it failed comes first"
    );
    assert!(turn.contains("lane(s) (one per node slot)"), "the timeline");

    // The A/B experiment's page has the verdicts the terminal prints.
    let experiment = rows[0].experiment.rsplit_once(':').unwrap().0.to_string();
    let ab = page(&format!("/ab/{experiment}"));
    assert!(ab.contains("A better on checks"), "the verdict");
    assert!(ab.contains("McNemar exact p"));

    // Trends and live pages load; the demo's runs show as finished.
    let trends = page("/trends");
    assert!(trends.contains("Regressions"), "{trends}");
    // A chart per dimension, its point a link to that night's rows.
    assert!(trends.contains("<svg class=\"trend"), "{trends}");
    assert!(trends.contains("night="), "{trends}");
    // The live page keeps a stream open, so the browser never calls it loaded: read it over
    // HTTP (the stream itself is the other test).
    let (status, live) = get(&viewer.address, "/live");
    assert_eq!(status, 200);
    assert!(live.contains("— finished"), "the demo's runs finished");
    let (status, _) = get(&viewer.address, "/turn/0/999999");
    assert_eq!(status, 404);
}

#[test]
fn the_live_stream_sends_a_running_run_and_its_next_turn() {
    let dir = tempfile::tempdir().unwrap();
    let store = gym::ResultsStore::open(&dir.path().join("results.csv")).unwrap();
    let log_dir = dir.path().join("runs").join("20261203-live");
    std::fs::create_dir_all(&log_dir).unwrap();
    let log = log_dir.join("live.jsonl");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    std::fs::write(
        &log,
        format!(
            "{{\"event\":\"run_started\",\"t\":{now},\"run_id\":\"20261203-live\",\"suite\":\"smoke\",\"sut\":\"swarm\",\"experiment\":\"\",\"turns\":2}}\n\
             {{\"event\":\"turn_started\",\"t\":{now},\"task\":\"todo\",\"replicate\":1,\"turn\":1,\"node\":\"n1\"}}\n"
        ),
    )
    .unwrap();
    drop(store);
    let viewer = start_viewer(dir.path());
    let host = viewer.address.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /live/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut seen = String::new();
    let mut wait_for = |needle: &str| {
        let start = Instant::now();
        while !seen.contains(needle) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no `{needle}` in the stream:\n{seen}"
            );
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            seen.push_str(&line);
        }
    };
    wait_for("20261203-live — running");
    wait_for("todo r1 t1");
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(
        file,
        "{{\"event\":\"turn_graded\",\"t\":{},\"task\":\"todo\",\"replicate\":1,\"turn\":1,\"hidden\":\"fail\",\"claimed\":\"done\",\"checks\":0.0}}",
        now + 30_000
    )
    .unwrap();
    drop(file);
    wait_for("[1/2]");
    wait_for("FALSE GREEN");
    wait_for("ETA 0:30");
}
