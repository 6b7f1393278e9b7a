//! `swarm-gym generate`: the brain invents tasks; only proven, new ones are kept.

use crate::{runtime, sandbox_gate, GenerateArgs};
use std::process::ExitCode;

pub(crate) fn generate_command(args: GenerateArgs) -> ExitCode {
    use gym::generate::{self, DraftOutcome};
    let fail = |err: String| {
        eprintln!("swarm-gym generate: {err}");
        ExitCode::from(2)
    };
    if args.n == 0 || args.persona.trim().is_empty() {
        return fail("--n must be at least 1 and --persona must say who the user is".into());
    }
    let passed = match &args.from_results {
        Some(_) if args.archetype != gym::task::Archetype::ContinueExisting => {
            return fail(
                "--from-results continues an app: it needs --archetype continue-existing".into(),
            )
        }
        Some(results) => match gym::continue_app::passed_project(results, args.row) {
            Ok(passed) => Some(passed),
            Err(err) => return fail(err),
        },
        None => None,
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let fleet = match args.fleet.load(&runtime) {
        Ok(fleet) => fleet,
        Err(err) => return fail(err),
    };
    let brain = match runtime.block_on(gym::sut::probe_brain(&fleet, &swarm::Knobs::default())) {
        Ok(brain) => brain,
        Err(err) => return fail(err.to_string().replace("--simulate-user", "generate")),
    };
    let sandbox = match sandbox_gate() {
        Ok(sandbox) => sandbox,
        Err(refusal) => return fail(refusal),
    };
    if let Err(err) = std::fs::create_dir_all(&args.out) {
        return fail(format!("{}: {err}", args.out.display()));
    }
    let mut known = generate::known_tasks(&args.existing);
    for task in generate::known_in_suite(&args.out) {
        if !known.iter().any(|k| k.name == task.name) {
            known.push(task);
        }
    }
    let max_drafts = args.max_drafts.unwrap_or(args.n * 3).max(args.n);
    eprintln!(
        "swarm-gym generate: {} {} task(s) by {} ({}), at most {max_drafts} draft(s); {} existing task(s) to avoid",
        args.n,
        serde_json::to_value(args.archetype)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        brain.model,
        args.persona,
        known.len()
    );
    let mut outcomes = Vec::new();
    let mut kept = 0;
    for attempt in 1..=max_drafts {
        if kept == args.n {
            break;
        }
        let avoid: Vec<String> = known.iter().map(|k| k.id.clone()).collect();
        let existing = passed.as_ref().map(|p| p.files.as_slice());
        let text = generate::prompt(
            args.archetype,
            &args.persona,
            &avoid,
            args.language,
            existing,
        );
        let outcome =
            match runtime.block_on(generate::ask_draft(&brain, text, args.max_reply_tokens)) {
                Ok(mut draft) => {
                    // A continued app starts from the project that passed, whatever the brain
                    // put in start_files.
                    if let Some(passed) = &passed {
                        draft.start_files = passed.files.clone();
                    }
                    runtime.block_on(generate::judge_draft(
                        &draft,
                        args.archetype,
                        &args.persona,
                        &args.out,
                        attempt,
                        &mut known,
                        sandbox,
                    ))
                }
                Err(why) => generate::reject_unusable(&args.out, attempt, &why),
            };
        match &outcome {
            DraftOutcome::Kept(path) => {
                kept += 1;
                if let Some(passed) = &passed {
                    let origin = serde_json::to_string_pretty(&passed.origin).unwrap_or_default();
                    if let Err(err) = std::fs::write(path.join("origin.json"), origin) {
                        eprintln!("  cannot record where its start came from: {err}");
                    }
                }
                eprintln!(
                    "  draft {attempt}: KEPT {} (proven by tasks check)",
                    path.display()
                );
            }
            DraftOutcome::Rejected(why) => eprintln!("  draft {attempt}: rejected: {why}"),
        }
        outcomes.push(outcome);
    }
    println!(
        "kept {kept} of {} draft(s) into {}",
        outcomes.len(),
        args.out.display()
    );
    for outcome in &outcomes {
        if let DraftOutcome::Kept(path) = outcome {
            println!("  kept: {}", path.display());
        }
    }
    for (kind, count) in generate::rejection_counts(&outcomes) {
        println!("  rejected {count}: {kind}");
    }
    if kept < args.n {
        let rejected = args.out.join(".rejected");
        let kept_aside =
            std::fs::read_dir(&rejected).is_ok_and(|mut entries| entries.next().is_some());
        println!(
            "fewer tasks than asked ({kept} of {}); {}",
            args.n,
            if kept_aside {
                format!("rejected drafts are under {}", rejected.display())
            } else {
                "no rejected draft could be kept for inspection".to_string()
            }
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
