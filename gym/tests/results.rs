//! The results store: the header matches the row type, appends survive crashes, bad rows are
//! reported with their line, and nothing earlier is ever rewritten.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gym::{ResultRow, ResultsStore, COLUMNS};
use pretty_assertions::assert_eq;

fn row(task: &str, turn: u32) -> ResultRow {
    ResultRow {
        run_id: "r1".into(),
        experiment: String::new(),
        timestamp: "2026-11-25T09:00:00Z".into(),
        commit: "abc123-dirty".into(),
        suite: "smoke".into(),
        task: task.into(),
        manifest_hash: "00ff".into(),
        turn,
        replicate: 1,
        sut: "single".into(),
        builder_model: "m, with a comma".into(),
        brain_model: String::new(),
        judge_model: String::new(),
        fleet: "fleet.yaml".into(),
        knobs_hash: "k".into(),
        knobs: "{\"max_actions\":40}".into(),
        checks: Some(7.5),
        swarm: Some(10.0),
        cluster: Some(10.0),
        diagnostics: Some(8.0),
        requirements: None,
        code_quality: None,
        bugs: None,
        overall: Some(8.1),
        hidden_verdict: "fail".into(),
        claimed_verdict: "done".into(),
        wall_seconds: 12.5,
        tokens_in: 1000,
        tokens_out: 200,
        malformed_replies: 0,
        tool_errors: 1,
        context_overflows: 0,
        occupancy: Some(0.5),
        stalls: 0,
        errors: 0,
        transcript: "runs/r1/t/transcript.jsonl".into(),
        events: "runs/r1/t/events.jsonl".into(),
        test_depth: Some(6.5),
        test_depth_detail: "killed 13/20; concrete asserts 4/9".into(),
        sampling: "{\"temperature\":0.7}".into(),
        cache_hit: None,
        tokens_per_second: None,
        first_byte_ms: None,
        build_occupancy: None,
        makespan_over_bound: None,
        ..ResultRow::default()
    }
}

#[test]
fn the_header_is_the_row_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.csv");
    let store = ResultsStore::open(&path).unwrap();
    store.append(&row("a", 1)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().next().unwrap(), COLUMNS.join(","));
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(record.len(), COLUMNS.len(), "every row has every column");
    let (rows, bad) = store.read().unwrap();
    assert_eq!((rows, bad), (vec![row("a", 1)], vec![]));
}

#[test]
fn a_partial_last_line_is_set_aside_and_earlier_rows_are_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.csv");
    let store = ResultsStore::open(&path).unwrap();
    store.append(&row("a", 1)).unwrap();
    store.append(&row("a", 2)).unwrap();
    let complete = std::fs::read(&path).unwrap();
    // A crash halfway through the third write.
    let mut torn = complete.clone();
    torn.extend_from_slice(b"r1,2026-11-25T09:01:00Z,abc,smoke,b,00ff,1,1,sing");
    std::fs::write(&path, &torn).unwrap();
    let store = ResultsStore::open(&path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        complete,
        "complete rows are byte-for-byte the same"
    );
    let aside = std::fs::read_to_string(dir.path().join("results.csv.partial")).unwrap();
    assert!(
        aside.starts_with("r1,2026-11-25T09:01:00Z"),
        "the fragment is kept, not lost"
    );
    store.append(&row("b", 1)).unwrap();
    assert_eq!(store.read().unwrap().0.len(), 3);
}

#[test]
fn malformed_rows_are_reported_with_their_line_and_the_rest_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.csv");
    let store = ResultsStore::open(&path).unwrap();
    store.append(&row("a", 1)).unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("r1,not,enough,columns\n");
    std::fs::write(&path, text).unwrap();
    store.append(&row("a", 2)).unwrap();
    let (rows, bad) = store.read().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, 3);
}

#[test]
fn a_file_from_another_schema_is_refused_not_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.csv");
    std::fs::write(&path, "a,b,c\n1,2,3\n").unwrap();
    let err = ResultsStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("header does not match"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b,c\n1,2,3\n");
}

#[test]
fn a_file_from_an_older_version_is_upgraded_in_place_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.csv");
    // Written as the version before test_depth did: its 37 columns, a row whose text field
    // spans two lines, and an unreadable line that must stay as it was.
    let old_columns = &COLUMNS[..37];
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    writer.write_record(old_columns).unwrap();
    let mut old_row: Vec<String> = vec![String::new(); 37];
    old_row[0] = "r0".into();
    old_row[5] = "a".into();
    old_row[7] = "1".into();
    old_row[8] = "1".into();
    old_row[15] = "{\"note\":\"two\nlines\"}".into();
    for (index, value) in [
        (26, "1.5"),
        (27, "0"),
        (28, "0"),
        (29, "0"),
        (30, "0"),
        (31, "0"),
        (33, "0"),
        (34, "0"),
    ] {
        old_row[index] = value.into();
    }
    writer.write_record(&old_row).unwrap();
    let mut old = writer.into_inner().unwrap();
    old.extend_from_slice(b"r0,not,enough\n");
    std::fs::write(&path, &old).unwrap();

    let store = ResultsStore::open(&path).unwrap();
    store.append(&row("b", 1)).unwrap();
    let (rows, bad) = store.read().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.run_id.as_str(), r.task.as_str(), r.test_depth))
            .collect::<Vec<_>>(),
        vec![("r0", "a", None), ("r1", "b", Some(6.5))]
    );
    assert_eq!(rows[0].knobs, "{\"note\":\"two\nlines\"}");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(
        std::fs::read(dir.path().join("results.csv.before-upgrade")).unwrap(),
        old,
        "the old file is kept whole"
    );
    // Opening again changes nothing.
    let before = std::fs::read(&path).unwrap();
    ResultsStore::open(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// The notebooks read result CSVs without depending on the gym, so they keep their own
/// column lists; these must name the gym's columns and dimensions exactly, or an analysis
/// would silently read nothing.
#[test]
fn the_notebooks_read_the_columns_the_gym_writes() {
    assert_eq!(notebooks::data::DIMENSIONS, graders::DIMENSIONS);
    for column in notebooks::data::TEXT_COLUMNS
        .iter()
        .chain(notebooks::data::NUMBER_COLUMNS.iter())
    {
        assert!(
            COLUMNS.contains(column),
            "notebooks read `{column}`, which the gym does not write"
        );
    }
}
