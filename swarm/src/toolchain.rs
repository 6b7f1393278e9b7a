//! Where the toolchains the gates run are found, and what building an app in each language
//! takes before its commands can run.
//!
//! Python and Rust come from the machine (`python3`, the sysroot of `rustc`). TypeScript needs
//! a compiler Node 20 does not have: the npm packages `typescript` and `@types/node`, installed
//! once into a cache outside every app (`.ci/prepare-typescript.sh` puts them in
//! `~/.cache/swarm-gym/typescript`; `SWARM_TYPESCRIPT` names another such directory). The
//! sandbox shows that directory read-only, so an app is compiled offline with nothing of its
//! own installed.

use crate::spec::Language;
use std::path::{Path, PathBuf};

/// The environment variable naming the cache directory (default `~/.cache/swarm-gym`).
pub const CACHE_ENV: &str = "SWARM_GYM_CACHE";
/// The environment variable naming a directory holding `node_modules/typescript` and
/// `node_modules/@types/node` (overrides the cache's `typescript/`).
pub const TYPESCRIPT_ENV: &str = "SWARM_TYPESCRIPT";
/// How to install the TypeScript compiler, said wherever it is missing.
pub const TYPESCRIPT_INSTALL: &str = "bash .ci/prepare-typescript.sh (npm install --prefix ~/.cache/swarm-gym/typescript typescript @types/node)";

/// The cache swarm-gym keeps outside every repository: `$SWARM_GYM_CACHE`, else
/// `~/.cache/swarm-gym`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os(CACHE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::home_dir()
                .unwrap_or_default()
                .join(".cache/swarm-gym")
        })
}

/// An installed TypeScript compiler with Node's type declarations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeScript {
    /// The directory holding `node_modules/` (shown read-only in the sandbox).
    pub root: PathBuf,
}

impl TypeScript {
    /// The compiler found through `SWARM_TYPESCRIPT` or in the cache, or why there is none.
    pub fn locate() -> Result<TypeScript, String> {
        let (root, named) = match std::env::var_os(TYPESCRIPT_ENV) {
            Some(root) => (PathBuf::from(root), true),
            None => (cache_dir().join("typescript"), false),
        };
        let found = TypeScript {
            root: root.canonicalize().unwrap_or(root),
        };
        let lacking: Vec<&str> = [
            (found.tsc(), "typescript"),
            (found.type_roots().join("node/index.d.ts"), "@types/node"),
        ]
        .into_iter()
        .filter(|(path, _)| !path.is_file())
        .map(|(_, package)| package)
        .collect();
        if lacking.is_empty() {
            return Ok(found);
        }
        let place = if named {
            format!("{TYPESCRIPT_ENV}={}", found.root.display())
        } else {
            found.root.display().to_string()
        };
        Err(format!(
            "the TypeScript compiler is not installed here ({} missing in {place}); install it once with {TYPESCRIPT_INSTALL}",
            lacking.join(" and ")
        ))
    }

    /// The compiler's entry script (run with `node`).
    pub fn tsc(&self) -> PathBuf {
        self.root.join("node_modules/typescript/bin/tsc")
    }

    /// Where Node's type declarations are.
    pub fn type_roots(&self) -> PathBuf {
        self.root.join("node_modules/@types")
    }

    /// The shell command that compiles the app in its root: its own `tsconfig.json` when it
    /// has one, else every `.ts` source (`sources`) into `dist/` as modern Node modules
    /// (strict). Either way Node's types come from the cache, and errors print one per line
    /// (`file(line,col): error TSnnnn: ...`).
    pub fn compile_command(&self, has_tsconfig: bool, sources: &[String]) -> String {
        let tsc = shell_word(&self.tsc().to_string_lossy());
        let types = shell_word(&self.type_roots().to_string_lossy());
        let common = format!("--pretty false --typeRoots {types} --types node");
        if has_tsconfig {
            return format!("node {tsc} -p . {common}");
        }
        let files: Vec<String> = sources.iter().map(|s| shell_word(s)).collect();
        format!(
            "node {tsc} {common} --outDir dist --rootDir . --target es2022 --module nodenext --moduleResolution nodenext --strict --skipLibCheck {}",
            files.join(" ")
        )
    }
}

/// The folder a compile of `app` writes its JavaScript into, relative: tsconfig.json's
/// `outDir` (when the file parses and names a folder inside the app), `dist` when there
/// is no tsconfig.json (the compile command's own choice); `None` when a tsconfig.json names
/// none, cannot be read, or names the app's root.
pub fn typescript_output_dir(app: &Path) -> Option<String> {
    let config = app.join("tsconfig.json");
    if !config.is_file() {
        return Some("dist".into());
    }
    let options = read_tsconfig(app)?;
    let out = options.get("compilerOptions")?.get("outDir")?.as_str()?;
    let out = out.trim_start_matches("./").trim_end_matches('/');
    (crate::fsutil::outside_path_reason(out).is_none() && out != ".").then(|| out.to_string())
}

/// `app`'s tsconfig.json as the compiler reads it (comments and trailing commas allowed);
/// `None` when there is none or it does not parse.
pub fn read_tsconfig(app: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(app.join("tsconfig.json")).ok()?;
    jsonc_parser::parse_to_serde_value::<serde_json::Value>(&text, &Default::default())
        .ok()
        .filter(|value| value.is_object())
}

