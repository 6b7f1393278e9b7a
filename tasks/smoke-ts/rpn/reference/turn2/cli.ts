const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

/** `base` to the power `exponent` (not negative), stopping as soon as it leaves 64 bits. */
function power(base: bigint, exponent: bigint): bigint {
  if (exponent === 0n) return 1n;
  if (base === 0n || base === 1n) return base;
  if (base === -1n) return exponent % 2n === 0n ? 1n : -1n;
  let result = 1n;
  for (let i = 0n; i < exponent; i++) {
    result *= base;
    if (result < MIN || result > MAX) throw new Error("overflow");
  }
  return result;
}

/** Evaluates a reverse Polish expression of 64-bit integers. */
export function evaluate(expr: string): bigint {
  const stack: bigint[] = [];
  for (const token of expr.split(/\s+/).filter((t) => t !== "")) {
    if (/^-?\d+$/.test(token)) {
      stack.push(BigInt(token));
      continue;
    }
    if (!["+", "-", "*", "/", "%", "^"].includes(token)) {
      throw new Error(`unknown token ${token}`);
    }
    const right = stack.pop();
    const left = stack.pop();
    if (left === undefined || right === undefined) {
      throw new Error("malformed expression");
    }
    let value: bigint;
    if (token === "+") value = left + right;
    else if (token === "-") value = left - right;
    else if (token === "*") value = left * right;
    else if (token === "^") {
      if (right < 0n) throw new Error("negative exponent");
      value = power(left, right);
    } else if (right === 0n) throw new Error("division by zero");
    else if (token === "/") value = left / right;
    else value = left % right;
    if (value < MIN || value > MAX) throw new Error("overflow");
    stack.push(value);
  }
  if (stack.length !== 1) throw new Error("malformed expression");
  return stack[0];
}

try {
  console.log(evaluate(process.argv[2] ?? "").toString());
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 1;
}
