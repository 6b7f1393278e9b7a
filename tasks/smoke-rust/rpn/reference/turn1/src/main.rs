use std::process::ExitCode;

/// Evaluates a reverse Polish expression of 64-bit integers.
fn eval(expr: &str) -> Result<i64, String> {
    let mut stack: Vec<i64> = Vec::new();
    for token in expr.split_whitespace() {
        if let Ok(number) = token.parse::<i64>() {
            stack.push(number);
            continue;
        }
        if !["+", "-", "*", "/"].contains(&token) {
            return Err(format!("unknown token {token}"));
        }
        let (Some(right), Some(left)) = (stack.pop(), stack.pop()) else {
            return Err("malformed expression".into());
        };
        let value = match token {
            "+" => left.checked_add(right),
            "-" => left.checked_sub(right),
            "*" => left.checked_mul(right),
            _ if right == 0 => return Err("division by zero".into()),
            _ => left.checked_div(right),
        };
        stack.push(value.ok_or("overflow")?);
    }
    match stack.as_slice() {
        [value] => Ok(*value),
        _ => Err("malformed expression".into()),
    }
}

fn main() -> ExitCode {
    let expr = std::env::args().nth(1).unwrap_or_default();
    match eval(&expr) {
        Ok(value) => {
            println!("{value}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
