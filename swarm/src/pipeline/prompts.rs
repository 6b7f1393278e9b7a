//! The texts the pipeline sends. Each carries a marker line (`SCOUT LENS:`, `CONTRACT TASK`,
//! `TASK ID:`, `FIX TASK:`) that logs and scripted fleets can recognise.

use crate::plan::{Plan, PlanTask};
use crate::spec::{render_acceptance, Language, Spec};
use crate::verify::Finding;

/// The names of the three scout lenses.
pub const LENSES: [&str; 3] = ["libraries", "edge_cases", "module_split"];

/// What the scout of `lens` is asked, for an app in `language`.
pub fn lens_instruction(lens: &str, language: Language) -> String {
    match lens {
        "libraries" => match language {
            Language::Python => "Find out what this machine offers for building the app: the Python version (`python3 --version`) and whether the libraries the spec suggests import (`python3 -c 'import NAME'`). Prefer the standard library. End with done{summary}: the version and the modules to use.".into(),
            other => format!(
                "Find out what this machine offers for building the app in {}: the toolchain's version (`{}`) and which of the modules the spec suggests are in {}. Nothing can be downloaded. End with done{{summary}}: the version and the modules to use.",
                other.title(),
                other.version_command(),
                other.standard_library()
            ),
        },
        "edge_cases" => "List the edge cases of the spec's inputs the app must handle: empty input, missing or malformed files, bad numbers, unknown commands, and the exit code and message for each. End with done{summary}: the list.".into(),
        _ => format!(
            "Look at the files already in the project, then propose a split of the app into {} modules of one responsibility each, with the functions each should expose and which module calls which. End with done{{summary}}: the split.",
            language.title()
        ),
    }
}

/// A scout's task.
pub fn scout(lens: &str, instruction: &str, spec: &Spec) -> String {
    format!("SCOUT LENS: {lens}\nYou are a scout: read and run commands, never write files.\n{instruction}\n\n## The spec\n{}", spec.text)
}

/// The planner's request.
pub fn plan(
    spec: &Spec,
    notes: &[(String, String)],
    existing: &[String],
    repair: Option<(&str, &[String])>,
) -> String {
    let run: Vec<String> = spec
        .acceptance
        .iter()
        .flat_map(|s| crate::plan::files_run_by(&s.command))
        .fold(Vec::new(), |mut all, f| {
            if !all.contains(&f) {
                all.push(f);
            }
            all
        });
    let mut text = format!(
        "Plan the build of the app below as a task DAG for a team of workers. Answer with one JSON object with these fields:\n\
         - entry: the command that starts the app;\n\
         - stores_data: true when the app keeps data in SQLite;\n\
         - tasks: a list; each task has id (a short name of your choice, unique), title, files (the files it owns and alone writes), depends_on (ids of the tasks whose code it calls), difficulty (easy, medium or hard) and description (what to build: the functions, and who calls them).\n\
         Rules: no file is owned twice; every file the entry and the acceptance commands run is owned by a task; no cycles; prefer several independent modules (a wide, flat DAG) and one small task that wires them together; \
         The app is written in {}; use only {} unless the notes say otherwise.\n",
        spec.language.title(),
        spec.language.standard_library()
    );
    if !run.is_empty() {
        text.push_str(&format!(
            "The acceptance commands run {}: some task must own each.\n",
            run.join(", ")
        ));
    }
    if !existing.is_empty() {
        text.push_str(&format!(
            "\nThis continues an existing project. Its files: {}. Plan only the changes the request needs; a task may own an existing file to change it.\n",
            existing.join(", ")
        ));
    }
    for (lens, note) in notes {
        text.push_str(&format!("\nScout notes ({lens}):\n{note}\n"));
    }
    if let Some((draft, problems)) = repair {
        text.push_str(&format!(
            "\nA previous draft was invalid:\n{draft}\nIts problems:\n- {}\nWrite a corrected plan.\n",
            problems.join("\n- ")
        ));
    }
    text.push_str(&format!("\n## The spec\n{}", spec.text));
    text
}

/// The request for acceptance commands when the spec has none.
pub fn derive_acceptance(spec: &Spec) -> String {
    format!(
        "The spec below has no acceptance commands. Propose 2 to 6 shell commands that prove the app works, run in order from the app root, each with the exact stdout it must print and its exit code, as JSON: {{\"commands\": [{{\"command\": \"{} ...\", \"stdout\": [\"line\", ...], \"exit_code\": 0}}]}}. Use `[..]` inside a line for text that may vary.\n\n## The spec\n{}",
        spec.language.example_entry(),
        spec.text
    )
}

