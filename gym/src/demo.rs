//! Scripted models for demos and tests on swarm-sim: a careful one that replays each task's
//! reference solutions, and a sloppy one that fails the way weak models do — interface drift,
//! a module built but never wired in, claiming done without writing, crashing on realistic
//! input. Their replies are scripted: anything built with them is labelled simulated.

use crate::task::Task;
use serde_json::json;
use std::path::Path;
use swarm::sim::{Fault, NodeSpec, Reply, Rule, Scenario, ScriptedCall, When};

/// The files under `dir`, relative and sorted, as (path, content).
pub fn files_of(dir: &Path) -> Vec<(String, String)> {
    graders::fsutil::text_files(dir, usize::MAX)
}

fn action(tool: &str, args: serde_json::Value) -> Reply {
    Reply {
        action: Some(ScriptedCall {
            tool: tool.into(),
            args,
        }),
        ..Reply::default()
    }
}

/// A rule that fires on the conversation of one turn (recognised by the start of its request)
/// at one step, on one node (or any).
fn step(node: Option<&str>, name: String, key: &str, number: u32, reply: Reply) -> Rule {
    Rule {
        name: Some(name),
        node: node.map(String::from),
        when: When {
            contains: Some(key.to_string()),
            turn: Some(number),
            ..When::default()
        },
        reply,
        fault: Fault::default(),
        times: None,
    }
}

/// Text that identifies a turn's conversation: the start of its request.
fn turn_key(request: &str) -> String {
    request.chars().take(60).collect()
}

/// The careful model: each turn writes the files of the turn's reference that changed since
/// the previous turn, then calls done.
pub fn careful_rules(tasks: &[Task], node: Option<&str>) -> Vec<Rule> {
    let mut rules = Vec::new();
    for task in tasks {
        let mut previous: Vec<(String, String)> =
            task.start.as_deref().map(files_of).unwrap_or_default();
        for turn in &task.turns {
            let key = turn_key(&turn.request);
            let files = files_of(&turn.reference);
            let changed: Vec<&(String, String)> =
                files.iter().filter(|f| !previous.contains(f)).collect();
            for (index, (path, content)) in changed.iter().enumerate() {
                let name = format!("careful {} turn {} writes {path}", task.id, turn.number);
                rules.push(step(
                    node,
                    name,
                    &key,
                    index as u32 + 1,
                    action("write_file", json!({"path": path, "content": content})),
                ));
            }
            let name = format!("careful {} turn {} done", task.id, turn.number);
            rules.push(step(
                node,
                name,
                &key,
                changed.len() as u32 + 1,
                action("done", json!({"summary": "built it and ran it"})),
            ));
            previous = files;
        }
    }
    rules
}

