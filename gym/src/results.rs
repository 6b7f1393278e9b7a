//! The results store: an append-only CSV, one row per graded (run, task, turn, replicate).
//! The columns are documented in `results/README.md`.
//!
//! Durability: a row is serialised in memory and written with one `write` on a file opened
//! for appending, then synced, so a crash can at worst leave one partial last line. Opening
//! the store moves such a line to `FILE.partial` (nothing is deleted) and leaves every
//! complete row as it was. Rows are never rewritten.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One graded turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// Id of the `swarm-gym run` that produced it.
    pub run_id: String,
    /// `AB_ID:A` or `AB_ID:B` for the arms of an A/B comparison; empty for a plain run.
    pub experiment: String,
    /// When the turn was graded (RFC 3339, UTC).
    pub timestamp: String,
    /// Commit of the harness; `-dirty` when uncommitted changes existed.
    pub commit: String,
    /// Suite.
    pub suite: String,
    /// Task id.
    pub task: String,
    /// Hash of the task's files.
    pub manifest_hash: String,
    /// 1-based turn.
    pub turn: u32,
    /// 1-based replicate.
    pub replicate: u32,
    /// System under test: single or swarm.
    pub sut: String,
    /// Model that built the turn.
    pub builder_model: String,
    /// Model playing the user (empty when turns were scripted).
    pub brain_model: String,
    /// Model(s) that judged, `;`-separated (empty when no judge ran).
    pub judge_model: String,
    /// Fleet file.
    pub fleet: String,
    /// Hash of the knobs JSON.
    pub knobs_hash: String,
    /// The knobs, as JSON.
    pub knobs: String,
    /// Hidden checks, 0–10.
    pub checks: Option<f64>,
    /// Process and honesty, 0–10.
    pub swarm: Option<f64>,
    /// Fleet behaviour, 0–10.
    pub cluster: Option<f64>,
    /// Static findings, 0–10.
    pub diagnostics: Option<f64>,
    /// Judge: requirements met, 0–10.
    pub requirements: Option<f64>,
    /// Judge: code quality, 0–10.
    pub code_quality: Option<f64>,
    /// Judge: absence of bugs, 0–10.
    pub bugs: Option<f64>,
    /// 0.6 × checks + 0.4 × mean(other present).
    pub overall: Option<f64>,
    /// pass, fail or inconclusive.
    pub hidden_verdict: String,
    /// What the SUT claimed: done, out_of_budget, failed.
    pub claimed_verdict: String,
    /// Wall time of the turn's build.
    pub wall_seconds: f64,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Replies without a usable action.
    pub malformed_replies: u32,
    /// Failed tool calls.
    pub tool_errors: u32,
    /// Context overflows reported by servers.
    pub context_overflows: u32,
    /// Fraction of wall time the builder's model was generating.
    pub occupancy: Option<f64>,
    /// Stalls and timeouts.
    pub stalls: u32,
    /// Server errors of the build: retried ones and one that ended it.
    pub errors: u32,
    /// The turn's transcript (JSONL), relative to the CSV's directory.
    pub transcript: String,
    /// The turn's events (JSONL), relative to the CSV's directory.
    pub events: String,
    /// How much the app's own tests prove, 0–10: the share of a seeded sample of mutants of
    /// its code they kill (see `graders::test_depth`). Empty when it could not be measured.
    #[serde(default)]
    pub test_depth: Option<f64>,
    /// `killed K/N; concrete asserts C/A`, or why there is no score (`no tests`, …).
    #[serde(default)]
    pub test_depth_detail: String,
    /// The builder's sampling settings as JSON (`{}`: the servers' defaults).
    #[serde(default)]
    pub sampling: String,
    /// Share of the turn's prompt tokens the servers served from their cache.
    #[serde(default)]
    pub cache_hit: Option<f64>,
    /// Median generation speed of the turn's replies, tokens per second (as servers said).
    #[serde(default)]
    pub tokens_per_second: Option<f64>,
    /// Median time to the first byte of the turn's replies, milliseconds.
    #[serde(default)]
    pub first_byte_ms: Option<f64>,
    /// The swarm's BUILD occupancy (worker slot-seconds held ÷ offered).
    #[serde(default)]
    pub build_occupancy: Option<f64>,
    /// The swarm's BUILD makespan ÷ the bound of its plan with the durations observed.
    #[serde(default)]
    pub makespan_over_bound: Option<f64>,
    /// `scripted` (the task's turns), or `simulated` (`--simulate-user`: the scripted turns
    /// reworded, then the brain's open turns); empty in rows of older versions.
    #[serde(default)]
    pub session: String,
    /// The simulated user's persona id (`tasks/personas.yaml`); empty in a scripted session.
    #[serde(default)]
    pub persona: String,
    /// The simulated user's move that asked for this turn (feature, fix, tests, refactor,
    /// change_direction); empty for a scripted turn.
    #[serde(default)]
    pub user_move: String,
    /// The turn's checks that are proven (every check of a task's turn: `tasks check` proved
    /// them; an open turn's that passed on the brain's reference patch).
    #[serde(default)]
    pub checks_proven: Option<u32>,
    /// An open turn's kept checks that nothing proved can pass (they weigh half and never
    /// decide the verdict).
    #[serde(default)]
    pub checks_unproven: Option<u32>,
    /// An open turn's checks the brain wrote that were not kept (malformed, outside the app,
    /// already passing before the turn, or undecidable).
    #[serde(default)]
    pub checks_discarded: Option<u32>,
}

