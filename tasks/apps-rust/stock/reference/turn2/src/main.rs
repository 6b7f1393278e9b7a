mod inventory;
mod store;

use std::process::ExitCode;

/// An error and the exit status it gets: 2 for a command used wrongly, 1 for one refused.
struct Failure(u8, String);

fn quantity(text: &str) -> Result<u64, Failure> {
    text.parse()
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| Failure(2, format!("not a positive quantity: {text}")))
}

fn run(args: &[String]) -> Result<(), Failure> {
    let mut stock = store::load().map_err(|e| Failure(1, e))?;
    match args {
        [command] if command == "list" => {
            for (name, quantity) in inventory::listing(&stock) {
                println!("{name} {quantity}");
            }
            return Ok(());
        }
        [command, flag, threshold] if command == "report" && flag == "--below" => {
            for (name, quantity) in inventory::below(&stock, quantity(threshold)?) {
                println!("{name} {quantity}");
            }
            return Ok(());
        }
        [command, name, amount] if command == "add" => {
            let total = inventory::add(&mut stock, name, quantity(amount)?);
            println!("{name} {total}");
        }
        [command, name, amount] if command == "remove" => {
            let left = inventory::remove(&mut stock, name, quantity(amount)?)
                .map_err(|e| Failure(1, e))?;
            println!("{name} {left}");
        }
        _ => {
            return Err(Failure(
                2,
                "usage: stock add NAME QTY | stock remove NAME QTY | stock list | stock report --below N"
                    .into(),
            ))
        }
    }
    store::save(&stock).map_err(|e| Failure(1, e))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, message)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
