use std::process::ExitCode;

const OPERATORS: [&str; 6] = ["+", "-", "*", "/", "%", "^"];

/// Applies one operator; `None` when the result does not fit.
fn apply(operator: &str, left: i64, right: i64) -> Result<Option<i64>, String> {
    Ok(match operator {
        "+" => left.checked_add(right),
        "-" => left.checked_sub(right),
        "*" => left.checked_mul(right),
        "/" | "%" if right == 0 => return Err("division by zero".into()),
        "/" => left.checked_div(right),
        "%" => left.checked_rem(right),
        _ if right < 0 => return Err("negative exponent".into()),
        _ => u32::try_from(right).ok().and_then(|e| left.checked_pow(e)),
    })
}

/// Evaluates a reverse Polish expression of 64-bit integers.
fn eval(expr: &str) -> Result<i64, String> {
    let mut stack: Vec<i64> = Vec::new();
    for token in expr.split_whitespace() {
        if let Ok(number) = token.parse::<i64>() {
            stack.push(number);
            continue;
        }
        if !OPERATORS.contains(&token) {
            return Err(format!("unknown token {token}"));
        }
        let (Some(right), Some(left)) = (stack.pop(), stack.pop()) else {
            return Err("malformed expression".into());
        };
        stack.push(apply(token, left, right)?.ok_or("overflow")?);
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
