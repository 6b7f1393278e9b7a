//! What an earlier build left inside an app (cargo's `target/`, TypeScript's compiled `dist/`)
//! never answers for the app's current sources: verification copies leave `target/` behind
//! and delete old compiled JavaScript before compiling. Either would otherwise run code from
//! an earlier turn — a false green, or a false red on correct code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn verify(app: &Path, spec: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .env("SWARM_CONFIG", "/dev/null")
        .arg("verify")
        .arg(app)
        .arg("--spec")
        .arg(spec)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn acceptance_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("acceptance"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_target_directory_built_from_older_sources_never_runs_in_their_place() {
    if !swarm::sandbox::seal::host_has("cargo") {
        eprintln!("SKIPPED: no cargo on this machine, so nothing can build the app");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"answer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    let main = |word: &str| {
        std::fs::write(
            app.join("src/main.rs"),
            format!("fn main() {{\n    println!(\"{word}\");\n}}\n"),
        )
        .unwrap()
    };
    // An earlier turn's build, the right answer then, left in the app; the sources now answer
    // wrongly, and the target directory is made newer than them.
    main("right");
    let built = Command::new("cargo")
        .args(["build", "--offline", "--quiet"])
        .current_dir(&app)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(built.success());
    main("wrong");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let touch = Command::new("find")
        .arg(app.join("target"))
        .args(["-exec", "touch", "{}", "+"])
        .status()
        .unwrap();
    assert!(touch.success());
    let spec = dir.path().join("answer.md");
    std::fs::write(
        &spec,
        "# answer\n\nLanguage: Rust\n\n## Acceptance\n\n```console\n$ cargo run --quiet --offline\nright\n```\n",
    )
    .unwrap();
    let (code, stdout) = verify(&app, &spec);
    assert_eq!(code, 1, "the sources answer wrongly: {stdout}");
    assert!(acceptance_line(&stdout).contains("fail"), "{stdout}");
    // And the other way round: correct sources are never judged by an old wrong binary.
    main("right");
    let (_, stdout) = verify(&app, &spec);
    assert!(acceptance_line(&stdout).contains("pass"), "{stdout}");
}

#[test]
fn javascript_an_earlier_compile_left_never_runs_for_sources_that_do_not_compile() {
    if let Err(why) = swarm::toolchain::TypeScript::locate() {
        assert!(
            std::env::var_os(swarm::testing::CI_ENV).is_none(),
            "CI installs the TypeScript compiler (.ci/prepare-typescript.sh), yet: {why}"
        );
        eprintln!("SKIPPED: {why}");
        return;
    }
    if !swarm::sandbox::seal::host_has("node") {
        eprintln!("SKIPPED: no node on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    let write =
        |file: &str, code: &str| swarm::fsutil::write_inside(&app, file, code.as_bytes()).unwrap();
    // The app's own configuration emits nothing on a type error; an earlier compile's
    // dist/cli.js, which answered rightly, is still there.
    write(
        "tsconfig.json",
        r#"{"compilerOptions": {"outDir": "dist", "rootDir": ".", "target": "es2022", "module": "nodenext", "moduleResolution": "nodenext", "strict": true, "noEmitOnError": true}, "include": ["*.ts"]}"#,
    );
    write("dist/cli.js", "console.log(String(2 + 3));\n");
    write(
        "cli.ts",
        "const total: number = \"2\" + 3;\nconsole.log(total);\n",
    );
    let spec = dir.path().join("add.md");
    std::fs::write(
        &spec,
        "# add\n\nLanguage: TypeScript\n\n## Acceptance\n\n```console\n$ node dist/cli.js\n5\n```\n",
    )
    .unwrap();
    let (code, stdout) = verify(&app, &spec);
    assert_eq!(code, 1, "the sources do not compile: {stdout}");
    assert!(acceptance_line(&stdout).contains("fail"), "{stdout}");
    // The app itself is left as it was: only the verification's copy lost its old output.
    assert!(app.join("dist/cli.js").is_file());
    write(
        "cli.ts",
        "const total: number = 2 + 3;\nconsole.log(total);\n",
    );
    let (code, stdout) = verify(&app, &spec);
    assert!(acceptance_line(&stdout).contains("pass"), "{stdout}");
    assert_ne!(code, 1, "{stdout}");
}
