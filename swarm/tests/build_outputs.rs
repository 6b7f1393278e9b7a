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

/// A Rust app with one vendored dependency (a directory source, as `cargo vendor` writes).
fn vendored_app(app: &Path, answer: &str) {
    let write =
        |file: &str, text: &str| swarm::fsutil::write_inside(app, file, text.as_bytes()).unwrap();
    write(
        "Cargo.toml",
        "[package]\nname = \"vapp\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntwice = \"0.1\"\n\n[workspace]\n",
    );
    write(
        ".cargo/config.toml",
        "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"vendor\"\n",
    );
    write(
        "vendor/twice/Cargo.toml",
        "[package]\nname = \"twice\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        "vendor/twice/.cargo-checksum.json",
        r#"{"files":{},"package":null}"#,
    );
    write(
        "vendor/twice/src/lib.rs",
        "pub fn twice(n: u32) -> u32 {\n    n * 2\n}\n",
    );
    write(
        "src/main.rs",
        &format!("fn main() {{\n    println!(\"{{}}\", twice::twice({answer}));\n}}\n"),
    );
}

/// When cargo last wrote the vendored dependency's library in `target`.
fn dependency_built_at(target: &Path) -> std::time::SystemTime {
    let deps = target.join("debug/deps");
    std::fs::read_dir(&deps)
        .unwrap()
        .flatten()
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("libtwice-") && name.ends_with(".rlib")
        })
        .map(|e| e.metadata().unwrap().modified().unwrap())
        .expect("the dependency was built")
}

#[tokio::test]
async fn the_pipeline_s_rust_cache_reuses_dependencies_and_always_compiles_the_app_again() {
    if !swarm::sandbox::seal::host_has("cargo") {
        eprintln!("SKIPPED: no cargo on this machine, so nothing can build the app");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    vendored_app(&app, "2");
    let spec = swarm::spec::parse_spec(
        "# vapp\n\nLanguage: Rust\n\n## Acceptance\n\n```console\n$ cargo run --quiet --offline\n4\n```\n",
        "vapp.md",
        false,
    )
    .unwrap();
    let cache = app.join(swarm::pipeline::RUST_CACHE);
    let options = swarm::verify::VerifyOptions {
        review: false,
        rust_cache: Some(cache.clone()),
        ..Default::default()
    };
    let sandbox = swarm::sandbox::Sandbox::detect();
    let report = swarm::verify::verify(&app, &spec, &options, sandbox)
        .await
        .unwrap();
    assert_eq!(report.verdict, swarm::verify::Verdict::Pass, "{report:?}");
    let first = dependency_built_at(&cache.join("target"));
    // The next turn changes the app: it is compiled again (its new answer is what runs), and
    // the dependency is not.
    vendored_app(&app, "3");
    let report = swarm::verify::verify(&app, &spec, &options, sandbox)
        .await
        .unwrap();
    assert_eq!(
        report.verdict,
        swarm::verify::Verdict::Fail,
        "6 is printed, not 4: {report:?}"
    );
    assert_eq!(dependency_built_at(&cache.join("target")), first);
    // The cache is the swarm's alone: never copied with the app, never listed for grading.
    assert!(swarm::fsutil::project_files(&app)
        .iter()
        .all(|f| !f.starts_with(".swarm")));
}

#[test]
fn a_rust_cache_is_never_made_in_a_directory_already_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    vendored_app(&app, "2");
    let spec = dir.path().join("vapp.md");
    std::fs::write(
        &spec,
        "# vapp\n\nLanguage: Rust\n\n## Acceptance\n\n```console\n$ cargo run --quiet --offline\n4\n```\n",
    )
    .unwrap();
    let precious = dir.path().join("precious");
    swarm::fsutil::write_inside(&precious, "app/notes.txt", b"mine").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_swarm"))
        .env("SWARM_CONFIG", "/dev/null")
        .args(["verify", "--rust-cache"])
        .arg(&precious)
        .arg(&app)
        .arg("--spec")
        .arg(&spec)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("is not a Rust build cache"), "{said}");
    assert!(precious.join("app/notes.txt").is_file());
}
