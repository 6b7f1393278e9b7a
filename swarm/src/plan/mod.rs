//! Plans: the task DAG a planner drafts under a JSON schema, its validation, and the
//! deterministic scorer that picks one of N drafts.
//!
//! A plan is valid when it has tasks with unique ids, every dependency exists, the graph is
//! acyclic (a cycle is named, `a → b → a`), every task owns at least one file, no file is owned
//! twice, paths stay inside the project, it has an entry command, and every project file the
//! entry and acceptance commands run is owned by a task (or already exists).
//!
//! Score (higher wins): `100 × width − 10 × depth − largest task's file count`, where depth is
//! the number of levels of the DAG (a task's level is one more than its deepest dependency)
//! and width the most tasks on one level: the widest plan first, then the flattest, then the
//! one with the smallest largest task. Ties go to the draft whose canonical JSON sorts first,
//! so the same drafts always give the same choice, in any order.

use crate::llm::JsonSchemaFormat;
use petgraph::graph::DiGraph;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// How hard a task is; hard tasks go to the fastest free node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    /// Small and mechanical.
    Easy,
    /// The default.
    #[default]
    Medium,
    /// Core logic.
    Hard,
}

/// One task of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTask {
    /// Unique id.
    pub id: String,
    /// Short title.
    #[serde(default)]
    pub title: String,
    /// Files the task owns (only it writes them).
    pub files: Vec<String>,
    /// Tasks that must be merged first.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// How hard.
    #[serde(default)]
    pub difficulty: Difficulty,
    /// What to build.
    #[serde(default)]
    pub description: String,
}

/// A plan draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The command that starts the app (e.g. `python3 app.py`).
    pub entry: String,
    /// Whether the app stores data in SQLite (CONTRACT then writes `schema.sql`).
    #[serde(default)]
    pub stores_data: bool,
    /// The tasks.
    pub tasks: Vec<PlanTask>,
    /// The app's language: the spec's, set by the pipeline when it chooses the plan (a
    /// draft does not choose it).
    #[serde(default)]
    pub language: crate::spec::Language,
}

/// Name of the response schema for plan drafts.
pub const PLAN_SCHEMA_NAME: &str = "plan_draft";

/// The fewest tasks a plan may always have (the cap before the scheduler could use more).
pub const BASE_MAX_TASKS: usize = 16;

/// The most tasks a plan may have on a fleet whose workers have `worker_slots` slots in all,
/// unless a knob says otherwise (`chosen` > 0): 16, or twice the slots when that is more (so
/// every slot has work while the rest waits on dependencies), never above 64.
pub fn max_tasks(chosen: u32, worker_slots: usize) -> usize {
    if chosen > 0 {
        return chosen as usize;
    }
    (2 * worker_slots).clamp(BASE_MAX_TASKS, 64)
}

/// The JSON schema plan drafts are requested under, for plans of at most `max_tasks` tasks.
pub fn plan_schema(max_tasks: usize) -> JsonSchemaFormat {
    JsonSchemaFormat {
        name: PLAN_SCHEMA_NAME.into(),
        schema: json!({
            "type": "object",
            "properties": {
                                // Lengths bound what a rambling model can put in a field (servers that turn
                // schemas into grammars enforce them), so the JSON stays whole.
                "entry": {"type": "string", "maxLength": 120},
                "stores_data": {"type": "boolean"},
                "tasks": {"type": "array", "minItems": 1, "maxItems": max_tasks, "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "maxLength": 40},
                        "title": {"type": "string", "maxLength": 100},
                        "files": {"type": "array", "minItems": 1, "maxItems": 8, "items": {"type": "string", "maxLength": 80}},
                        "depends_on": {"type": "array", "maxItems": max_tasks, "items": {"type": "string", "maxLength": 40}},
                        "difficulty": {"type": "string", "enum": ["easy", "medium", "hard"]},
                        "description": {"type": "string", "maxLength": 600}
                    },
                    "required": ["id", "files", "depends_on", "difficulty", "description"]
                }}
            },
            "required": ["entry", "tasks"]
        }),
    }
}

/// What validation needs to know besides the plan.
#[derive(Debug, Clone, Default)]
pub struct PlanContext {
    /// Acceptance commands of the spec.
    pub commands: Vec<String>,
    /// Files already in the project (a continuation).
    pub existing: BTreeSet<String>,
}

