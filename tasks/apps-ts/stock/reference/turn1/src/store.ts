// The stock file: one `NAME QUANTITY` line per item, in stock.txt.
import * as fs from "node:fs";

export const FILE = "stock.txt";

export type Stock = Map<string, number>;

/** The stock on disk (empty when there is no file yet). */
export function load(): Stock {
  const stock: Stock = new Map();
  if (!fs.existsSync(FILE)) return stock;
  for (const line of fs.readFileSync(FILE, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const space = line.lastIndexOf(" ");
    const quantity = Number(line.slice(space + 1));
    if (space < 0 || !Number.isInteger(quantity)) throw new Error(`${FILE} is damaged: ${line}`);
    stock.set(line.slice(0, space), quantity);
  }
  return stock;
}

/** Writes the stock (items at zero are left out). */
export function save(stock: Stock): void {
  const lines = [...stock].filter(([, q]) => q > 0).map(([name, q]) => `${name} ${q}\n`);
  fs.writeFileSync(FILE, lines.join(""));
}
