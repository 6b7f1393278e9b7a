//! CONTRACT: one task writes signature-only stubs for every planned module and their shared
//! schemas, in the app's language (Python `...` bodies, TypeScript bodies that throw
//! not-implemented, Rust `todo!()` bodies; types whole); they are checked (they parse, every
//! module has one, no body is real), committed on main and frozen: BUILD may not change a
//! frozen signature.

use super::context::{agent_config, forward, role_nodes, Ctx};
use super::events::ContractStatus;
use super::{existing_files, git, prompts, Contracts, Event, Phase, PhaseStatus};
use crate::agent::{run_agent, Outcome, Workspace};
use crate::fleet::live as nodes;
use crate::fleet::Role;
use crate::plan::Plan;
use crate::review;
use std::collections::BTreeSet;
use std::path::Path;

/// Problems with the contract stubs.
fn contract_problems(out: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for file in files {
        let Ok(source) = std::fs::read_to_string(out.join(file)) else {
            problems.push(format!("{file} was not written"));
            continue;
        };
        if file.ends_with(".sql") {
            if !source.to_ascii_uppercase().contains("CREATE TABLE") {
                problems.push(format!("{file} has no CREATE TABLE statement"));
            }
            continue;
        }
        let language = review::language_of(file).unwrap_or_default();
        if review::parses(file, &source) == Some(false) {
            problems.push(format!("{file} does not parse as {}", language.title()));
            continue;
        }
        let signatures = review::signatures_of(file, &source).unwrap_or_default();
        let module_file = file.ends_with("__init__.py") || file.ends_with("mod.rs");
        if signatures.is_empty() && !module_file {
            problems.push(format!("{file} has no function or type signature"));
        }
        for signature in signatures.iter().filter(|s| review::is_function(s)) {
            if !signature.stub {
                problems.push(format!(
                    "{file}:{} `{}` has a body; contracts are signatures with {} bodies",
                    signature.line,
                    signature.name,
                    prompts::placeholder(language)
                ));
            }
        }
    }
    problems
}

pub(super) async fn contract_phase(ctx: &Ctx, plan: &Plan) -> Result<Contracts, String> {
    let files = contract_files(ctx, plan);
    if files.is_empty() {
        let why = "every planned file exists already; its code is the contract";
        ctx.phase(Phase::Contract, PhaseStatus::Skipped, why);
        return nothing_frozen(ctx).await;
    }
    let stubs = format!("stubs for {}", files.join(", "));
    ctx.phase(Phase::Contract, PhaseStatus::Started, stubs);
    let mut problems: Vec<String> = Vec::new();
    let attempts = ctx.knobs.get(crate::knobs::CONTRACT_ATTEMPTS).max(1);
    for attempt in 1..=attempts {
        problems = attempt_contract(ctx, plan, &files, attempt, &problems).await?;
        if problems.is_empty() {
            return freeze(ctx, &files).await;
        }
        ctx.emit(Event::Contract {
            status: ContractStatus::Rejected,
            signatures: 0,
            problems: problems.clone(),
            commit: None,
        });
        // The next attempt (or the build) starts from the project as it was.
        let _ = git::git(&ctx.out, &["checkout", "--", "."]).await;
        let _ = git::git(&ctx.out, &["clean", "-fdq"]).await;
    }
    // Without contracts the workers still build, against nothing frozen: a weaker run, but
    // VERIFY still judges what they make.
    ctx.emit(Event::Contract {
        status: ContractStatus::Abandoned,
        signatures: 0,
        problems: problems.clone(),
        commit: None,
    });
    let why = format!(
        "rejected {attempts} time(s); building without frozen contracts: {}",
        problems.join("; ")
    );
    ctx.phase(Phase::Contract, PhaseStatus::Finished, why);
    nothing_frozen(ctx).await
}

/// The files the contract stubs: planned source modules of the app's language that do not
/// exist yet, and the schema when the app stores data.
fn contract_files(ctx: &Ctx, plan: &Plan) -> Vec<String> {
    let existing: BTreeSet<String> = existing_files(&ctx.out).into_iter().collect();
    let mut files: Vec<String> = plan
        .tasks
        .iter()
        .flat_map(|t| t.files.iter().cloned())
        .filter(|f| review::language_of(f) == Some(ctx.spec.language) && !existing.contains(f))
        .collect();
    if plan.stores_data && !existing.contains("schema.sql") {
        files.push("schema.sql".into());
    }
    files
}

/// Contracts that freeze nothing, at main's head.
async fn nothing_frozen(ctx: &Ctx) -> Result<Contracts, String> {
    let commit = git::head(&ctx.out).await.map_err(|e| e.to_string())?;
    Ok(Contracts {
        commit,
        files: Vec::new(),
        signatures: Vec::new(),
    })
}

