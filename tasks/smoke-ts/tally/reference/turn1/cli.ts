import * as fs from "node:fs";

const FILE = "tally.txt";

class UsageError extends Error {}

/** The counts stored in tally.txt (none when it does not exist yet). */
function load(): Map<string, number> {
  const counts = new Map<string, number>();
  if (!fs.existsSync(FILE)) return counts;
  for (const line of fs.readFileSync(FILE, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const space = line.lastIndexOf(" ");
    const count = Number(line.slice(space + 1));
    if (space < 0 || !Number.isInteger(count)) throw new Error(`${FILE} is damaged: ${line}`);
    counts.set(line.slice(0, space), count);
  }
  return counts;
}

function save(counts: Map<string, number>): void {
  const lines = [...counts].map(([name, count]) => `${name} ${count}\n`);
  fs.writeFileSync(FILE, lines.join(""));
}

function positive(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) throw new UsageError(`not a positive count: ${text}`);
  return Number(text);
}

function run(args: string[]): void {
  const counts = load();
  const [command, name, amount] = args;
  if (command === "show" && args.length === 1) {
    for (const key of [...counts.keys()].sort()) console.log(`${key} ${counts.get(key)}`);
  } else if (command === "add" && name !== undefined && args.length <= 3) {
    const total = (counts.get(name) ?? 0) + (amount === undefined ? 1 : positive(amount));
    counts.set(name, total);
    console.log(`${name} ${total}`);
    save(counts);
  } else {
    throw new UsageError("usage: tally add NAME [N] | tally show");
  }
}

try {
  run(process.argv.slice(2));
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
}
