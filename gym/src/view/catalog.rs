//! What the viewer reads: result CSVs, found under the paths it was given, each re-read only
//! when its size or modification time changed (a run appending rows shows on the next page
//! load; an unchanged file of 10k rows costs one `stat`). A file that cannot be read, or a
//! row that cannot be parsed, is kept as a message to show, never a reason to fail a page.

use crate::results::{read_located, BadRow, LocatedRow, ResultRow};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// How deep a directory given to the viewer is searched for result CSVs.
const SEARCH_DEPTH: usize = 4;

/// One results file and what could be read from it.
#[derive(Debug)]
pub struct Source {
    /// The CSV.
    pub path: PathBuf,
    /// Its readable rows, in file order.
    pub rows: Vec<LocatedRow>,
    /// Lines that are not rows, with why.
    pub bad: Vec<BadRow>,
    /// Why the file could not be read at all.
    pub error: Option<String>,
    /// Size and modification time when last read (None: never read).
    stamp: Option<(u64, SystemTime)>,
}

impl Source {
    fn new(path: PathBuf) -> Source {
        let mut source = Source {
            path,
            rows: Vec::new(),
            bad: Vec::new(),
            error: None,
            stamp: None,
        };
        source.refresh();
        source
    }

    /// The directory a row's relative paths (transcript, events) start from.
    pub fn base(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Re-reads the file when it changed since the last read.
    fn refresh(&mut self) {
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .and_then(|m| Some((m.len(), m.modified().ok()?)));
        if stamp.is_some() && stamp == self.stamp {
            return;
        }
        self.stamp = stamp;
        match read_located(&self.path) {
            Ok((rows, bad)) => {
                self.rows = rows;
                self.bad = bad;
                self.error = None;
            }
            Err(err) => {
                self.rows.clear();
                self.bad.clear();
                self.error = Some(err.to_string());
            }
        }
    }
}

/// Where a row is: the index of its file among the catalog's sources and its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowId {
    /// Index of the source.
    pub file: usize,
    /// First line of the row in that file (the header is line 1).
    pub line: u64,
}

impl RowId {
    /// The turn page's address.
    pub fn href(&self) -> String {
        format!("/turn/{}/{}", self.file, self.line)
    }
}

/// Every results file the viewer shows.
#[derive(Debug)]
pub struct Catalog {
    sources: Vec<Source>,
    /// The paths it was given, searched again on refresh so a new results file appears.
    roots: Vec<PathBuf>,
}

impl Catalog {
    /// Reads the CSVs named, and every results CSV (a file whose header starts with `run_id`)
    /// under the directories named.
    pub fn open(roots: &[PathBuf]) -> Catalog {
        let mut catalog = Catalog {
            sources: Vec::new(),
            roots: roots.to_vec(),
        };
        catalog.refresh();
        catalog
    }

    /// Picks up new files and re-reads changed ones. Sources keep their index, so links stay
    /// valid while the viewer runs.
    pub fn refresh(&mut self) {
        for path in find_results(&self.roots) {
            if !self.sources.iter().any(|s| s.path == path) {
                self.sources.push(Source::new(path));
            }
        }
        for source in &mut self.sources {
            source.refresh();
        }
    }

    /// The paths it was given.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The files, in the order their indices name.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Every readable row with where it is.
    pub fn rows(&self) -> impl Iterator<Item = (RowId, &ResultRow)> + '_ {
        self.sources.iter().enumerate().flat_map(|(file, source)| {
            source.rows.iter().map(move |located| {
                (
                    RowId {
                        file,
                        line: located.first_line,
                    },
                    &located.row,
                )
            })
        })
    }

    /// One row and its file.
    pub fn row(&self, id: RowId) -> Option<(&Source, &ResultRow)> {
        let source = self.sources.get(id.file)?;
        let located = source.rows.iter().find(|r| r.first_line == id.line)?;
        Some((source, &located.row))
    }
}

/// The results CSVs under `roots`: files named are kept whatever their header (so a broken
/// one is shown as broken); directories are searched for files whose header names `run_id`.
/// Turn directories (`runs/`) and reports are not searched: they hold projects, not results.
pub fn find_results(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for root in roots {
        if root.is_dir() {
            search(root, SEARCH_DEPTH, &mut found);
        } else {
            found.push(root.clone());
        }
    }
    found.sort();
    found.dedup();
    found
}

