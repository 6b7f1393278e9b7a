"""The ant: on a white cell turn right, on a black one turn left; flip the cell; step forward."""
from .grid import Grid

# Headings clockwise: north, east, south, west.
HEADINGS = [(0, 1), (1, 0), (0, -1), (-1, 0)]
RULE = "RL"


def run(steps):
    """Runs the ant from (0, 0) facing north; returns the grid, the turns (R/L) and where it is."""
    grid = Grid()
    x, y, heading = 0, 0, 0
    turns = []
    for _ in range(steps):
        colour = grid.get(x, y)
        turn = RULE[colour]
        heading = (heading + (1 if turn == "R" else -1)) % 4
        turns.append(turn)
        grid.set(x, y, (colour + 1) % len(RULE))
        dx, dy = HEADINGS[heading]
        x, y = x + dx, y + dy
    return grid, turns, (x, y)