/// Modules of Python's standard library (and pytest) that commands run with `-m`: they are
/// tools, not project files.
const TOOL_MODULES: [&str; 16] = [
    "py_compile",
    "compileall",
    "unittest",
    "pytest",
    "doctest",
    "json",
    "http",
    "venv",
    "pip",
    "timeit",
    "cProfile",
    "pdb",
    "sqlite3",
    "zipfile",
    "tarfile",
    "ensurepip",
];

/// `pkg/__main__.py` for `pkg.py`: what `python3 -m pkg` runs when `pkg` is a package.
pub fn package_main(file: &str) -> String {
    format!("{}/__main__.py", file.trim_end_matches(".py"))
}

/// Project files a shell command runs: `python3 x.py`, `python -m pkg.mod`, `./x.sh`.
pub fn files_run_by(command: &str) -> Vec<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut found = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        let module_root = word.split('.').next().unwrap_or(word);
        if index > 0 && words[index - 1] == "-m" && TOOL_MODULES.contains(&module_root) {
            continue;
        }
        if index > 0 && words[index - 1] == "-m" {
            found.push(format!("{}.py", word.replace('.', "/")));
        } else if word.ends_with(".py") || (word.starts_with("./") && word.len() > 2) {
            found.push(word.trim_start_matches("./").to_string());
        }
    }
    found
}

fn path_problem(path: &str) -> Option<&'static str> {
    if path.trim().is_empty() {
        Some("is empty")
    } else if path.starts_with('/') {
        Some("is absolute")
    } else if path.split('/').any(|part| part == "..") {
        Some("leaves the project")
    } else if path.chars().any(char::is_whitespace) {
        Some("holds whitespace")
    } else if path
        .split('/')
        .any(|part| part.starts_with('.') && part != ".")
    {
        Some("is hidden (.git and .swarm belong to the swarm)")
    } else {
        None
    }
}

/// A cycle among the tasks, named in order and closed (`a → b → a`), if there is one.
pub fn find_cycle(tasks: &[PlanTask]) -> Option<Vec<String>> {
    let mut graph = DiGraph::<&str, ()>::new();
    let index: BTreeMap<&str, _> = tasks
        .iter()
        .map(|t| (t.id.as_str(), graph.add_node(t.id.as_str())))
        .collect();
    for task in tasks {
        for dep in &task.depends_on {
            if let (Some(from), Some(to)) = (index.get(task.id.as_str()), index.get(dep.as_str())) {
                graph.add_edge(*from, *to, ());
            }
        }
    }
    petgraph::algo::toposort(&graph, None).err()?;
    for component in petgraph::algo::tarjan_scc(&graph) {
        let looped = component.len() == 1 && graph.contains_edge(component[0], component[0]);
        if component.len() < 2 && !looped {
            continue;
        }
        let members: BTreeSet<_> = component.iter().copied().collect();
        // Walk from the smallest id along edges inside the component until a node repeats.
        let start = *component.iter().min_by_key(|n| graph[**n])?;
        let mut path = vec![start];
        let mut current = start;
        loop {
            let next = graph
                .neighbors(current)
                .filter(|n| members.contains(n))
                .min_by_key(|n| graph[*n])?;
            if let Some(at) = path.iter().position(|n| *n == next) {
                let mut names: Vec<String> =
                    path[at..].iter().map(|n| graph[*n].to_string()).collect();
                names.push(graph[next].to_string());
                return Some(names);
            }
            path.push(next);
            current = next;
        }
    }
    None
}

