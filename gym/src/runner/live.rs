//! The run's event stream on disk, for whoever follows it (`swarm-gym view`'s live board):
//! `RESULTS_DIR/runs/RUN_ID/live.jsonl`, a header line (`run_started`: the run, its suite, SUT,
//! experiment and how many turns it will build), then every [`RunEvent`] as the run emits it,
//! each stamped with `t` (ms since the Unix epoch), and `run_finished` at the end. A run that
//! is killed simply stops writing. Writing it never fails a run: the results CSV is the record.

use super::RunEvent;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The live log's file name in a run's directory.
pub const LIVE_FILE: &str = "live.jsonl";

/// An open live log.
pub(crate) struct LiveLog {
    file: Mutex<Option<std::fs::File>>,
}

impl LiveLog {
    /// Creates `dir/live.jsonl` and writes the header; a log that cannot be created is silent.
    pub(crate) fn create(dir: &Path, header: Value) -> Arc<LiveLog> {
        let file = std::fs::create_dir_all(dir)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(LIVE_FILE))
            })
            .ok();
        let log = Arc::new(LiveLog {
            file: Mutex::new(file),
        });
        log.write(with_time(header));
        log
    }

    /// Appends one event.
    pub(crate) fn event(&self, event: &RunEvent) {
        if let Ok(value) = serde_json::to_value(event) {
            self.write(with_time(value));
        }
    }

    /// The last line: the run ended (normally; a killed run writes none).
    pub(crate) fn finished(&self, graded: usize) {
        self.write(with_time(
            json!({"event": "run_finished", "graded": graded}),
        ));
    }

    fn write(&self, value: Value) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        if let Some(file) = guard.as_mut() {
            let mut line = value.to_string();
            line.push('\n');
            // One write per line, so a reader never sees half an event from us.
            if file.write_all(line.as_bytes()).is_err() {
                *guard = None;
            }
        }
    }
}

fn with_time(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("t".into(), json!(swarm::unix_ms()));
    }
    value
}

/// Where a run's live log is.
pub fn live_file(results_dir: &Path, run_id: &str) -> PathBuf {
    results_dir.join("runs").join(run_id).join(LIVE_FILE)
}