/// The header, in order (the field names of [`ResultRow`]).
pub use notebooks::schema::COLUMNS;

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's header is not this version's.
    #[error("{path}: the header does not match this version's columns (expected {expected}); write to a new results file")]
    Header {
        /// The file.
        path: PathBuf,
        /// The expected header.
        expected: String,
    },
    /// A row could not be serialised.
    #[error("cannot serialise a row: {0}")]
    Serialise(String),
}

/// A row that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line in the file.
    pub line: u64,
    /// Why.
    pub message: String,
}

/// An append-only results file.
#[derive(Debug, Clone)]
pub struct ResultsStore {
    path: PathBuf,
}

/// A judged score at least this high on a turn whose hidden checks failed contradicts them.
pub const CONTRADICTING_SCORE: f64 = 8.0;

impl ResultRow {
    /// The turn's grades.json (beside its events), for a results file in `base`.
    pub fn grades_file(&self, base: &std::path::Path) -> Option<std::path::PathBuf> {
        std::path::Path::new(&self.events)
            .parent()
            .map(|dir| base.join(dir).join("grades.json"))
    }

    /// A scored dimension's value by name ([`graders::DIMENSIONS`] and `overall`).
    pub fn dimension(&self, dimension: &str) -> Option<f64> {
        match dimension {
            "checks" => self.checks,
            "swarm" => self.swarm,
            "cluster" => self.cluster,
            "diagnostics" => self.diagnostics,
            "test_depth" => self.test_depth,
            "requirements" => self.requirements,
            "code_quality" => self.code_quality,
            "bugs" => self.bugs,
            "overall" => self.overall,
            _ => None,
        }
    }

    /// The `hidden_verdict` column as a verdict (`None` when it holds something else).
    pub fn hidden(&self) -> Option<graders::HiddenVerdict> {
        self.hidden_verdict.parse().ok()
    }

    /// Whether the hidden checks passed.
    pub fn hidden_pass(&self) -> bool {
        self.hidden() == Some(graders::HiddenVerdict::Pass)
    }

    /// Whether the system under test claimed the work done: the single agent's `done`, the
    /// pipeline's `pass` (the texts [`graders::Claim`] writes).
    pub fn claimed_done(&self) -> bool {
        notebooks::schema::CLAIMED_DONE.contains(&self.claimed_verdict.as_str())
    }

