//! Tests of plans: schema, validation, repair, scoring and choice.

use super::*;
use pretty_assertions::assert_eq;

fn task(id: &str, files: &[&str], deps: &[&str]) -> PlanTask {
    PlanTask {
        id: id.into(),
        title: id.into(),
        files: files.iter().map(|f| f.to_string()).collect(),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        difficulty: Difficulty::Medium,
        description: String::new(),
    }
}

fn plan(tasks: Vec<PlanTask>) -> Plan {
    Plan {
        entry: "python3 app.py".into(),
        stores_data: false,
        language: Default::default(),
        tasks,
    }
}

#[test]
fn a_cycle_is_rejected_and_named() {
    let cyclic = plan(vec![
        task("cli", &["app.py"], &["report"]),
        task("store", &["store.py"], &["cli"]),
        task("report", &["report.py"], &["store"]),
    ]);
    let problems = validate(&cyclic, &PlanContext::default());
    assert_eq!(
        problems,
        vec!["the dependencies form a cycle: cli → report → store → cli"]
    );
    assert_eq!(score(&cyclic), None);
    let self_loop = plan(vec![task("a", &["app.py"], &["a"])]);
    assert_eq!(
        find_cycle(&self_loop.tasks),
        Some(vec!["a".to_string(), "a".to_string()])
    );
}

#[test]
fn ownership_dependencies_and_entry_are_checked() {
    let bad = Plan {
        entry: "python3 app.py".into(),
        stores_data: false,
        language: Default::default(),
        tasks: vec![
            task("a", &["util.py", "../x.py"], &["ghost"]),
            task("b", &["util.py"], &[]),
            task("b", &[], &[]),
        ],
    };
    let context = PlanContext {
        commands: vec!["python3 tool.py --x".into()],
        existing: ["tool.py".to_string()].into(),
    };
    let problems = validate(&bad, &context);
    assert_eq!(
        problems,
        vec![
            "task `a`: the path `../x.py` leaves the project",
            "task `a` depends on `ghost`, which is not a task",
            "the id `b` is used by more than one task",
            "`util.py` is owned by both `a` and `b`; ownership must be disjoint",
            "task `b` owns no file",
            "the entry command runs `app.py`, but no task owns it: ownership is incomplete",
        ]
    );
}

#[test]
fn normalizing_repairs_mechanical_mistakes_and_leaves_cycles() {
    let sloppy = Plan {
        entry: "python3 app.py".into(),
        stores_data: false,
        language: Default::default(),
        tasks: vec![
            task("short-id", &["util.py"], &["other-id"]),
            task(
                "short-id",
                &["main.py", "util.py"],
                &["short-id", "short-id"],
            ),
            task("x", &["util.py"], &[]),
        ],
    };
    let context = PlanContext {
        commands: vec!["python3 hello.py Ada".into()],
        existing: BTreeSet::new(),
    };
    let (fixed, notes) = normalize(&sloppy, &context);
    assert_eq!(
        validate(&fixed, &context),
        Vec::<String>::new(),
        "{notes:#?}"
    );
    assert_eq!(fixed.entry, "python3 hello.py");
    let view: Vec<(&str, Vec<&str>, Vec<&str>)> = fixed
        .tasks
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.files.iter().map(String::as_str).collect(),
                t.depends_on.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        view,
        vec![
            ("short-id", vec!["util.py"], vec![]),
            ("short-id-2", vec!["main.py", "hello.py"], vec!["short-id"]),
        ]
    );
    assert_eq!(notes.len(), 7, "{notes:#?}");
    let cyclic = plan(vec![
        task("a", &["app.py"], &["b"]),
        task("b", &["b.py"], &["a"]),
    ]);
    let (still, _) = normalize(&cyclic, &PlanContext::default());
    assert!(validate(&still, &PlanContext::default())[0].contains("cycle"));
}

#[test]
fn the_scorer_prefers_wide_and_flat_whatever_the_order() {
    let chain = plan(vec![
        task("a", &["app.py"], &["b"]),
        task("b", &["b.py"], &["c"]),
        task("c", &["c.py"], &[]),
    ]);
    let wide = plan(vec![
        task("a", &["app.py"], &["b", "c"]),
        task("b", &["b.py"], &[]),
        task("c", &["c.py"], &[]),
    ]);
    let one = plan(vec![task("all", &["app.py", "b.py", "c.py"], &[])]);
    assert_eq!(
        score(&wide).unwrap(),
        PlanScore {
            score: 179,
            width: 2,
            depth: 2,
            largest: 1
        }
    );
    assert_eq!(score(&chain).unwrap().score, 100 - 30 - 1);
    assert_eq!(score(&one).unwrap().score, 100 - 10 - 3);
    assert_eq!(
        choose(&[Some(&chain), None, Some(&wide), Some(&one)]),
        Some(2)
    );
    assert_eq!(choose(&[Some(&wide), Some(&one), Some(&chain)]), Some(0));
    // Equal scores: the canonical JSON decides, not the position.
    let mut twin = wide.clone();
    twin.tasks[1].description = "z".into();
    let first = choose(&[Some(&wide), Some(&twin)]);
    let second = choose(&[Some(&twin), Some(&wide)]);
    assert_eq!((first, second), (Some(0), Some(1)));
    assert_eq!(downstream_counts(&chain.tasks)["c"], 2);
    assert_eq!(files_run_by("python3 -m inv.cli add x"), vec!["inv/cli.py"]);
}

#[test]
fn a_plan_may_have_more_tasks_when_the_fleet_has_the_slots() {
    assert_eq!(max_tasks(0, 4), 16, "a small fleet keeps the old cap");
    assert_eq!(max_tasks(0, 20), 40, "twice the workers' slots");
    assert_eq!(max_tasks(0, 256), 64, "never above 64 unless chosen");
    assert_eq!(max_tasks(100, 2), 100, "the knob wins");
    let schema = plan_schema(40).schema;
    assert_eq!(schema["properties"]["tasks"]["maxItems"], 40);
    assert_eq!(
        schema["properties"]["tasks"]["items"]["properties"]["depends_on"]["maxItems"],
        40
    );
}