/// What the sloppy model writes for one turn of a smoke task: (files, then done).
fn sloppy_turn(task: &str, turn: usize) -> Vec<(&'static str, &'static str)> {
    match (task, turn) {
        // Interface drift: the helper takes two arguments, the caller passes one.
        ("wordfreq", 1) => vec![
            ("textutil.py", "def tokenize(text, lowercase):\n    words = text.split()\n    return [w.lower() for w in words] if lowercase else words\n"),
            ("wordfreq.py", "import sys\nfrom collections import Counter\nfrom textutil import tokenize\n\n\ndef main():\n    text = open(sys.argv[1]).read()\n    for word, count in Counter(tokenize(text)).most_common():\n        print(word, count)\n\n\nif __name__ == '__main__':\n    main()\n"),
        ],
        // A storage module built but never imported; the item text keeps only one word.
        ("todo", 1) => vec![
            ("storage.py", "import json\n\n\ndef load(path):\n    with open(path) as handle:\n        return json.load(handle)\n\n\ndef save(path, items):\n    with open(path, 'w') as handle:\n        json.dump(items, handle)\n"),
            ("todo.py", "import json\nimport os\nimport sys\n\nitems = json.load(open('todo.json')) if os.path.exists('todo.json') else []\ncommand = sys.argv[1]\nif command == 'add':\n    items.append({'text': sys.argv[2], 'done': False})\n    print(f'added {len(items)}: {sys.argv[2]}')\nelif command == 'list':\n    for number, item in enumerate(items, 1):\n        print(f\"{number} [{'x' if item['done'] else ' '}] {item['text']}\")\nelif command == 'done':\n    items[int(sys.argv[2]) - 1]['done'] = True\n    print(f'done {sys.argv[2]}')\njson.dump(items, open('todo.json', 'w'))\n"),
        ],
        // Works on the example, crashes (KeyError) on a unit it does not know.
        ("units", 1) => vec![(
            "units.py",
            "import sys\n\nFACTORS = {('km', 'mi'): 1 / 1.609344, ('mi', 'km'): 1.609344}\n\n\ndef main(argv):\n    value, source, target = float(argv[0]), argv[1], argv[2]\n    print(f'{value * FACTORS[(source, target)]:.3f} {target}')\n\n\nif __name__ == '__main__':\n    main(sys.argv[1:])\n",
        )],
        // A new module that nothing imports; the script is unchanged.
        ("units", 2) => vec![("mass.py", "def kg_to_lb(value):\n    return value * 2.20462262\n")],
        // Everything else: claims done without writing anything.
        _ => Vec::new(),
    }
}

/// The sloppy model, for the smoke suite's tasks (any other task: done without writing).
pub fn sloppy_rules(tasks: &[Task], node: Option<&str>) -> Vec<Rule> {
    let mut rules = Vec::new();
    for task in tasks {
        for turn in &task.turns {
            let key = turn_key(&turn.request);
            let files = sloppy_turn(&task.id, turn.number);
            for (index, (path, content)) in files.iter().enumerate() {
                let name = format!("sloppy {} turn {} writes {path}", task.id, turn.number);
                rules.push(step(
                    node,
                    name,
                    &key,
                    index as u32 + 1,
                    action("write_file", json!({"path": path, "content": content})),
                ));
            }
            let name = format!("sloppy {} turn {} done", task.id, turn.number);
            rules.push(step(
                node,
                name,
                &key,
                files.len() as u32 + 1,
                action(
                    "done",
                    json!({"summary": "all done and tested, everything works"}),
                ),
            ));
        }
    }
    rules
}

/// A fast simulated node.
pub fn sim_node(name: &str, model: &str) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        model: model.into(),
        tokens_per_second: 5_000.0,
        prefill_tokens_per_second: 200_000.0,
        slots: 4,
        context_length: 32_768,
        supports_tools: true,
        port: 0,
    }
}

/// The command that runs `entry`: `python3 -m pkg` for a package's `__main__.py`.
fn entry_command(entry: &str) -> String {
    match entry.strip_suffix("/__main__.py") {
        Some(package) => format!("python3 -m {}", package.replace('/', ".")),
        None => format!("python3 {entry}"),
    }
}

/// Rules that answer only requests naming `model` (one server answering as several models),
/// as a study's arms need: every node serves the arm's model.
pub fn for_model(rules: Vec<Rule>, model: &str) -> Vec<Rule> {
    rules
        .into_iter()
        .map(|mut rule| {
            rule.node = None;
            rule.when.model = Some(model.to_string());
            rule
        })
        .collect()
}

/// What a scripted model writes in a turn: (task, turn, the files before it) → (path, content).
pub type WrittenFiles =
    dyn Fn(&Task, &crate::task::Turn, &[(String, String)]) -> Vec<(String, String)>;