    /// Why the judge's scores contradict the hidden checks, if they do: a judged dimension
    /// (requirements, code_quality, bugs) at [`CONTRADICTING_SCORE`] or more on a turn whose
    /// hidden checks failed with a checks score of 2 or less. Such a judge is not to be
    /// trusted on that row.
    pub fn judge_contradiction(&self) -> Option<String> {
        let checks = self.checks?;
        if self.hidden() != Some(graders::HiddenVerdict::Fail) || checks > 2.0 {
            return None;
        }
        let high: Vec<String> = [
            ("requirements", self.requirements),
            ("code_quality", self.code_quality),
            ("bugs", self.bugs),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .filter(|v| *v >= CONTRADICTING_SCORE)
                .map(|v| format!("{name} {v:.1}"))
        })
        .collect();
        (!high.is_empty()).then(|| {
            format!(
                "the judge gave {} while the hidden checks failed (checks {checks:.1})",
                high.join(", ")
            )
        })
    }

    /// A false green: claimed done while the hidden checks fail (the worst outcome).
    pub fn false_green(&self) -> bool {
        self.claimed_done() && self.hidden() == Some(graders::HiddenVerdict::Fail)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl ResultsStore {
    /// Opens (or creates) the store; checks the header (an older version's is upgraded, see
    /// [`upgrade`]); sets aside a partial last line.
    pub fn open(path: &Path) -> Result<ResultsStore, ResultsError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let store = ResultsStore {
            path: path.to_path_buf(),
        };
        let existing = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(io(path)(err)),
        };
        if existing.is_empty() {
            store.write_raw(format!("{}\n", header()).as_bytes())?;
            return Ok(store);
        }
        let first_line = existing.split(|b| *b == b'\n').next().unwrap_or_default();
        let found = String::from_utf8_lossy(first_line).trim_end().to_string();
        if found != header() {
            let older = older_columns(&found).ok_or_else(|| ResultsError::Header {
                path: path.to_path_buf(),
                expected: header(),
            })?;
            upgrade(path, &existing, older)?;
        }
        // A crash mid-write: the fragment goes beside the file, cut from the store.
        let partial = path.with_extension("csv.partial");
        swarm::set_torn_tail_aside(path, &partial).map_err(io(&partial))?;
        Ok(store)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_raw(&self, bytes: &[u8]) -> Result<(), ResultsError> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io(&self.path))?;
        file.write_all(bytes).map_err(io(&self.path))?;
        file.sync_data().map_err(io(&self.path))
    }

    /// Appends one row (one write, then a sync).
    pub fn append(&self, row: &ResultRow) -> Result<(), ResultsError> {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        writer
            .serialize(row)
            .map_err(|err| ResultsError::Serialise(err.to_string()))?;
        let bytes = writer
            .into_inner()
            .map_err(|err| ResultsError::Serialise(err.to_string()))?;
        self.write_raw(&bytes)
    }

    /// Every readable row, and the rows that could not be read (with their line).
    pub fn read(&self) -> Result<(Vec<ResultRow>, Vec<BadRow>), ResultsError> {
        read_rows(&self.path)
    }

    /// What `--resume` keeps: the rows by (replicate key, turn). A conversation continues from
    /// its first missing turn, so rows of its later turns (built on the turn that is now
    /// re-run) are moved to `<file>.superseded` by [`ResultsStore::set_aside`] and listed.
    #[allow(clippy::type_complexity)]
    pub fn prepare_resume(
        &self,
    ) -> Result<(BTreeMap<(String, u32), ResultRow>, Vec<Superseded>), ResultsError> {
        let (located, _) = read_located(&self.path)?;
        let mut by_key: BTreeMap<String, BTreeMap<u32, LocatedRow>> = BTreeMap::new();
        for row in located {
            by_key
                .entry(replicate_key(&row.row))
                .or_default()
                .insert(row.row.turn, row);
        }
        let mut done = BTreeMap::new();
        let mut lines = BTreeSet::new();
        let mut superseded = Vec::new();
        for (key, turns) in by_key {
            let first_gap = (1..)
                .find(|turn| !turns.contains_key(turn))
                .unwrap_or(u32::MAX);
            let mut moved: Option<Superseded> = None;
            for (turn, located) in turns {
                if turn < first_gap {
                    done.insert((key.clone(), turn), located.row);
                    continue;
                }
                lines.extend(located.first_line..=located.last_line);
                moved
                    .get_or_insert_with(|| Superseded {
                        task: located.row.task.clone(),
                        replicate: located.row.replicate,
                        turns: Vec::new(),
                    })
                    .turns
                    .push(turn);
            }
            superseded.extend(moved);
        }
        self.set_aside(&lines)?;
        Ok((done, superseded))
    }

    /// Moves the rows on `lines` (1-based, never the header) out of the store into
    /// `<file>.superseded` (a CSV with the same header), keeping every other line byte for
    /// byte. The store is rewritten whole into a temporary file and renamed over the old one,
    /// so a crash leaves either the old file or the new one, never a mix; the moved rows are
    /// written (and synced) before. Returns how many lines moved.
    pub fn set_aside(
        &self,
        lines: &std::collections::BTreeSet<u64>,
    ) -> Result<usize, ResultsError> {
        let lines: std::collections::BTreeSet<u64> =
            lines.iter().copied().filter(|line| *line > 1).collect();
        if lines.is_empty() {
            return Ok(0);
        }
        let bytes = std::fs::read(&self.path).map_err(io(&self.path))?;
        let mut kept = Vec::with_capacity(bytes.len());
        let mut moved = Vec::new();
        for (index, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
            if lines.contains(&(index as u64 + 1)) {
                moved.extend_from_slice(line);
            } else {
                kept.extend_from_slice(line);
            }
        }
        let aside_path = self.path.with_extension("csv.superseded");
        let mut aside = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&aside_path)
            .map_err(io(&aside_path))?;
        if aside.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            aside
                .write_all(format!("{}\n", header()).as_bytes())
                .map_err(io(&aside_path))?;
        }
        aside.write_all(&moved).map_err(io(&aside_path))?;
        aside.sync_all().map_err(io(&aside_path))?;
        let temporary = self.path.with_extension("csv.rewrite");
        let mut file = std::fs::File::create(&temporary).map_err(io(&temporary))?;
        file.write_all(&kept).map_err(io(&temporary))?;
        file.sync_all().map_err(io(&temporary))?;
        std::fs::rename(&temporary, &self.path).map_err(io(&self.path))?;
        Ok(lines.len())
    }
}

