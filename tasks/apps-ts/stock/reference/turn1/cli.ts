import { load, save } from "./src/store.js";
import { add, listing, remove } from "./src/inventory.js";

class Usage extends Error {}

function quantity(text: string): number {
  if (!/^\d+$/.test(text)) throw new Usage(`not a quantity: ${text}`);
  return Number(text);
}

function run(args: string[]): void {
  const stock = load();
  const [command, name, amount] = args;
  if (command === "list" && args.length === 1) {
    for (const [item, q] of listing(stock)) console.log(`${item} ${q}`);
    return;
  }
  if (args.length !== 3) throw new Usage("usage: stock add NAME QTY | stock remove NAME QTY | stock list");
  if (command === "add") {
    console.log(`${name} ${add(stock, name, quantity(amount))}`);
  } else if (command === "remove") {
    console.log(`${name} ${remove(stock, name, quantity(amount))}`);
  } else {
    throw new Usage(`unknown command ${command}`);
  }
  save(stock);
}

try {
  run(process.argv.slice(2));
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = err instanceof Usage ? 2 : 1;
}
