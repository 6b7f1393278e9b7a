const [value, from, to] = process.argv.slice(2);

if (value === undefined || from === undefined || to === undefined) {
  console.error("usage: temps VALUE FROM TO");
  process.exit(2);
}
const number = Number(value);
if (value.trim() === "" || Number.isNaN(number)) {
  console.error(`error: not a number: ${value}`);
  process.exit(2);
}
if (from === "c" && to === "f") {
  console.log(`${(number * 9 / 5 + 32).toFixed(1)} f`);
} else {
  console.error(`error: cannot convert ${from} to ${to}`);
  process.exit(2);
}
