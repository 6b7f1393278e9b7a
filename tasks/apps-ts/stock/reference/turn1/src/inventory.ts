// What the commands do to the stock.
import type { Stock } from "./store.js";

export class Refused extends Error {}

/** Adds `quantity` of `name`; the new total. */
export function add(stock: Stock, name: string, quantity: number): number {
  const total = (stock.get(name) ?? 0) + quantity;
  stock.set(name, total);
  return total;
}

/** Takes `quantity` of `name` out; what is left. Never below zero. */
export function remove(stock: Stock, name: string, quantity: number): number {
  const held = stock.get(name) ?? 0;
  if (quantity > held) throw new Refused(`only ${held} ${name} in stock`);
  stock.set(name, held - quantity);
  return held - quantity;
}

/** Every item held, by name. */
export function listing(stock: Stock): [string, number][] {
  return [...stock]
    .filter(([, quantity]) => quantity > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
