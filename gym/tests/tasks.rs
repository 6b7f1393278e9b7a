//! Task loading and `tasks check`: the shipped suite is sound, and every way a task can be
//! unsound is caught and explained.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gym::{load_task, run_checks, validate_task, Verdict};
use pretty_assertions::assert_eq;
use std::path::{Path, PathBuf};
use swarm::sandbox::Sandbox;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Writes a task directory `suite/ID` from (relative path, content) pairs.
fn task_dir(root: &Path, id: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join("suite").join(id);
    for (path, content) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
    dir
}

const GREET_SPEC: &str = "# greet\n`python3 greet.py NAME` prints `hello NAME`.\n";
const GREET_OK: &str = "import sys\nprint(f'hello {sys.argv[1]}')\n";

fn greet_yaml(checks: &str) -> String {
    format!("id: greet\narchetype: heavy-spec\npersona: a tester\nturns:\n  - reference: reference/turn1\n    checks:\n{checks}")
}

#[tokio::test]
async fn the_shipped_suites_are_valid() {
    let typescript = swarm::toolchain::TypeScript::locate();
    for (suite, expected) in [
        ("smoke", 3),
        ("ab-study", 5),
        ("qwopus-study", 5),
        ("smoke-rust", 3),
        ("smoke-ts", 3),
        ("apps-rust", 1),
        ("apps-ts", 1),
    ] {
        if let (Err(why), "smoke-ts" | "apps-ts") = (&typescript, suite) {
            assert!(
                std::env::var_os(swarm::testing::CI_ENV).is_none(),
                "CI installs the TypeScript compiler, yet: {why}"
            );
            eprintln!("SKIPPED {suite}: {why}");
            continue;
        }
        let dirs = gym::suite_task_dirs(&repo_root().join("tasks").join(suite)).unwrap();
        assert_eq!(dirs.len(), expected, "{suite}");
        for dir in dirs {
            let task = load_task(&dir).unwrap();
            let report = validate_task(&task, Sandbox::detect()).await.unwrap();
            assert!(report.valid, "{}: {:?}", report.name, report.problems);
        }
    }
}