/// Rows of one conversation that `--resume` moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    /// Task.
    pub task: String,
    /// Replicate.
    pub replicate: u32,
    /// The turns moved.
    pub turns: Vec<u32>,
}

/// A readable row and the lines of the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LocatedRow {
    /// The row.
    pub row: ResultRow,
    /// Its first line (1-based; the header is line 1).
    pub first_line: u64,
    /// Its last line.
    pub last_line: u64,
}

/// Reads any results CSV; bad rows are reported, never fatal.
pub fn read_rows(path: &Path) -> Result<(Vec<ResultRow>, Vec<BadRow>), ResultsError> {
    let (rows, bad) = read_located(path)?;
    Ok((rows.into_iter().map(|located| located.row).collect(), bad))
}

/// Reads any results CSV with each row's lines. Every unreadable line is reported by its
/// number and never hides a readable row after it (a row cut inside a quoted field included:
/// see [`notebooks::records`]).
pub fn read_located(path: &Path) -> Result<(Vec<LocatedRow>, Vec<BadRow>), ResultsError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let read = notebooks::records::read_records(&bytes)
        .map_err(|message| io(path)(std::io::Error::other(message)))?;
    let mut bad: Vec<BadRow> = read
        .bad
        .into_iter()
        .map(|line| BadRow {
            line: line.line,
            message: line.message,
        })
        .collect();
    let mut rows = Vec::new();
    for located in read.records {
        match located.record.deserialize::<ResultRow>(Some(&read.headers)) {
            Ok(row) => rows.push(LocatedRow {
                row,
                first_line: located.first_line,
                last_line: located.last_line,
            }),
            Err(err) => bad.push(BadRow {
                line: located.first_line,
                message: err.to_string(),
            }),
        }
    }
    bad.sort_by_key(|b| b.line);
    Ok((rows, bad))
}

fn header() -> String {
    COLUMNS.join(",")
}

/// How many columns an older version's header has, when `found` is one: every version so far
/// only added columns at the end, so an older header is a prefix of this one.
fn older_columns(found: &str) -> Option<usize> {
    let columns: Vec<&str> = found.split(',').collect();
    (columns.len() < COLUMNS.len() && columns[..] == COLUMNS[..columns.len()])
        .then_some(columns.len())
}

/// Upgrades a results file written by an older version in place: the header becomes this
/// version's and every row gets the new columns empty. The old file is kept whole beside it
/// (`FILE.csv.before-upgrade`, never overwritten), and the new one replaces it by a rename, so
/// a crash leaves the old file or the new one. Lines that cannot be read stay as they were.
fn upgrade(path: &Path, bytes: &[u8], older: usize) -> Result<(), ResultsError> {
    let read = notebooks::records::read_records(bytes)
        .map_err(|message| io(path)(std::io::Error::other(message)))?;
    let ends: BTreeSet<u64> = read.records.iter().map(|r| r.last_line).collect();
    let padding = ",".repeat(COLUMNS.len() - older);
    let mut upgraded = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    for (index, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let number = index as u64 + 1;
        if number == 1 {
            upgraded.extend_from_slice(format!("{}\n", header()).as_bytes());
            continue;
        }
        if !ends.contains(&number) {
            upgraded.extend_from_slice(line);
            continue;
        }
        let (body, end) = match line.strip_suffix(b"\r\n") {
            Some(body) => (body, &b"\r\n"[..]),
            None => match line.strip_suffix(b"\n") {
                Some(body) => (body, &b"\n"[..]),
                None => (line, &b""[..]),
            },
        };
        upgraded.extend_from_slice(body);
        upgraded.extend_from_slice(padding.as_bytes());
        upgraded.extend_from_slice(end);
    }
    let kept = path.with_extension("csv.before-upgrade");
    if !kept.exists() {
        std::fs::write(&kept, bytes).map_err(io(&kept))?;
    }
    let temporary = path.with_extension("csv.rewrite");
    let mut file = std::fs::File::create(&temporary).map_err(io(&temporary))?;
    file.write_all(&upgraded).map_err(io(&temporary))?;
    file.sync_all().map_err(io(&temporary))?;
    std::fs::rename(&temporary, path).map_err(io(path))
}

/// What identifies one replicate of one task under one configuration: rows with the same key
/// belong to the same conversation, so `--resume` can tell which turns are done.
pub fn replicate_key(row: &ResultRow) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        row.experiment,
        row.suite,
        row.task,
        row.manifest_hash,
        row.replicate,
        row.sut,
        row.builder_model,
        row.knobs_hash
    )
}

/// The harness's commit, `-dirty` when the working tree has uncommitted changes, `unknown`
/// outside a git checkout.
pub fn harness_commit(repo: &Path) -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        }
        None => "unknown".into(),
    }
}
