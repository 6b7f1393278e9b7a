//! `swarm fleet calibrate`: measures a llama-server and writes the simulator's constants.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use swarm::llm::{ClientConfig, LlmClient};
use swarm::sim::schedule::calibrate;

#[derive(Args)]
pub struct CalibrateArgs {
    /// The server (llama-server: its replies carry the timings this reads).
    #[arg(long)]
    url: String,
    /// Model id (default: the server's loaded model).
    #[arg(long)]
    model: Option<String>,
    /// Requests of each kind (medians are taken).
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Streams at once for the slow-down per busy slot (default: the server's slots, or 2).
    #[arg(long)]
    parallel: Option<u32>,
    /// Where to write the constants (`swarm fleet simulate --calibration FILE` reads them).
    #[arg(long, default_value = "calibration.json")]
    out: PathBuf,
    /// Seed of the prompts' nonces (a new one per run keeps prompts out of the cache).
    #[arg(long)]
    seed: Option<u64>,
}

/// Measures, prints the table and writes the file (exit 2 when the server cannot say).
pub async fn calibrate(args: CalibrateArgs) -> ExitCode {
    let fail = |why: String| {
        eprintln!("swarm fleet calibrate: {why}");
        ExitCode::from(2)
    };
    if !(1..=50).contains(&args.rounds) {
        return fail("--rounds takes 1 to 50".into());
    }
    let report = match crate::reach(Some(&args.url), None).await {
        Ok(report) => report,
        Err(help) => return fail(help),
    };
    let Some(model) = args
        .model
        .clone()
        .or_else(|| report.default_model().map(|m| m.id.clone()))
    else {
        return fail(format!("{} lists no model; pass --model", report.url));
    };
    let parallel = args.parallel.or(report.slots).unwrap_or(2).clamp(1, 64);
    let client = match LlmClient::new(ClientConfig::new(report.url.clone())) {
        Ok(client) => client,
        Err(err) => return fail(err.to_string()),
    };
    let seed = args.seed.unwrap_or_else(swarm::unix_ms);
    eprintln!(
        "swarm fleet calibrate: {} — {} prefill, {} decode and {} parallel request(s) of {parallel}",
        crate::describe(&report),
        args.rounds,
        args.rounds,
        if parallel > 1 { args.rounds } else { 0 }
    );
    let file = match calibrate::calibrate(&client, &report.url, &model, args.rounds, parallel, seed)
        .await
    {
        Ok(file) => file,
        Err(why) => return fail(why),
    };
    print!("{}", file.table());
    let json = match serde_json::to_string_pretty(&file) {
        Ok(json) => json,
        Err(err) => return fail(err.to_string()),
    };
    if let Err(err) = std::fs::write(&args.out, json + "\n") {
        return fail(format!("cannot write {}: {err}", args.out.display()));
    }
    println!(
        "written: {} (use: swarm fleet simulate --calibration {})",
        args.out.display(),
        args.out.display()
    );
    ExitCode::SUCCESS
}