fn search(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if depth > 0 && name != "runs" && !name.starts_with('.') {
                search(&path, depth - 1, found);
            }
        } else if name.ends_with(".csv") && has_results_header(&path) {
            found.push(path);
        }
    }
}

fn has_results_header(path: &Path) -> bool {
    use std::io::Read;
    let mut start = [0u8; 7];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok()
        && &start == b"run_id,"
}

/// Which rows a page shows and in what order, from the page's query string. Empty values
/// (what a form sends for a blank field) mean "any".
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Filter {
    /// Suite.
    pub suite: String,
    /// Task id.
    pub task: String,
    /// Builder model.
    pub model: String,
    /// System under test.
    pub sut: String,
    /// Hidden verdict: pass, fail or inconclusive.
    pub verdict: String,
    /// `1`: only false greens (claimed done, hidden checks fail).
    pub false_green: String,
    /// Run id.
    pub run: String,
    /// Experiment id (either arm), or a nightly's `nightly-DATE`.
    pub experiment: String,
    /// The night (YYYY-MM-DD) a row belongs to, as the trends count nights.
    pub night: String,
    /// First day (YYYY-MM-DD) of the rows' timestamps.
    pub since: String,
    /// Last day.
    pub until: String,
    /// Column to sort by (default: timestamp, newest first).
    pub sort: String,
    /// `1`: descending.
    pub desc: String,
    /// 0-based page.
    pub page: usize,
}

/// Columns the rows table sorts by.
pub const SORTS: [&str; 8] = [
    "timestamp",
    "task",
    "turn",
    "model",
    "checks",
    "overall",
    "wall_seconds",
    "verdict",
];

impl Filter {
    /// Whether `row` is one the filter keeps.
    pub fn matches(&self, row: &ResultRow) -> bool {
        let is = |wanted: &str, value: &str| wanted.is_empty() || wanted == value;
        let day = row.timestamp.get(..10).unwrap_or(&row.timestamp);
        is(&self.suite, &row.suite)
            && is(&self.task, &row.task)
            && is(&self.model, &row.builder_model)
            && is(&self.sut, &row.sut)
            && is(&self.verdict, &row.hidden_verdict)
            && is(&self.run, &row.run_id)
            && (self.experiment.is_empty()
                || row.experiment == self.experiment
                || row
                    .experiment
                    .rsplit_once(':')
                    .is_some_and(|(id, _)| id == self.experiment))
            && (self.night.is_empty()
                || notebooks::data::night_of(&row.experiment, &row.timestamp) == self.night)
            && (self.false_green != "1" || row.false_green())
            && (self.since.is_empty() || day >= self.since.as_str())
            && (self.until.is_empty() || day <= self.until.as_str())
    }

    /// The rows it keeps, sorted.
    pub fn apply<'a>(
        &self,
        rows: impl Iterator<Item = (RowId, &'a ResultRow)>,
    ) -> Vec<(RowId, &'a ResultRow)> {
        let mut kept: Vec<(RowId, &ResultRow)> = rows.filter(|(_, r)| self.matches(r)).collect();
        let number = |v: Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
        let sort = if self.sort.is_empty() {
            "timestamp"
        } else {
            self.sort.as_str()
        };
        kept.sort_by(|(a_id, a), (b_id, b)| {
            let order = match sort {
                "task" => (&a.suite, &a.task, a.replicate).cmp(&(&b.suite, &b.task, b.replicate)),
                "turn" => a.turn.cmp(&b.turn),
                "model" => a.builder_model.cmp(&b.builder_model),
                "checks" => number(a.checks).total_cmp(&number(b.checks)),
                "overall" => number(a.overall).total_cmp(&number(b.overall)),
                "wall_seconds" => a.wall_seconds.total_cmp(&b.wall_seconds),
                "verdict" => a.hidden_verdict.cmp(&b.hidden_verdict),
                _ => a.timestamp.cmp(&b.timestamp),
            };
            order.then(a_id.cmp(b_id))
        });
        // Newest first unless asked otherwise; other columns ascend unless asked.
        let descending = if self.sort.is_empty() {
            self.desc != "0"
        } else {
            self.desc == "1"
        };
        if descending {
            kept.reverse();
        }
        kept
    }

