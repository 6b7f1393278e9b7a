//! What the commands do to the stock.

use crate::store::Stock;

/// Adds `quantity` of `name`; the new total.
pub fn add(stock: &mut Stock, name: &str, quantity: u64) -> u64 {
    let total = stock.entry(name.to_string()).or_insert(0);
    *total += quantity;
    *total
}

/// Takes `quantity` of `name` out; what is left, or why it cannot (never below zero).
pub fn remove(stock: &mut Stock, name: &str, quantity: u64) -> Result<u64, String> {
    let held = stock.get(name).copied().unwrap_or(0);
    if quantity > held {
        return Err(format!("only {held} {name} in stock"));
    }
    stock.insert(name.to_string(), held - quantity);
    Ok(held - quantity)
}

/// Every item held, by name.
pub fn listing(stock: &Stock) -> Vec<(String, u64)> {
    stock
        .iter()
        .filter(|(_, quantity)| **quantity > 0)
        .map(|(name, quantity)| (name.clone(), *quantity))
        .collect()
}

/// Items held in fewer than `threshold`, by name.
pub fn below(stock: &Stock, threshold: u64) -> Vec<(String, u64)> {
    listing(stock)
        .into_iter()
        .filter(|(_, quantity)| *quantity < threshold)
        .collect()
}
