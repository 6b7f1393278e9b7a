use std::collections::BTreeMap;
use std::process::ExitCode;

const FILE: &str = "tally.txt";

/// The counts stored in `tally.txt` (none when it does not exist yet).
fn load() -> Result<BTreeMap<String, u64>, String> {
    let text = match std::fs::read_to_string(FILE) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(format!("cannot read {FILE}: {err}")),
    };
    let mut counts = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, count) = line
            .rsplit_once(' ')
            .ok_or_else(|| format!("{FILE} is damaged: {line}"))?;
        let count = count
            .parse()
            .map_err(|_| format!("{FILE} is damaged: {line}"))?;
        counts.insert(name.to_string(), count);
    }
    Ok(counts)
}

fn save(counts: &BTreeMap<String, u64>) -> Result<(), String> {
    let text: String = counts.iter().map(|(n, c)| format!("{n} {c}\n")).collect();
    std::fs::write(FILE, text).map_err(|err| format!("cannot write {FILE}: {err}"))
}

fn run(args: &[String]) -> Result<(), (u8, String)> {
    let usage = || (2, "usage: tally add NAME [N] | tally show".to_string());
    let mut counts = load().map_err(|e| (1, e))?;
    match args {
        [command] if command == "show" => {
            for (name, count) in &counts {
                println!("{name} {count}");
            }
            Ok(())
        }
        [command, name, rest @ ..] if command == "add" && rest.len() <= 1 => {
            let amount: u64 = match rest.first() {
                None => 1,
                Some(n) => n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or((2, format!("not a positive count: {n}")))?,
            };
            let total = counts.entry(name.clone()).or_insert(0);
            *total += amount;
            println!("{name} {total}");
            save(&counts).map_err(|e| (1, e))
        }
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
