use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [value, from, to] = args.as_slice() else {
        eprintln!("usage: temps VALUE FROM TO");
        return ExitCode::from(2);
    };
    let Ok(value) = value.parse::<f64>() else {
        eprintln!("error: not a number: {value}");
        return ExitCode::from(2);
    };
    match (from.as_str(), to.as_str()) {
        ("c", "f") => println!("{:.1} f", value * 9.0 / 5.0 + 32.0),
        _ => {
            eprintln!("error: cannot convert {from} to {to}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
