//! The spec: Markdown whose `## Acceptance` section holds console blocks (the golden check
//! VERIFY runs exactly) and whose `file=PATH` blocks are fixtures written before them.

pub mod console;
pub mod language;

pub use language::Language;

use crate::console::{console_steps, fixtures, ConsoleStep, Fixture};
use serde::{Deserialize, Serialize};

/// A parsed spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// The first `# ` heading, or the file name.
    pub title: String,
    /// The whole Markdown, as the planner and workers see it.
    pub text: String,
    /// The acceptance commands, in order (run in one fresh directory).
    pub acceptance: Vec<ConsoleStep>,
    /// Fixture files.
    pub fixtures: Vec<Fixture>,
    /// The language the app is written in.
    #[serde(default)]
    pub language: Language,
    /// How the language was decided (stated, implied by a command, or the default).
    #[serde(default)]
    pub language_reason: String,
}

/// A spec that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

/// How acceptance commands are written, for errors.
pub fn acceptance_help(language: Language) -> String {
    let run = language.example_entry();
    format!(
        "Add a section like this to the spec:

    ## Acceptance

    ```console
    $ {run} add \"buy milk\"
    added 1: buy milk
    $ {run} list
    1 [..] buy milk
    $ {run} remove 99
    ? 1
    ```

`$ CMD` lines run in order from the app root; the lines after one are its expected stdout
(`[..]` matches within a line, a line `...` matches any lines); `? N` states a non-zero exit
code. Files the commands need go in fenced blocks with `file=PATH` in the info string."
    )
}

/// What `swarm run` adds to [`acceptance_help`] (only it has the flag).
pub const DERIVE_HINT: &str =
    "Or pass --derive-acceptance to let the planner propose the commands (they are printed before building).";

/// The Markdown of the `## Acceptance` section (up to the next `## ` heading).
fn acceptance_section(markdown: &str) -> Option<String> {
    let mut section: Option<String> = None;
    let mut in_fence = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if !in_fence && trimmed.starts_with("## ") {
            let heading = trimmed.trim_start_matches('#').trim().to_ascii_lowercase();
            if heading.starts_with("acceptance") {
                section = Some(String::new());
                continue;
            } else if section.is_some() {
                break;
            }
        }
        if let Some(text) = section.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    section
}

/// Parses a spec. Without acceptance commands it is refused (with [`acceptance_help`])
/// unless `allow_missing_acceptance` (then the planner derives them).
pub fn parse_spec(
    text: &str,
    origin: &str,
    allow_missing_acceptance: bool,
) -> Result<Spec, SpecError> {
    if text.trim().is_empty() {
        return Err(SpecError(format!("{origin}: the spec is empty")));
    }
    let title = text
        .lines()
        .find_map(|line| line.strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| origin.rsplit('/').next().unwrap_or(origin).to_string());
    let acceptance = acceptance_section(text)
        .map(|section| console_steps(&section))
        .unwrap_or_default();
    if let Some(empty) = acceptance.iter().find(|s| s.command.is_empty()) {
        return Err(SpecError(format!(
            "{origin}: an acceptance block has an empty `$` line (expected stdout {:?})",
            empty.expected
        )));
    }
    if acceptance.is_empty() && !allow_missing_acceptance {
        let (language, _) = language::detect(text, &acceptance);
        return Err(SpecError(format!(
            "{origin}: the spec has no acceptance commands, so nothing could prove the app works.\n{}",
            acceptance_help(language)
        )));
    }
    let fixtures = fixtures(text);
    // A fixture is written by this process, not in the sandbox: one that names a path
    // outside the app is refused before anything is written anywhere.
    if let Some((fixture, why)) = fixtures.iter().find_map(|fixture| {
        crate::fsutil::outside_path_reason(&fixture.path).map(|why| (fixture, why))
    }) {
        return Err(SpecError(format!(
            "{origin}: the fixture `file={}` is refused: {why}; a fixture's path must be \
             relative to the app root, without `..` (e.g. `file=data/input.txt`)",
            fixture.path
        )));
    }
    let (language, language_reason) = language::detect(text, &acceptance);
    Ok(Spec {
        title,
        text: text.to_string(),
        acceptance,
        fixtures,
        language,
        language_reason,
    })
}

