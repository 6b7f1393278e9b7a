//! Scripted models for demos and tests on swarm-sim: a careful one that replays each task's
//! reference solutions, and a sloppy one that fails the way weak models do — interface drift,
//! a module built but never wired in, claiming done without writing, crashing on realistic
//! input. Their replies are scripted: anything built with them is labelled simulated.

use crate::task::Task;
use serde_json::json;
use std::path::Path;
use swarm::sim::{Fault, NodeSpec, Reply, Rule, ScriptedCall, When};

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