/// Every reason the plan is invalid (empty: valid).
pub fn validate(plan: &Plan, context: &PlanContext) -> Vec<String> {
    let mut problems = Vec::new();
    if plan.tasks.is_empty() {
        problems.push("the plan has no tasks".to_string());
        return problems;
    }
    if plan.entry.trim().is_empty() {
        problems.push("the plan has no entry command".to_string());
    }
    let ids: BTreeSet<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (position, task) in plan.tasks.iter().enumerate() {
        if task.id.trim().is_empty() {
            problems.push(format!("task #{} has no id", position + 1));
        }
        if plan.tasks.iter().filter(|t| t.id == task.id).count() > 1
            && plan.tasks.iter().position(|t| t.id == task.id) == Some(position)
        {
            problems.push(format!(
                "the id `{}` is used by more than one task",
                task.id
            ));
        }
        if task.files.is_empty() {
            problems.push(format!("task `{}` owns no file", task.id));
        }
        for file in &task.files {
            if let Some(problem) = path_problem(file) {
                problems.push(format!("task `{}`: the path `{file}` {problem}", task.id));
            }
            if let Some(first) = owner.insert(file.as_str(), task.id.as_str()) {
                if first != task.id {
                    problems.push(format!(
                        "`{file}` is owned by both `{first}` and `{}`; ownership must be disjoint",
                        task.id
                    ));
                }
            }
        }
        for dep in &task.depends_on {
            if !ids.contains(dep.as_str()) {
                problems.push(format!(
                    "task `{}` depends on `{dep}`, which is not a task",
                    task.id
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(&plan.tasks) {
        problems.push(format!(
            "the dependencies form a cycle: {}",
            cycle.join(" → ")
        ));
    }
    let mut run: Vec<(String, String)> = files_run_by(&plan.entry)
        .into_iter()
        .map(|f| (f, "the entry command".to_string()))
        .collect();
    for command in &context.commands {
        run.extend(
            files_run_by(command)
                .into_iter()
                .map(|f| (f, format!("`{command}`"))),
        );
    }
    let mut reported = BTreeSet::new();
    for (file, by) in run {
        let package_main = package_main(&file);
        if !owner.contains_key(file.as_str())
            && !owner.contains_key(package_main.as_str())
            && !context.existing.contains(&file)
            && !context.existing.contains(&package_main)
            && reported.insert(file.clone())
        {
            problems.push(format!(
                "{by} runs `{file}`, but no task owns it: ownership is incomplete"
            ));
        }
    }
    let mut unique = Vec::new();
    for problem in problems {
        if !unique.contains(&problem) {
            unique.push(problem);
        }
    }
    unique
}

/// Repairs the mechanical mistakes weak planners make, before validation, and says what it
/// changed: a repeated id gets a suffix, a dependency on a task that does not exist is
/// dropped, a file owned twice stays with its first owner (a task left without files is
/// removed), an empty entry command becomes the first acceptance command's program, an entry
/// that runs a file nobody owns becomes one the acceptance commands run, and a file the
/// commands run that nobody owns goes to the task that wires the app together (the last task
/// nothing depends on, with the most dependencies). Cycles are design errors and are left for
/// validation to reject.
pub fn normalize(plan: &Plan, context: &PlanContext) -> (Plan, Vec<String>) {
    let mut plan = plan.clone();
    let mut notes = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for task in plan.tasks.iter_mut() {
        task.id = task.id.trim().to_string();
        if task.id.is_empty() {
            task.id = "task".into();
        }
        if !seen.insert(task.id.clone()) {
            let mut n = 2;
            while seen.contains(&format!("{}-{n}", task.id)) {
                n += 1;
            }
            let renamed = format!("{}-{n}", task.id);
            notes.push(format!(
                "renamed a repeated id `{}` to `{renamed}`",
                task.id
            ));
            task.id = renamed.clone();
            seen.insert(renamed);
        }
    }
    let mut owned: BTreeSet<String> = BTreeSet::new();
    for task in plan.tasks.iter_mut() {
        let before = task.files.len();
        let mut kept = Vec::new();
        for file in &task.files {
            let file = file.trim().trim_start_matches("./").to_string();
            if owned.insert(file.clone()) {
                kept.push(file);
            } else {
                notes.push(format!(
                    "`{file}` stays with its first owner, not `{}`",
                    task.id
                ));
            }
        }
        task.files = kept;
        if before > 0 && task.files.is_empty() {
            notes.push(format!(
                "removed `{}`: all its files belong to other tasks",
                task.id
            ));
        }
    }
    plan.tasks.retain(|t| !t.files.is_empty());
    let ids: BTreeSet<String> = plan.tasks.iter().map(|t| t.id.clone()).collect();
    for task in plan.tasks.iter_mut() {
        let id = task.id.clone();
        let mut kept: Vec<String> = Vec::new();
        for dep in &task.depends_on {
            if !ids.contains(dep) || *dep == id {
                notes.push(format!(
                    "dropped `{id}`'s dependency on `{dep}`, which is not another task"
                ));
            } else if !kept.contains(dep) {
                kept.push(dep.clone());
            }
        }
        task.depends_on = kept;
    }
    if plan.entry.trim().is_empty() {
        if let Some(first) = context.commands.first() {
            let words: Vec<&str> = first.split_whitespace().collect();
            let end = words
                .iter()
                .position(|w| w.ends_with(".py"))
                .map_or(1, |i| i + 1);
            plan.entry = words[..end.min(words.len())].join(" ");
            notes.push(format!(
                "the entry command was empty; using `{}` from the acceptance commands",
                plan.entry
            ));
        }
    }
    let entry_files = files_run_by(&plan.entry);
    let known = |f: &String| {
        let main = package_main(f);
        owned.contains(f)
            || context.existing.contains(f)
            || owned.contains(&main)
            || context.existing.contains(&main)
    };
    if !entry_files.iter().any(known) {
        if let Some(first) = context.commands.iter().flat_map(|c| files_run_by(c)).next() {
            if let Some(program) = plan.entry.split_whitespace().next() {
                let program = if entry_files.is_empty() {
                    "python3"
                } else {
                    program
                };
                let entry = format!("{program} {first}");
                notes.push(format!("the entry `{}` runs a file no task owns; using `{entry}`, which the acceptance commands run", plan.entry));
                plan.entry = entry;
            }
        }
    }
    let mut run: Vec<String> = files_run_by(&plan.entry);
    run.extend(context.commands.iter().flat_map(|c| files_run_by(c)));
    for file in run {
        let main = package_main(&file);
        if owned.contains(&file)
            || context.existing.contains(&file)
            || owned.contains(&main)
            || context.existing.contains(&main)
            || path_problem(&file).is_some()
        {
            continue;
        }
        let target = plan
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| !plan.tasks.iter().any(|o| o.depends_on.contains(&t.id)))
            .max_by_key(|(i, t)| (t.depends_on.len(), *i))
            .map(|(i, _)| i);
        if let Some(index) = target {
            notes.push(format!(
                "`{file}` is run but was not owned; it goes to `{}`",
                plan.tasks[index].id
            ));
            plan.tasks[index].files.push(file.clone());
            owned.insert(file);
        }
    }
    (plan, notes)
}

/// Level of each task (1 for tasks without dependencies); `None` when cyclic.
pub fn levels(tasks: &[PlanTask]) -> Option<BTreeMap<String, usize>> {
    let mut level: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..=tasks.len() {
        let mut changed = false;
        for task in tasks {
            let deps: Option<Vec<usize>> = task
                .depends_on
                .iter()
                .filter(|d| tasks.iter().any(|t| &t.id == *d))
                .map(|d| level.get(d).copied())
                .collect();
            if let Some(deps) = deps {
                let value = deps.into_iter().max().unwrap_or(0) + 1;
                if level.get(&task.id) != Some(&value) {
                    level.insert(task.id.clone(), value);
                    changed = true;
                }
            }
        }
        if !changed && level.len() == tasks.len() {
            return Some(level);
        }
    }
    None
}

/// The score of a valid plan and its parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanScore {
    /// The score.
    pub score: i64,
    /// Most tasks on one level.
    pub width: usize,
    /// Levels.
    pub depth: usize,
    /// Files of the largest task.
    pub largest: usize,
}

/// Scores a plan (see the module docs); `None` for a cyclic plan.
pub fn score(plan: &Plan) -> Option<PlanScore> {
    let levels = levels(&plan.tasks)?;
    let depth = levels.values().copied().max().unwrap_or(0);
    let width = (1..=depth)
        .map(|l| levels.values().filter(|v| **v == l).count())
        .max()
        .unwrap_or(0);
    let largest = plan.tasks.iter().map(|t| t.files.len()).max().unwrap_or(0);
    Some(PlanScore {
        score: 100 * width as i64 - 10 * depth as i64 - largest as i64,
        width,
        depth,
        largest,
    })
}

/// Index of the best valid draft among `drafts` (each `Some` when valid).
pub fn choose(drafts: &[Option<&Plan>]) -> Option<usize> {
    drafts
        .iter()
        .enumerate()
        .filter_map(|(index, plan)| {
            let plan = (*plan)?;
            let score = score(plan)?;
            let canonical = serde_json::to_string(plan).unwrap_or_default();
            Some((index, score.score, canonical))
        })
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.2.cmp(&a.2)))
        .map(|(index, _, _)| index)
}

/// Per task: how many tasks depend on it, directly or not (the scheduler's priority).
pub fn downstream_counts(tasks: &[PlanTask]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for task in tasks {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack = vec![task.id.as_str()];
        while let Some(current) = stack.pop() {
            for other in tasks {
                if other.depends_on.iter().any(|d| d == current) && seen.insert(other.id.as_str()) {
                    stack.push(other.id.as_str());
                }
            }
        }
        counts.insert(task.id.clone(), seen.len());
    }
    counts
}

#[cfg(test)]
mod tests;
