"""The chaos game: from (0, 0), apply a map chosen at random by weight, again and again."""
import random


def points(maps, iterations, seed=0):
    """Yield the point after each of `iterations` steps."""
    rng = random.Random(seed)
    weights = [m["p"] for m in maps]
    x, y = 0.0, 0.0
    for _ in range(iterations):
        m = rng.choices(maps, weights)[0]
        x, y = m["a"] * x + m["b"] * y + m["e"], m["c"] * x + m["d"] * y + m["f"]
        yield x, y