/// Acceptance steps written back as a console block (for derived acceptance and prompts).
pub fn render_acceptance(steps: &[ConsoleStep]) -> String {
    let mut out = String::from("```console\n");
    for step in steps {
        out.push_str(&format!("$ {}\n", step.command));
        for line in &step.expected {
            out.push_str(line);
            out.push('\n');
        }
        if step.exit_code != 0 {
            out.push_str(&format!("? {}\n", step.exit_code));
        }
    }
    out.push_str("```\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn acceptance_comes_only_from_its_section() {
        let text = "# Tally\n\nCounts words.\n\n```console\n$ echo not-acceptance\n```\n\n## Acceptance\n\n```console\n$ python3 tally.py words.txt\n? 0\nthe 2\n...\n$ python3 tally.py missing.txt\n? 1\n```\n\n```text file=words.txt\nthe cat the\n```\n\n## Notes\n\n```console\n$ echo later\n```\n";
        let spec = parse_spec(text, "spec.md", false).unwrap();
        assert_eq!(spec.title, "Tally");
        let commands: Vec<&str> = spec.acceptance.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(
            commands,
            vec!["python3 tally.py words.txt", "python3 tally.py missing.txt"]
        );
        assert_eq!(spec.acceptance[1].exit_code, 1);
        assert_eq!(spec.fixtures[0].path, "words.txt");
        assert!(
            render_acceptance(&spec.acceptance).contains("$ python3 tally.py missing.txt\n? 1\n")
        );
    }

    #[test]
    fn a_spec_without_acceptance_is_refused_with_how_to_write_it() {
        let err = parse_spec("# App\nDo things.\n", "app.md", false).unwrap_err();
        assert!(
            err.0
                .starts_with("app.md: the spec has no acceptance commands"),
            "{err}"
        );
        assert!(err.0.contains("## Acceptance") && !err.0.contains("--derive-acceptance"));
        assert!(err.0.contains("$ python3 app.py list"), "{err}");
        // The example is in the spec's language.
        let err = parse_spec("# App\n\nLanguage: Rust\n", "app.md", false).unwrap_err();
        assert!(
            err.0.contains("$ cargo run --quiet -- list") && !err.0.contains("python3"),
            "{err}"
        );
        let err = parse_spec("# App\n\nLanguage: TypeScript\n", "app.md", false).unwrap_err();
        assert!(err.0.contains("$ node dist/cli.js list"), "{err}");
        assert!(parse_spec("# App\nDo things.\n", "app.md", true).is_ok());
        assert!(parse_spec("  \n", "e.md", true)
            .unwrap_err()
            .0
            .contains("empty"));
    }

    #[test]
    fn a_fixture_outside_the_app_is_refused_naming_it() {
        for (path, why) in [
            ("../../x", "climbs out"),
            ("/abs/x", "absolute"),
            ("data/../../x", "climbs out"),
            ("\"\"", "empty"),
        ] {
            let text = format!(
                "# App\n\n## Acceptance\n\n```console\n$ cat x\n```\n\n```text file={path}\nboom\n```\n"
            );
            let err = parse_spec(&text, "spec.md", false).unwrap_err();
            assert!(
                err.0.starts_with("spec.md: the fixture `file=") && err.0.contains(why),
                "{path}: {err}"
            );
        }
        let fine = "# App\n\n## Acceptance\n\n```console\n$ cat data/x\n```\n\n```text file=data/x\nok\n```\n";
        assert_eq!(
            parse_spec(fine, "spec.md", false).unwrap().fixtures[0].path,
            "data/x"
        );
    }
}