/// A turn's entry: the file that plays it in the plan, the command that runs the app, and the
/// weak self-check a weak model would derive (the gym's hidden checks are what grade). Read
/// from the language of the first command the checks run: `cargo run` is a Rust crate whose
/// entry is `src/main.rs`; `node dist/cli.js` runs the compiled `cli.ts`; else Python.
fn entry_of(turn: &crate::task::Turn, files: &[(String, String)]) -> (String, String, String) {
    use swarm::spec::Language;
    let first_command = turn.checks.iter().find_map(|check| match check {
        graders::checks::Check::Console(body) => swarm::parse_console(body)
            .into_iter()
            .next()
            .map(|s| s.command),
        graders::checks::Check::CommandSucceeds(command) => Some(command.clone()),
        _ => None,
    });
    let language = first_command.as_deref().and_then(Language::of_command);
    match (language, first_command) {
        (Some(Language::Rust), _) => (
            "src/main.rs".into(),
            "cargo run --quiet --".into(),
            "cargo build --quiet --offline".into(),
        ),
        (Some(Language::TypeScript), Some(command)) => {
            let run = swarm::review::sources_run_by(&command)
                .into_iter()
                .next()
                .unwrap_or_else(|| "dist/cli.js".into());
            let stem = run
                .trim_start_matches("dist/")
                .trim_end_matches(".js")
                .to_string();
            let source = files
                .iter()
                .map(|(path, _)| path.clone())
                .find(|path| *path == format!("{stem}.ts") || *path == format!("src/{stem}.ts"))
                .unwrap_or(format!("{stem}.ts"));
            (
                source.clone(),
                format!("node {run}"),
                format!("test -s {source}"),
            )
        }
        _ => {
            let entry = entry_file(turn, files).unwrap_or_else(|| "main.py".into());
            let check = format!("python3 -m py_compile {entry}");
            (entry.clone(), entry_command(&entry), check)
        }
    }
}

