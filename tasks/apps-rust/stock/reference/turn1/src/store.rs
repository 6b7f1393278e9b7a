//! The stock file: one `NAME QUANTITY` line per item, in `stock.txt`.

use std::collections::BTreeMap;

pub const FILE: &str = "stock.txt";

/// Quantities by item name.
pub type Stock = BTreeMap<String, u64>;

/// The stock on disk (empty when there is no file yet).
pub fn load() -> Result<Stock, String> {
    let text = match std::fs::read_to_string(FILE) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Stock::new()),
        Err(err) => return Err(format!("cannot read {FILE}: {err}")),
    };
    let mut stock = Stock::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, quantity) = line
            .rsplit_once(' ')
            .ok_or_else(|| format!("{FILE} is damaged: {line}"))?;
        let quantity = quantity
            .parse()
            .map_err(|_| format!("{FILE} is damaged: {line}"))?;
        stock.insert(name.to_string(), quantity);
    }
    Ok(stock)
}

/// Writes the stock (items at zero are left out).
pub fn save(stock: &Stock) -> Result<(), String> {
    let text: String = stock
        .iter()
        .filter(|(_, quantity)| **quantity > 0)
        .map(|(name, quantity)| format!("{name} {quantity}\n"))
        .collect();
    std::fs::write(FILE, text).map_err(|err| format!("cannot write {FILE}: {err}"))
}
