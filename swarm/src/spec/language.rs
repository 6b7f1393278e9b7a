//! The language an app is written in: stated by the spec (a `Language: Rust` line), else
//! implied by its acceptance commands (`cargo run`, `node dist/cli.js`, `python3 app.py`),
//! else Python. It is part of the spec, the plan and the run's events, and every phase reads
//! it: what the scouts probe, what the planner is told, whether contracts can be frozen, and
//! which gates can judge the code.

use crate::console::ConsoleStep;
use serde::{Deserialize, Serialize};

/// A language the swarm knows of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Python 3 (everything the pipeline's gates read today).
    #[default]
    Python,
    /// TypeScript on Node.
    TypeScript,
    /// Rust with cargo.
    Rust,
}

crate::named!(Language { Python => "python", TypeScript => "typescript", Rust => "rust" });

impl Language {
    /// Its name in prose.
    pub fn title(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::TypeScript => "TypeScript",
            Language::Rust => "Rust",
        }
    }

    /// The programs on `PATH` its gates need (TypeScript also needs its compiler, see
    /// [`crate::toolchain`]).
    pub fn toolchain(self) -> &'static [&'static str] {
        match self {
            Language::Python => &["python3"],
            Language::TypeScript => &["node"],
            Language::Rust => &["cargo"],
        }
    }

    /// The command that says the toolchain's version (what the libraries scout runs).
    pub fn version_command(self) -> &'static str {
        match self {
            Language::Python => "python3 --version",
            Language::TypeScript => "node --version",
            Language::Rust => "cargo --version",
        }
    }

    /// What "only the standard library" means in it.
    pub fn standard_library(self) -> &'static str {
        match self {
            Language::Python => "the Python standard library",
            Language::TypeScript => "Node's built-in modules (no npm packages)",
            Language::Rust => "Rust's standard library (no crates from crates.io)",
        }
    }

    /// An example command that runs an app in it.
    pub fn example_entry(self) -> &'static str {
        match self {
            Language::Python => "python3 app.py",
            Language::TypeScript => "node dist/cli.js",
            Language::Rust => "cargo run --quiet --",
        }
    }

    /// The language a name means (`rust`, `TypeScript`, `ts`, `py`, ...).
    pub fn from_name(name: &str) -> Option<Language> {
        match name.trim().to_ascii_lowercase().as_str() {
            "python" | "python3" | "py" => Some(Language::Python),
            "typescript" | "ts" | "node" | "nodejs" => Some(Language::TypeScript),
            "rust" | "rs" | "cargo" => Some(Language::Rust),
            _ => None,
        }
    }

    /// The language a command runs, from its program (after any `NAME=value` assignments).
    pub fn of_command(command: &str) -> Option<Language> {
        let program = command
            .split_whitespace()
            .find(|word| !word.contains('='))?
            .rsplit('/')
            .next()?;
        match program {
            "cargo" | "rustc" => Some(Language::Rust),
            "node" | "npx" | "npm" | "tsc" | "ts-node" | "tsx" => Some(Language::TypeScript),
            "python" | "python3" | "pytest" => Some(Language::Python),
            _ if program.ends_with(".py") => Some(Language::Python),
            _ => None,
        }
    }
}

/// The spec's language and how it was decided: a `Language:` line (the first one outside code
/// blocks), else the first acceptance command whose program names one, else Python.
pub fn detect(text: &str, acceptance: &[ConsoleStep]) -> (Language, String) {
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let plain = trimmed
            .trim_start_matches(['-', '*', ' '])
            .replace("**", "");
        let Some((key, value)) = plain.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("language") {
            continue;
        }
        let word = value
            .split([' ', ',', '.', '('])
            .find(|w| !w.is_empty())
            .unwrap_or("");
        if let Some(language) = Language::from_name(word) {
            return (language, format!("stated by the spec (`{}`)", plain.trim()));
        }
    }
    for step in acceptance {
        if let Some(language) = Language::of_command(&step.command) {
            return (
                language,
                format!("implied by the acceptance command `{}`", step.command),
            );
        }
    }
    (
        Language::Python,
        "the default (the spec names no language, and no acceptance command implies one)".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(command: &str) -> ConsoleStep {
        ConsoleStep {
            command: command.into(),
            expected: Vec::new(),
            exit_code: 0,
        }
    }

    #[test]
    fn a_stated_language_wins_then_the_acceptance_commands_then_python() {
        let (language, why) = detect("# vcs\n\n**Language:** Rust\n", &[step("python3 x.py")]);
        assert_eq!(language, Language::Rust);
        assert!(why.starts_with("stated"), "{why}");
        let (language, why) = detect("# sheet\n", &[step("LANG=C node dist/cli.js add")]);
        assert_eq!(language, Language::TypeScript);
        assert!(why.contains("node dist/cli.js"), "{why}");
        assert_eq!(
            detect("# t\n", &[step("cargo run --quiet -- add x")]).0,
            Language::Rust
        );
        assert_eq!(
            detect("# t\n", &[step("./todo.py add")]).0,
            Language::Python
        );
        let (language, why) = detect("# t\nWrite a todo app.\n", &[step("sh run.sh")]);
        assert_eq!(language, Language::Python);
        assert!(why.contains("default"), "{why}");
    }

    #[test]
    fn a_language_line_inside_a_code_block_or_an_unknown_name_is_not_a_statement() {
        let text = "# t\n```text\nLanguage: Rust\n```\nLanguage: Cobol\n";
        assert_eq!(detect(text, &[]).0, Language::Python);
        assert_eq!(
            detect("- language: TypeScript (Node 20)\n", &[]).0,
            Language::TypeScript
        );
    }
}