/// One contract task on a planner node (the fastest free one); returns what is wrong with
/// the stubs it left (nothing: they can be frozen). `earlier` are the last attempt's
/// problems, for its prompt.
async fn attempt_contract(
    ctx: &Ctx,
    plan: &Plan,
    files: &[String],
    attempt: u32,
    earlier: &[String],
) -> Result<Vec<String>, String> {
    let candidates = role_nodes(ctx, Role::Planner);
    let index = nodes::pick(&ctx.nodes, &candidates, true, true, None)
        .map(|p| p.0)
        .or(candidates.first().copied())
        .ok_or("no planner node is up")?;
    ctx.emit(Event::Dispatch {
        task: "contract".into(),
        node: ctx.nodes[index].node.name.clone(),
        attempt,
        reason: "the contract goes to a planner node".into(),
    });
    let workspace = Workspace::new(&ctx.out)
        .map_err(|e| e.to_string())?
        .with_owned_files(files.to_vec());
    let budget = ctx.knobs.get(crate::knobs::CONTRACT_MAX_ACTIONS);
    let mut config = agent_config(ctx, index, budget);
    // The workers' preamble up to the contracts: the spec and how the app is accepted.
    let spec = prompts::preamble(&ctx.spec, &plan.entry, &[]);
    // The contract holds a slot of its node (its conversation stays in that slot's cache);
    // on the first attempt every other worker slot is given that part meanwhile.
    let live = &ctx.nodes[index];
    let slot = live.acquire(None);
    config.cache_slot = live.cache_slot(slot);
    if attempt == 1 {
        super::prewarm::warm(ctx, "contract", &spec, &[(index, slot)]);
    }
    config.preamble = Some(spec);
    let report = run_agent(
        &live.client,
        &workspace,
        &config,
        &prompts::contract(plan, files, earlier),
        &forward(ctx, "contract", index),
    )
    .await;
    live.release(slot);
    let mut problems = contract_problems(&ctx.out, files);
    if report.outcome != Outcome::Done && problems.is_empty() {
        problems.push(format!(
            "the contract task did not finish: {}",
            report.summary
        ));
    }
    Ok(problems)
}

/// Commits the stubs on main, keeps a copy in the run directory and freezes their
/// signatures.
async fn freeze(ctx: &Ctx, files: &[String]) -> Result<Contracts, String> {
    let commit = git::commit_all(&ctx.out, "swarm: frozen contracts")
        .await
        .map_err(|e| e.to_string())?;
    let mut contracts = Contracts {
        commit: commit.clone(),
        ..Contracts::default()
    };
    let dir = ctx.run_dir.join("contracts");
    for file in files {
        let content = std::fs::read_to_string(ctx.out.join(file)).unwrap_or_default();
        let copy = dir.join(file);
        if let Some(parent) = copy.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(copy, &content);
        contracts
            .signatures
            .extend(review::signatures_of(file, &content).unwrap_or_default());
        contracts.files.push((file.clone(), content));
    }
    ctx.emit(Event::Contract {
        status: ContractStatus::Committed,
        signatures: contracts.signatures.len(),
        problems: Vec::new(),
        commit: Some(commit),
    });
    let frozen = format!(
        "{} signature(s) frozen in {} file(s)",
        contracts.signatures.len(),
        files.len()
    );
    ctx.phase(Phase::Contract, PhaseStatus::Finished, frozen);
    Ok(contracts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_checks_want_parsing_stubs_for_every_module_and_a_real_schema() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| std::fs::write(dir.path().join(path), text).unwrap();
        write(
            "store.py",
            "def add(item: str) -> int:\n    \"\"\"Add one.\"\"\"\n    ...\n",
        );
        write("report.py", "def total(rows):\n    return sum(rows)\n");
        write("broken.py", "def f(:\n");
        write("empty.py", "X = 1\n");
        write("schema.sql", "-- tables come later\n");
        let files: Vec<String> = [
            "store.py",
            "report.py",
            "broken.py",
            "empty.py",
            "missing.py",
            "schema.sql",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        let problems = contract_problems(dir.path(), &files);
        assert_eq!(
            problems,
            vec![
                "report.py:1 `total` has a body; contracts are signatures with `...` bodies",
                "broken.py does not parse as Python",
                "empty.py has no function or type signature",
                "missing.py was not written",
                "schema.sql has no CREATE TABLE statement",
            ]
        );
        write(
            "schema.sql",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n",
        );
        assert!(
            contract_problems(dir.path(), &["store.py".into(), "schema.sql".into()]).is_empty()
        );
    }

    #[test]
    fn typescript_and_rust_contracts_are_checked_the_same_way() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            crate::fsutil::write_inside(dir.path(), path, text.as_bytes()).unwrap()
        };
        write(
            "src/store.ts",
            "export interface Item { name: string }\nexport function add(item: Item): number {\n  throw new Error(\"not implemented\");\n}\n",
        );
        write(
            "src/report.ts",
            "export function total(rows: number[]): number {\n  return rows.length;\n}\n",
        );
        write(
            "src/store.rs",
            "pub struct Item {\n    pub name: String,\n}\npub fn add(item: &Item) -> u32 {\n    todo!()\n}\n",
        );
        write(
            "src/report.rs",
            "pub fn total(rows: &[u32]) -> u32 {\n    rows.len() as u32\n}\n",
        );
        write("src/broken.rs", "pub fn f(:\n");
        let files: Vec<String> = [
            "src/store.ts",
            "src/report.ts",
            "src/store.rs",
            "src/report.rs",
            "src/broken.rs",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        assert_eq!(
            contract_problems(dir.path(), &files),
            vec![
                "src/report.ts:1 `total` has a body; contracts are signatures with `throw new Error(\"not implemented\")` bodies",
                "src/report.rs:1 `total` has a body; contracts are signatures with `todo!()` bodies",
                "src/broken.rs does not parse as Rust",
            ]
        );
    }
}