#[tokio::test]
async fn a_check_that_fails_on_its_reference_makes_the_task_invalid() {
    let root = tempfile::tempdir().unwrap();
    let yaml =
        greet_yaml("      - console: |\n          $ python3 greet.py ada\n          hi ada\n");
    let dir = task_dir(
        root.path(),
        "greet",
        &[
            ("task.yaml", &yaml),
            ("spec.md", GREET_SPEC),
            ("reference/turn1/greet.py", GREET_OK),
        ],
    );
    let report = validate_task(&load_task(&dir).unwrap(), Sandbox::detect())
        .await
        .unwrap();
    assert!(!report.valid);
    assert!(
        report.problems[0].starts_with(
            "turn 1: `console `python3 greet.py ada`` fails on the reference (run 1 of 3)"
        ),
        "{:?}",
        report.problems
    );
    assert!(
        report.problems[0].contains("expected line 1 `hi ada`"),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn checks_that_pass_without_the_work_make_the_task_invalid() {
    let root = tempfile::tempdir().unwrap();
    let yaml = greet_yaml("      - command_succeeds: \"true\"\n");
    let dir = task_dir(
        root.path(),
        "greet",
        &[
            ("task.yaml", &yaml),
            ("spec.md", GREET_SPEC),
            ("reference/turn1/greet.py", GREET_OK),
        ],
    );
    let report = validate_task(&load_task(&dir).unwrap(), Sandbox::detect())
        .await
        .unwrap();
    assert_eq!(report.problems, vec!["turn 1: every check passes on an empty project, so the checks cannot tell whether the work was done".to_string()]);
}

#[tokio::test]
async fn a_missing_tool_is_inconclusive_not_a_failure() {
    let root = tempfile::tempdir().unwrap();
    let yaml = greet_yaml(
        "      - console: |\n          $ no-such-interpreter-xyz greet.js\n          hello\n",
    );
    let dir = task_dir(
        root.path(),
        "greet",
        &[
            ("task.yaml", &yaml),
            ("spec.md", GREET_SPEC),
            ("reference/turn1/greet.py", GREET_OK),
        ],
    );
    let task = load_task(&dir).unwrap();
    let outcomes = run_checks(
        &task.turns[0].reference,
        task.turns[0].check_set(),
        Sandbox::detect(),
    )
    .await
    .unwrap();
    assert_eq!(outcomes[0].verdict, Verdict::Inconclusive);
    assert_eq!(
        outcomes[0].evidence,
        "`no-such-interpreter-xyz` is not installed on this machine"
    );
    let report = validate_task(&task, Sandbox::detect()).await.unwrap();
    assert!(
        report.problems[0].contains("cannot be proven here"),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn a_missing_project_script_is_a_failure_not_a_missing_tool() {
    let root = tempfile::tempdir().unwrap();
    let yaml = greet_yaml("      - console: |\n          $ ./greet.sh ada\n          hello ada\n");
    let dir = task_dir(
        root.path(),
        "greet",
        &[
            ("task.yaml", &yaml),
            ("spec.md", GREET_SPEC),
            ("reference/turn1/greet.py", GREET_OK),
        ],
    );
    let task = load_task(&dir).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let outcomes = run_checks(empty.path(), task.turns[0].check_set(), Sandbox::detect())
        .await
        .unwrap();
    assert_eq!(outcomes[0].verdict, Verdict::Fail);
}

#[tokio::test]
async fn grading_never_touches_the_graded_project() {
    let task = load_task(&repo_root().join("tasks/smoke/todo")).unwrap();
    let project = tempfile::tempdir().unwrap();
    gym::fsutil::copy_tree(&task.turns[0].reference, project.path()).unwrap();
    let before = gym::fsutil::hash_tree(project.path());
    let outcomes = run_checks(project.path(), task.turns[0].check_set(), Sandbox::detect())
        .await
        .unwrap();
    assert!(
        outcomes.iter().all(|o| o.verdict == Verdict::Pass),
        "{outcomes:?}"
    );
    assert_eq!(
        gym::fsutil::hash_tree(project.path()),
        before,
        "checks wrote into the project"
    );
    assert!(!project.path().join("todo.json").exists());
}

#[tokio::test]
async fn a_careless_build_fails_the_hidden_checks_with_evidence() {
    // Splits on whitespace: keeps punctuation, so "stop." and "stop!" are different words.
    let careless = "import sys\nfrom collections import Counter\ncounts = Counter(open(sys.argv[1]).read().lower().split())\nfor w, c in sorted(counts.items(), key=lambda i: (-i[1], i[0])):\n    print(w, c)\n";
    let task = load_task(&repo_root().join("tasks/smoke/wordfreq")).unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("wordfreq.py"), careless).unwrap();
    let outcomes = run_checks(project.path(), task.turns[0].check_set(), Sandbox::detect())
        .await
        .unwrap();
    let verdicts: Vec<Verdict> = outcomes.iter().map(|o| o.verdict).collect();
    // Exists and handles the empty file; miscounts words; crashes (exit 1 by traceback) on
    // a missing file, which happens to be the right status with nothing on stdout.
    assert_eq!(
        verdicts,
        vec![Verdict::Pass, Verdict::Fail, Verdict::Pass, Verdict::Pass]
    );
    assert!(
        outcomes[1]
            .evidence
            .contains("expected line 3 `late 2` not found"),
        "{}",
        outcomes[1].evidence
    );
    assert!(
        outcomes[1].evidence.contains("late... 1"),
        "the evidence shows what was printed"
    );
}

#[test]
fn malformed_task_files_name_the_file_the_field_and_the_expectation() {
    let root = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("typo", greet_yaml("      - file_exist: greet.py\n").replace("greet", "typo"), "turns[0].checks[0]: unknown field `file_exist`, expected one of `console`, `file_exists`"),
        ("nocheck", greet_yaml("      - {}\n").replace("id: greet", "id: nocheck"), "turns[0].checks[0]: expected one of console, file_exists"),
        ("wrongid", greet_yaml("      - file_exists: greet.py\n"), "field `id`: expected the directory name `wrongid`, found `greet`"),
        ("badarch", greet_yaml("      - file_exists: greet.py\n").replace("id: greet", "id: badarch").replace("heavy-spec", "huge-spec"), "archetype: unknown variant `huge-spec`, expected one of `heavy-spec`, `minimal-spec`, `continue-existing`"),
        ("badregex", greet_yaml("      - file_matches: {path: greet.py, regex: \"(\"}\n").replace("id: greet", "id: badregex"), "turns[0].checks[0].regex: not a valid regular expression"),
        ("noturn2", format!("{}  - reference: reference/turn1\n    checks:\n      - file_exists: greet.py\n", greet_yaml("      - file_exists: greet.py\n").replace("id: greet", "id: noturn2")), "turns[1].request: expected the user's request for turn 2"),
    ];
    for (id, yaml, expected) in cases {
        let dir = task_dir(
            root.path(),
            id,
            &[
                ("task.yaml", &yaml),
                ("spec.md", GREET_SPEC),
                ("reference/turn1/greet.py", GREET_OK),
            ],
        );
        let err = load_task(&dir).unwrap_err();
        assert_eq!(err.file, dir.join("task.yaml"), "{id}");
        assert!(err.to_string().contains(expected), "{id}: {err}");
    }
    let dir = task_dir(
        root.path(),
        "noref",
        &[
            (
                "task.yaml",
                &greet_yaml("      - file_exists: greet.py\n").replace("id: greet", "id: noref"),
            ),
            ("spec.md", GREET_SPEC),
        ],
    );
    assert!(load_task(&dir)
        .unwrap_err()
        .message
        .starts_with("turns[0].reference: expected a directory"));
}

#[tokio::test]
async fn a_sound_task_is_proven_once_and_proven_again_when_it_changes() {
    use gym::validate::{prove_task, usable_tasks, Proofs};
    let root = tempfile::tempdir().unwrap();
    let proofs = Proofs::at(root.path().join("proofs"));
    let good =
        greet_yaml("      - console: |\n          $ python3 greet.py ada\n          hello ada\n");
    let files = [
        ("task.yaml", good.as_str()),
        ("spec.md", GREET_SPEC),
        ("reference/turn1/greet.py", GREET_OK),
    ];
    let dir = task_dir(root.path(), "greet", &files);
    let sandbox = Sandbox::detect();

    let (first, cached) = prove_task(&load_task(&dir).unwrap(), sandbox, &proofs)
        .await
        .unwrap();
    assert!(first.valid && !cached, "{first:?}");
    let (again, cached) = prove_task(&load_task(&dir).unwrap(), sandbox, &proofs)
        .await
        .unwrap();
    assert!(cached, "the second start reads the kept proof");
    assert_eq!(again, first);
    let usable = usable_tasks(&root.path().join("suite"), &[], sandbox, &proofs)
        .await
        .unwrap();
    assert_eq!(
        (usable.tasks.len(), usable.from_cache),
        (1, 1),
        "{}",
        usable.summary()
    );

    // Any file of the task changing (here the reference, now wrong) means proving again:
    // the kept proof is not trusted and the broken task is found.
    std::fs::write(dir.join("reference/turn1/greet.py"), "print('hi')\n").unwrap();
    let (changed, cached) = prove_task(&load_task(&dir).unwrap(), sandbox, &proofs)
        .await
        .unwrap();
    assert!(!cached && !changed.valid, "{changed:?}");
    // An unsound task is never kept: it is proven again every time.
    let (_, cached) = prove_task(&load_task(&dir).unwrap(), sandbox, &proofs)
        .await
        .unwrap();
    assert!(!cached);

    // A damaged cache file is no proof, not an error.
    std::fs::write(dir.join("reference/turn1/greet.py"), GREET_OK).unwrap();
    for entry in std::fs::read_dir(root.path().join("proofs")).unwrap() {
        std::fs::write(entry.unwrap().path(), "{ not json").unwrap();
    }
    let (report, cached) = prove_task(&load_task(&dir).unwrap(), sandbox, &proofs)
        .await
        .unwrap();
    assert!(report.valid && !cached);
    // Off: nothing is kept.
    let (_, cached) = prove_task(&load_task(&dir).unwrap(), sandbox, &Proofs::off())
        .await
        .unwrap();
    assert!(!cached);
}