    /// The query string of this filter with `changes` applied (`name`, `value`); empty values
    /// are left out.
    pub fn query(&self, changes: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("suite", self.suite.clone()),
            ("task", self.task.clone()),
            ("model", self.model.clone()),
            ("sut", self.sut.clone()),
            ("verdict", self.verdict.clone()),
            ("false_green", self.false_green.clone()),
            ("run", self.run.clone()),
            ("experiment", self.experiment.clone()),
            ("night", self.night.clone()),
            ("since", self.since.clone()),
            ("until", self.until.clone()),
            ("sort", self.sort.clone()),
            ("desc", self.desc.clone()),
            ("page", self.page.to_string()),
        ];
        for (name, value) in changes {
            if let Some(pair) = pairs.iter_mut().find(|(n, _)| n == name) {
                pair.1 = value.clone();
            }
        }
        let encoded: Vec<String> = pairs
            .into_iter()
            .filter(|(name, value)| !(value.is_empty() || (*name == "page" && value == "0")))
            .map(|(name, value)| format!("{name}={}", encode(&value)))
            .collect();
        if encoded.is_empty() {
            String::new()
        } else {
            format!("?{}", encoded.join("&"))
        }
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::ResultsStore;
    use pretty_assertions::assert_eq;

    fn row(task: &str, timestamp: &str, hidden: &str, claimed: &str) -> ResultRow {
        ResultRow {
            timestamp: timestamp.into(),
            commit: "c".into(),
            suite: "smoke".into(),
            task: task.into(),
            manifest_hash: "h".into(),
            sut: "swarm".into(),
            builder_model: "m".into(),
            fleet: "f".into(),
            knobs_hash: "k".into(),
            checks: Some(5.0),
            overall: Some(5.0),
            hidden_verdict: hidden.into(),
            claimed_verdict: claimed.into(),
            wall_seconds: 1.0,
            ..crate::test_support::row()
        }
    }

    #[test]
    fn filters_keep_false_greens_and_days_and_sort_newest_first() {
        let rows = [
            row("a", "2026-12-01T10:00:00Z", "fail", "done"),
            row("b", "2026-12-02T10:00:00Z", "pass", "done"),
            row("c", "2026-12-03T10:00:00Z", "fail", "failed"),
        ];
        let ids = |filter: &Filter| -> Vec<String> {
            filter
                .apply(rows.iter().enumerate().map(|(i, r)| {
                    (
                        RowId {
                            file: 0,
                            line: i as u64 + 2,
                        },
                        r,
                    )
                }))
                .into_iter()
                .map(|(_, r)| r.task.clone())
                .collect()
        };
        assert_eq!(ids(&Filter::default()), ["c", "b", "a"]);
        let greens = Filter {
            false_green: "1".into(),
            ..Filter::default()
        };
        assert_eq!(ids(&greens), ["a"]);
        let days = Filter {
            since: "2026-12-02".into(),
            until: "2026-12-02".into(),
            ..Filter::default()
        };
        assert_eq!(ids(&days), ["b"]);
        let by_task = Filter {
            sort: "task".into(),
            ..Filter::default()
        };
        assert_eq!(ids(&by_task), ["a", "b", "c"]);
        assert_eq!(
            greens.query(&[("page", "2".into())]),
            "?false_green=1&page=2"
        );
    }

    #[test]
    fn a_directory_yields_its_results_files_and_a_changed_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("demo");
        std::fs::create_dir_all(nested.join("runs")).unwrap();
        std::fs::write(nested.join("runs/inner.csv"), "run_id,x\n").unwrap();
        std::fs::write(dir.path().join("other.csv"), "a,b\n1,2\n").unwrap();
        let store = ResultsStore::open(&nested.join("results.csv")).unwrap();
        store
            .append(&row("a", "2026-12-01T10:00:00Z", "pass", "done"))
            .unwrap();
        let mut catalog = Catalog::open(&[dir.path().to_path_buf()]);
        assert_eq!(catalog.sources().len(), 1);
        assert_eq!(catalog.rows().count(), 1);
        store
            .append(&row("b", "2026-12-01T11:00:00Z", "pass", "done"))
            .unwrap();
        // A malformed line written by hand shows as malformed and hides nothing.
        let path = nested.join("results.csv");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("not,a,row\n");
        std::fs::write(&path, text).unwrap();
        catalog.refresh();
        assert_eq!(catalog.rows().count(), 2);
        assert_eq!(catalog.sources()[0].bad.len(), 1);
    }
}
