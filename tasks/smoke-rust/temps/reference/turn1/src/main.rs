use std::process::ExitCode;

/// A temperature in kelvin, from `value` in `unit` (c, f or k).
fn to_kelvin(value: f64, unit: &str) -> Option<f64> {
    match unit {
        "c" => Some(value + 273.15),
        "f" => Some((value - 32.0) * 5.0 / 9.0 + 273.15),
        "k" => Some(value),
        _ => None,
    }
}

/// `kelvin` in `unit`.
fn from_kelvin(kelvin: f64, unit: &str) -> Option<f64> {
    match unit {
        "c" => Some(kelvin - 273.15),
        "f" => Some((kelvin - 273.15) * 9.0 / 5.0 + 32.0),
        "k" => Some(kelvin),
        _ => None,
    }
}

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
    let Some(result) = to_kelvin(value, from).and_then(|k| from_kelvin(k, to)) else {
        eprintln!("error: cannot convert {from} to {to}");
        return ExitCode::from(2);
    };
    println!("{result:.1} {to}");
    ExitCode::SUCCESS
}