/// Deletes what an earlier compile left in `app`'s output folder (see
/// [`typescript_output_dir`]), so that only this compile's JavaScript can run: with
/// `noEmitOnError`, or a source since deleted, the old file would answer for code that no
/// longer exists. A folder holding TypeScript sources is left alone. Only ever called on a
/// copy of an app.
pub fn clear_typescript_output(app: &Path) -> std::io::Result<()> {
    let Some(out) = typescript_output_dir(app) else {
        return Ok(());
    };
    let folder = app.join(&out);
    let holds_sources = typescript_sources(app, SOURCE_WALK_LIMIT)
        .iter()
        .any(|source| source.starts_with(&format!("{out}/")));
    if holds_sources || !folder.is_dir() || folder.is_symlink() {
        return Ok(());
    }
    std::fs::remove_dir_all(folder)
}

/// Most entries looked at when searching an app for its TypeScript sources.
const SOURCE_WALK_LIMIT: usize = 20_000;

/// The app's TypeScript sources (relative, sorted), outside `node_modules/` and `dist/` and
/// not declaration files; at most `limit` looked at.
pub fn typescript_sources(app: &Path, limit: usize) -> Vec<String> {
    let skip = |relative: &str| {
        relative.split('/').any(|part| {
            part == "node_modules" || part == "dist" || part == ".git" || part.starts_with(".swarm")
        })
    };
    let mut sources: Vec<String> = crate::fsutil::walk_files(app, &|r| skip(r), limit)
        .into_iter()
        .filter(|(_, kind)| kind.is_file())
        .map(|(relative, _)| relative)
        .filter(|r| {
            (r.ends_with(".ts") || r.ends_with(".mts") || r.ends_with(".cts"))
                && !r.ends_with(".d.ts")
                && !skip(r)
        })
        .collect();
    sources.sort();
    sources
}

/// What must be missing for `language` to be built and run here: each program or package,
/// said in words. Empty when everything is.
pub fn missing(language: Language) -> Vec<String> {
    let mut lacking: Vec<String> = language
        .toolchain()
        .iter()
        .filter(|program| !crate::sandbox::seal::host_has(program))
        .map(|program| format!("{program} is not installed on this machine"))
        .collect();
    if language == Language::TypeScript {
        if let Err(why) = TypeScript::locate() {
            lacking.push(why);
        }
    }
    lacking
}

/// `text` as one shell word (single-quoted unless it is plainly safe).
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_compile_s_output_is_cleared_only_where_the_compile_writes() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path();
        let write = |file: &str, text: &str| {
            crate::fsutil::write_inside(app, file, text.as_bytes()).unwrap()
        };
        write("cli.ts", "console.log(1);\n");
        write("dist/cli.js", "console.log(2);\n");
        assert_eq!(typescript_output_dir(app).as_deref(), Some("dist"));
        clear_typescript_output(app).unwrap();
        assert!(!app.join("dist").exists() && app.join("cli.ts").is_file());
        write(
            "tsconfig.json",
            r#"{"compilerOptions": {"outDir": "./build/"}}"#,
        );
        write("build/cli.js", "old");
        // The compiler reads comments and trailing commas; so does this.
        write(
            "tsconfig.json",
            "{\n  // where the JavaScript goes\n  \"compilerOptions\": {\"outDir\": \"./build/\",},\n}\n",
        );
        write("dist/keep.js", "not the compile's folder");
        clear_typescript_output(app).unwrap();
        assert!(!app.join("build").exists() && app.join("dist/keep.js").is_file());
        // Nothing is deleted outside the app, at its root, or without a readable config.
        for config in [
            r#"{"compilerOptions": {"outDir": "../elsewhere"}}"#,
            r#"{"compilerOptions": {"outDir": "."}}"#,
            r#"{"compilerOptions": {"outDir": "/tmp"}}"#,
            r#"{"compilerOptions": {}}"#,
            "{ // a comment\n}",
            "{ not json",
        ] {
            write("tsconfig.json", config);
            assert_eq!(typescript_output_dir(app), None, "{config}");
            clear_typescript_output(app).unwrap();
        }
        assert!(app.join("dist/keep.js").is_file() && app.join("cli.ts").is_file());
    }

    #[test]
    fn a_compile_command_quotes_what_the_shell_would_split() {
        let ts = TypeScript {
            root: PathBuf::from("/home/a b/ts"),
        };
        let command = ts.compile_command(false, &["src/it's.ts".into(), "cli.ts".into()]);
        assert!(command.starts_with("node '/home/a b/ts/node_modules/typescript/bin/tsc' "));
        assert!(command.contains("--typeRoots '/home/a b/ts/node_modules/@types'"));
        assert!(command.ends_with(r"'src/it'\''s.ts' cli.ts"), "{command}");
        let with_config = ts.compile_command(true, &[]);
        assert!(with_config.contains(" -p . "), "{with_config}");
        assert!(!with_config.contains("--outDir"), "{with_config}");
    }

    #[test]
    fn sources_leave_out_builds_dependencies_and_declarations() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "cli.ts",
            "src/lib.ts",
            "src/types.d.ts",
            "dist/cli.ts",
            "node_modules/x/index.ts",
            "notes.md",
            "tool.mts",
        ] {
            crate::fsutil::write_inside(dir.path(), file, b"x").unwrap();
        }
        assert_eq!(
            typescript_sources(dir.path(), 100),
            vec!["cli.ts", "src/lib.ts", "tool.mts"]
        );
    }
}