/// The frozen part of every worker prompt, most stable first: the spec, how the app is run
/// and accepted (both known once a plan is chosen), then the frozen contracts. Each part is
/// the same bytes for every worker, so a server slot that holds a prefix of it in its prompt
/// cache serves that much of a new worker's first request from cache: CONTRACT runs with the
/// part before the contracts (and warms idle slots with it), BUILD with the whole.
pub fn preamble(spec: &Spec, entry: &str, contracts: &[(String, String)]) -> String {
    let mut text = format!(
        "## The spec\n{}\n\n## How the app is run and accepted\nThe app starts with `{entry}`; the whole app must pass:\n{}",
        spec.text,
        render_acceptance(&spec.acceptance)
    );
    if !contracts.is_empty() {
        text.push_str("\n## Frozen contracts\nThese signatures are fixed for the whole team. Implement the ones in your files with exactly these names and parameters, and call other modules only as these signatures allow.\n");
        for (path, content) in contracts {
            let language = match path.rsplit('.').next() {
                Some("sql") => "sql",
                Some("rs") => "rust",
                Some("ts" | "tsx") => "typescript",
                Some("js" | "mjs") => "javascript",
                _ => "python",
            };
            text.push_str(&format!(
                "\n### {path}\n```{language}\n{}\n```\n",
                content.trim_end()
            ));
        }
    }
    text
}

/// What a contract's function bodies hold in `language`.
pub fn placeholder(language: Language) -> &'static str {
    match language {
        Language::Python => "`...`",
        Language::TypeScript => "`throw new Error(\"not implemented\")`",
        Language::Rust => "`todo!()`",
    }
}

/// The contract task.
pub fn contract(plan: &Plan, files: &[String], problems: &[String]) -> String {
    let body = match plan.language {
        Language::Python => "full parameter lists with type hints and a one-line docstring saying what each returns. \
         Every function body is only `...` after the docstring: no logic, no main guard code beyond calling a stubbed main().".to_string(),
        Language::TypeScript => format!("exported functions, classes and their methods with full typed parameter lists and return types, and the interfaces and types they share (written whole). \
         Every function and method body is only {}: no logic.", placeholder(Language::TypeScript)),
        Language::Rust => format!("`pub fn` items and `impl` methods with full typed parameter lists and return types, the structs, enums and traits they share (written whole), and the `mod` lines that wire the modules together. \
         Every function body is only {}: no logic.", placeholder(Language::Rust)),
    };
    let mut text = format!(
        "CONTRACT TASK\nWrite signature-only stubs in {} for these modules: {}.\n\
         For each planned task below, write what other modules will call: {body}\n",
        plan.language.title(),
        files.join(", ")
    );
    if plan.stores_data {
        text.push_str(
            "The app stores data: also write schema.sql with the exact CREATE TABLE statements.\n",
        );
    }
    text.push_str(&format!(
        "Entry command: {}\n\nPlanned tasks:\n",
        plan.entry
    ));
    for task in &plan.tasks {
        text.push_str(&format!(
            "- {} owns {}: {} {}\n",
            task.id,
            task.files.join(", "),
            task.title,
            task.description
        ));
    }
    if !problems.is_empty() {
        text.push_str(&format!(
            "\nThe previous stubs were rejected:\n- {}\n",
            problems.join("\n- ")
        ));
    }
    text.push_str("\nCall done when every module has its stubs.");
    text
}

/// A build task.
pub fn task(task: &PlanTask, plan: &Plan, sent_back: &[String]) -> String {
    let mut text = format!(
        "TASK ID: {}\n{}\n{}\nYour files: {}.\n",
        task.id,
        task.title,
        task.description,
        task.files.join(", ")
    );
    if !task.depends_on.is_empty() {
        text.push_str(&format!(
            "Already built and merged (read them, do not change them): {}.\n",
            task.depends_on.join(", ")
        ));
    }
    text.push_str(&format!(
        "Replace every stub in your files with a working implementation that keeps the frozen signatures; the whole app must pass the acceptance commands above (the app starts with `{}`).\n",
        plan.entry,
    ));
    if !sent_back.is_empty() {
        text.push_str(&format!(
            "\nYour previous attempt was sent back:\n- {}\nFix that, then call done.\n",
            sent_back.join("\n- ")
        ));
    } else {
        text.push_str("\nRun what you can to check your code, then call done.\n");
    }
    text
}