/// The file a turn's checks run (its entry), else the first Python file with a main guard.
fn entry_file(turn: &crate::task::Turn, files: &[(String, String)]) -> Option<String> {
    let from_checks = turn.checks.iter().find_map(|check| match check {
        graders::checks::Check::Console(body) => swarm::parse_console(body)
            .iter()
            .flat_map(|step| swarm::files_run_by(&step.command))
            .next(),
        graders::checks::Check::CommandSucceeds(command) => {
            swarm::files_run_by(command).into_iter().next()
        }
        _ => None,
    });
    // `python3 -m pkg` runs pkg/__main__.py when pkg is a package.
    let from_checks = from_checks.map(|file| {
        let main = swarm::package_main(&file);
        if files.iter().any(|(p, _)| *p == main) && !files.iter().any(|(p, _)| *p == file) {
            main
        } else {
            file
        }
    });
    from_checks.or_else(|| {
        files
            .iter()
            .find(|(path, content)| path.ends_with(".py") && swarm::has_main_guard(content))
            .or(files.first())
            .map(|(path, _)| path.clone())
    })
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn on(node: Option<&str>, mut rule: Rule) -> Rule {
    rule.node = node.map(String::from);
    rule
}

fn schema_rule(
    node: Option<&str>,
    name: String,
    schema: &str,
    key: &str,
    json: serde_json::Value,
) -> Rule {
    Rule {
        name: Some(name),
        node: node.map(String::from),
        when: When {
            schema: Some(schema.into()),
            contains: Some(key.into()),
            ..When::default()
        },
        reply: Reply {
            json: Some(json),
            ..Reply::default()
        },
        fault: Fault::default(),
        times: None,
    }
}

/// Scripted replies for every phase of the pipeline, for a model that writes `written` in
/// each turn of each task: scouts give short notes; the derived acceptance is a compile check
/// of the entry file (a weak self-check, as a weak model's would be: the gym's hidden checks
/// are what grade); the plan has one task per written file, the entry's task depending on the
/// others; the contract is the written code with its bodies stubbed; each build or fix task
/// writes its file and calls done. `written(task, turn, previous files)` gives the files.
pub fn swarm_rules(
    tasks: &[Task],
    node: Option<&str>,
    label: &str,
    written: &WrittenFiles,
) -> Vec<Rule> {
    let mut rules = vec![on(
        node,
        swarm::demo::rule(
            &format!("{label} scout"),
            "SCOUT LENS:",
            None,
            action(
                "done",
                json!({"summary": "the language's toolchain with its standard library; no extra packages"}),
            ),
        ),
    )];
    let mut per_turn: Vec<Vec<Rule>> = Vec::new();
    for task in tasks {
        let mut previous: Vec<(String, String)> =
            task.start.as_deref().map(files_of).unwrap_or_default();
        for turn in &task.turns {
            let mut turn_rules = Vec::new();
            let key = turn_key(&turn.request);
            let files = written(task, turn, &previous);
            // The entry is the app's, whichever files this turn changes.
            let mut app_files = files_of(&turn.reference);
            app_files.extend(files.iter().cloned());
            let (entry, entry_command, self_check) = entry_of(turn, &app_files);
            let id = |path: &str| format!("{}-t{}-{}", task.id, turn.number, slug(path));
            // Files to plan: what it writes, or (writing nothing) the entry it claims to build.
            let planned: Vec<String> = if files.is_empty() {
                vec![entry.clone()]
            } else {
                files.iter().map(|(path, _)| path.clone()).collect()
            };
            let entry_id = id(planned
                .iter()
                .find(|p| **p == entry)
                .unwrap_or(&planned[planned.len() - 1]));
            let plan_tasks: Vec<serde_json::Value> = planned
                .iter()
                .map(|path| {
                    let this = id(path);
                    let deps: Vec<String> = if this == entry_id {
                        planned.iter().map(|p| id(p)).filter(|d| *d != this).collect()
                    } else {
                        Vec::new()
                    };
                    json!({"id": this, "title": format!("write {path}"), "files": [path], "depends_on": deps, "difficulty": "medium", "description": format!("{path} as the request asks")})
                })
                .collect();
            turn_rules.push(schema_rule(
                node,
                format!("{label} {} turn {} plan", task.id, turn.number),
                swarm::PLAN_SCHEMA_NAME,
                &key,
                json!({"entry": entry_command, "stores_data": false, "tasks": plan_tasks}),
            ));
            turn_rules.push(schema_rule(
                node,
                format!("{label} {} turn {} acceptance", task.id, turn.number),
                "acceptance",
                &key,
                json!({"commands": [{"command": self_check, "stdout": [], "exit_code": 0}]}),
            ));
            let existing: Vec<&String> = previous.iter().map(|(p, _)| p).collect();
            let stubs: Vec<(String, String)> = files
                .iter()
                .filter(|(path, _)| {
                    swarm::review::language_of(path).is_some() && !existing.contains(&path)
                })
                .filter_map(|(path, content)| {
                    Some((path.clone(), swarm::review::stub_source(path, content)?))
                })
                .collect();
            let contract_key = format!("- {} owns", id(&planned[0]));
            for (index, (path, stub)) in stubs.iter().enumerate() {
                turn_rules.push(on(
                    node,
                    swarm::demo::write(
                        &format!("{label} {} contract {path}", task.id),
                        &contract_key,
                        index as u32 + 1,
                        path,
                        stub,
                    ),
                ));
            }
            turn_rules.push(on(
                node,
                swarm::demo::done(
                    &format!("{label} {} contract done", task.id),
                    &contract_key,
                    stubs.len() as u32 + 1,
                    "stubs written",
                ),
            ));
            for path in &planned {
                let content = files
                    .iter()
                    .find(|(p, _)| p == path)
                    .map(|(_, c)| c.clone());
                for marker in [
                    format!("TASK ID: {}", id(path)),
                    format!("FIX TASK: {}", id(path)),
                ] {
                    match &content {
                        Some(content) => {
                            turn_rules.push(on(
                                node,
                                swarm::demo::write(
                                    &format!("{label} {marker}"),
                                    &marker,
                                    1,
                                    path,
                                    content,
                                ),
                            ));
                            turn_rules.push(on(
                                node,
                                swarm::demo::done(
                                    &format!("{label} {marker} done"),
                                    &marker,
                                    2,
                                    "built it and ran it",
                                ),
                            ));
                        }
                        None => {
                            for number in 1..=2 {
                                turn_rules.push(on(
                                    node,
                                    swarm::demo::done(
                                        &format!("{label} {marker} claims done"),
                                        &marker,
                                        number,
                                        "all done and tested, everything works",
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            per_turn.push(turn_rules);
            previous = files_of(&turn.reference);
        }
    }
    // Later turns first: their spec quotes the app's description, never a later request.
    for turn_rules in per_turn.into_iter().rev() {
        rules.extend(turn_rules);
    }
    rules
}

/// What the careful model writes in a turn: the files of the reference that changed.
pub fn careful_files(
    _: &Task,
    turn: &crate::task::Turn,
    previous: &[(String, String)],
) -> Vec<(String, String)> {
    files_of(&turn.reference)
        .into_iter()
        .filter(|f| !previous.contains(f))
        .collect()
}

/// What the sloppy model writes in a turn (see [`sloppy_rules`]).
pub fn sloppy_files(
    task: &Task,
    turn: &crate::task::Turn,
    _: &[(String, String)],
) -> Vec<(String, String)> {
    let files = match task.suite.as_str() {
        "smoke-rust" => sloppy_rust_turn(&task.id, turn.number),
        "smoke-ts" => sloppy_typescript_turn(&task.id, turn.number),
        _ => sloppy_turn(&task.id, turn.number),
    };
    files
        .into_iter()
        .map(|(path, content)| (path.to_string(), content.to_string()))
        .collect()
}

const SLOPPY_MANIFEST: &str =
    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// The sloppy model's Rust, for tasks/smoke-rust.
fn sloppy_rust_turn(task: &str, turn: usize) -> Vec<(&'static str, &'static str)> {
    match (task, turn) {
        // Plain `+` (a debug build panics on overflow, exit 101) and a stack module that no
        // `mod` declares: cargo never compiles it.
        ("rpn", 1) => vec![
            ("Cargo.toml", SLOPPY_MANIFEST),
            ("src/stack.rs", "pub struct Stack(pub Vec<i64>);\n\nimpl Stack {\n    pub fn pop2(&mut self) -> Option<(i64, i64)> {\n        let right = self.0.pop()?;\n        Some((self.0.pop()?, right))\n    }\n}\n"),
            ("src/main.rs", "fn main() {\n    let expr = std::env::args().nth(1).unwrap_or_default();\n    let mut stack: Vec<i64> = Vec::new();\n    for token in expr.split_whitespace() {\n        match token {\n            \"+\" | \"-\" | \"*\" | \"/\" => {\n                let b = stack.pop().unwrap();\n                let a = stack.pop().unwrap();\n                stack.push(match token {\n                    \"+\" => a + b,\n                    \"-\" => a - b,\n                    \"*\" => a * b,\n                    _ => a / b,\n                });\n            }\n            number => stack.push(number.parse().unwrap()),\n        }\n    }\n    println!(\"{}\", stack[0]);\n}\n"),
        ],
        // `show` left as `todo!()`.
        ("tally", 1) => vec![
            ("Cargo.toml", SLOPPY_MANIFEST),
            ("src/main.rs", "use std::collections::BTreeMap;\n\nfn load() -> BTreeMap<String, u64> {\n    let text = std::fs::read_to_string(\"tally.txt\").unwrap_or_default();\n    text.lines()\n        .filter_map(|l| l.rsplit_once(' '))\n        .map(|(n, c)| (n.to_string(), c.parse().unwrap_or(0)))\n        .collect()\n}\n\nfn show(_counts: &BTreeMap<String, u64>) {\n    todo!()\n}\n\nfn main() {\n    let args: Vec<String> = std::env::args().skip(1).collect();\n    let mut counts = load();\n    if args[0] == \"show\" {\n        show(&counts);\n        return;\n    }\n    let n: u64 = args.get(2).map_or(1, |n| n.parse().unwrap());\n    let total = counts.entry(args[1].clone()).or_insert(0);\n    *total += n;\n    println!(\"{} {}\", args[1], total);\n    let text: String = counts.iter().map(|(n, c)| format!(\"{n} {c}\\n\")).collect();\n    std::fs::write(\"tally.txt\", text).unwrap();\n}\n"),
        ],
        _ => Vec::new(),
    }
}

/// The sloppy model's TypeScript, for tasks/smoke-ts.
fn sloppy_typescript_turn(task: &str, turn: usize) -> Vec<(&'static str, &'static str)> {
    match (task, turn) {
        // Numbers as doubles (64-bit integers lose their last digits, nothing overflows) and
        // a stack module nothing imports.
        ("rpn", 1) => vec![
            ("stack.ts", "export function pop2(stack: number[]): [number, number] {\n  const right = stack.pop();\n  const left = stack.pop();\n  if (left === undefined || right === undefined) throw new Error(\"malformed expression\");\n  return [left, right];\n}\n"),
            ("cli.ts", "const stack: number[] = [];\nfor (const token of (process.argv[2] ?? \"\").split(\" \")) {\n  if (\"+-*/\".includes(token) && token.length === 1) {\n    const b = stack.pop()!;\n    const a = stack.pop()!;\n    stack.push(token === \"+\" ? a + b : token === \"-\" ? a - b : token === \"*\" ? a * b : Math.trunc(a / b));\n  } else {\n    stack.push(Number(token));\n  }\n}\nconsole.log(String(stack[0]));\n"),
        ],
        // `show` left throwing not-implemented.
        ("tally", 1) => vec![(
            "cli.ts",
            "import * as fs from \"node:fs\";\n\nfunction show(): void {\n  throw new Error(\"not implemented\");\n}\n\nconst [command, name, amount] = process.argv.slice(2);\nif (command === \"show\") {\n  show();\n} else {\n  const counts = new Map<string, number>();\n  if (fs.existsSync(\"tally.txt\")) {\n    for (const line of fs.readFileSync(\"tally.txt\", \"utf8\").split(\"\\n\").filter(Boolean)) {\n      const [n, c] = line.split(\" \");\n      counts.set(n, Number(c));\n    }\n  }\n  const total = (counts.get(name) ?? 0) + Number(amount ?? 1);\n  counts.set(name, total);\n  console.log(`${name} ${total}`);\n  fs.writeFileSync(\"tally.txt\", [...counts].map(([n, c]) => `${n} ${c}\\n`).join(\"\"));\n}\n",
        )],
        _ => Vec::new(),
    }
}

/// The reply of a scripted model past its script: it claims it is done.
pub fn claims_done() -> Reply {
    action(
        "done",
        json!({"summary": "all done and tested, everything works"}),
    )
}

/// Every task of a suite directory, loaded (a task that does not load is an error).
pub fn load_suite(dir: &Path) -> Result<Vec<Task>, crate::task::TaskError> {
    crate::task::suite_task_dirs(dir)?
        .iter()
        .map(|task| crate::task::load_task(task))
        .collect()
}

/// Two scripted nodes running the whole pipeline, told apart by node: `careful` = (node,
/// model) replays the references, `sloppy` = (node, model) fails as weak models do. Both may
/// serve the same model name (a model update gone wrong, as a nightly sees it).
pub fn careful_and_sloppy(tasks: &[Task], careful: (&str, &str), sloppy: (&str, &str)) -> Scenario {
    let mut rules = swarm_rules(tasks, Some(careful.0), "careful", &careful_files);
    rules.extend(swarm_rules(tasks, Some(sloppy.0), "sloppy", &sloppy_files));
    Scenario {
        nodes: vec![sim_node(careful.0, careful.1), sim_node(sloppy.0, sloppy.1)],
        rules,
        // Past its script a scripted model claims it is done, as weak models do.
        default_reply: Some(claims_done()),
    }
}
