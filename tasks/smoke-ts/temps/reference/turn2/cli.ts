/** A temperature in kelvin, from `value` in `unit` (c, f or k). */
function toKelvin(value: number, unit: string): number | undefined {
  if (unit === "c") return value + 273.15;
  if (unit === "f") return (value - 32) * 5 / 9 + 273.15;
  if (unit === "k") return value;
  return undefined;
}

/** `kelvin` in `unit`. */
function fromKelvin(kelvin: number, unit: string): number | undefined {
  if (unit === "c") return kelvin - 273.15;
  if (unit === "f") return (kelvin - 273.15) * 9 / 5 + 32;
  if (unit === "k") return kelvin;
  return undefined;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const [value, from, to] = process.argv.slice(2);
if (value === undefined || from === undefined || to === undefined) fail("usage: temps VALUE FROM TO");
const number = Number(value);
if (value.trim() === "" || Number.isNaN(number)) fail(`error: not a number: ${value}`);
const kelvin = toKelvin(number, from);
const result = kelvin === undefined ? undefined : fromKelvin(kelvin, to);
if (kelvin === undefined || result === undefined) fail(`error: cannot convert ${from} to ${to}`);
if (kelvin < 0) fail("error: below absolute zero");
console.log(`${result.toFixed(1)} ${to}`);