/// A targeted fix task.
pub fn fix(
    task: &PlanTask,
    round: u32,
    findings: &[Finding],
    plan: &Plan,
    sent_back: &[String],
) -> String {
    let mut text = format!(
        "FIX TASK: {} (round {round})\nThe merged app failed verification on your files ({}). Fix exactly these problems, keeping the frozen signatures:\n",
        task.id,
        task.files.join(", ")
    );
    for finding in findings {
        let line = finding.line.map(|l| format!(":{l}")).unwrap_or_default();
        text.push_str(&format!(
            "- [{}/{}] {}{line}: {}\n  evidence:\n{}\n",
            finding.gate,
            finding.kind,
            finding.file,
            finding.message,
            finding
                .evidence
                .lines()
                .take(20)
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    text.push_str(&format!(
        "The whole app must pass the acceptance commands above (the app starts with `{}`).\n",
        plan.entry,
    ));
    if !sent_back.is_empty() {
        text.push_str(&format!(
            "\nYour previous attempt was sent back:\n- {}\n",
            sent_back.join("\n- ")
        ));
    }
    text.push_str("\nRun the failing command to check the fix, then call done.\n");
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod language_tests {
    use super::*;

    #[test]
    fn every_prompt_names_the_spec_s_language_and_its_standard_library() {
        let spec = crate::spec::parse_spec(
            "# vcs\n\nLanguage: Rust\n\n## Acceptance\n\n```console\n$ cargo run --quiet -- init\ninitialised\n```\n",
            "vcs.md",
            false,
        )
        .unwrap();
        assert_eq!(spec.language, Language::Rust);
        let planned = plan(&spec, &[], &[], None);
        assert!(planned.contains("written in Rust"), "{planned}");
        assert!(planned.contains("Rust's standard library"), "{planned}");
        assert!(!planned.contains("Python"), "{planned}");
        let libraries = lens_instruction("libraries", Language::Rust);
        assert!(libraries.contains("`cargo --version`") && !libraries.contains("python3"));
        assert!(
            lens_instruction("module_split", Language::TypeScript).contains("TypeScript modules")
        );
        assert!(derive_acceptance(&spec).contains("cargo run --quiet --"));
        // A Python spec reads as before.
        assert!(lens_instruction("libraries", Language::Python).contains("python3 --version"));
    }

    #[test]
    fn what_every_worker_shares_is_in_the_preamble_and_a_task_s_own_text_holds_only_its_own() {
        let spec = crate::spec::parse_spec(
            "# tally\n\n## Acceptance\n\n```console\n$ python3 tally.py words.txt\n3\n```\n",
            "tally.md",
            false,
        )
        .unwrap();
        let contracts = vec![("count.py".to_string(), "def count(text): ...\n".to_string())];
        let preamble = preamble(&spec, "python3 tally.py", &contracts);
        let acceptance = "$ python3 tally.py words.txt\n3\n";
        // The acceptance commands are in the shared prefix, before the contracts, and the
        // part CONTRACT runs with is a prefix of the whole.
        let at = preamble.find("## How the app is run and accepted").unwrap();
        assert!(preamble.find("def count(text)").unwrap() > at);
        assert!(preamble[at..].contains(acceptance));
        let before_contracts = super::preamble(&spec, "python3 tally.py", &[]);
        assert!(preamble.starts_with(&before_contracts), "{preamble}");
        let task = |id: &str| crate::plan::PlanTask {
            id: id.into(),
            title: format!("{id} title"),
            files: vec![format!("{id}.py")],
            depends_on: Vec::new(),
            difficulty: Default::default(),
            description: String::new(),
        };
        let plan = crate::plan::Plan {
            entry: "python3 tally.py".into(),
            stores_data: false,
            tasks: vec![task("count"), task("tally")],
            language: Language::Python,
        };
        for own in [
            super::task(&plan.tasks[0], &plan, &[]),
            fix(&plan.tasks[1], 1, &[], &plan, &[]),
        ] {
            assert!(!own.contains(acceptance), "{own}");
            assert!(own.contains("acceptance commands above"), "{own}");
        }
    }
}
