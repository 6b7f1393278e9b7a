"""Points onto a plain PGM image of the box x in [-2.2, 2.7], y in [0, 10]."""

X_MIN, X_MAX, Y_MIN, Y_MAX = -2.2, 2.7, 0.0, 10.0


def pixel(x, y, width, height):
    """(column, row) of a point; row 0 is the top (y = 10)."""
    column = int((x - X_MIN) / (X_MAX - X_MIN) * width)
    row = int((Y_MAX - y) / (Y_MAX - Y_MIN) * height)
    return min(max(column, 0), width - 1), min(max(row, 0), height - 1)


def render(points, width, height):
    """The lit pixels as rows of 0/255."""
    grid = [[0] * width for _ in range(height)]
    for x, y in points:
        column, row = pixel(x, y, width, height)
        grid[row][column] = 255
    return grid


def write_pgm(grid, path):
    height, width = len(grid), len(grid[0])
    with open(path, "w", encoding="ascii") as out:
        out.write(f"P2\n{width} {height}\n255\n")
        for row in grid:
            out.write(" ".join(str(v) for v in row) + "\n")
    return sum(1 for row in grid for v in row if v)
