"""A turmite: on a cell of colour c it turns as the rule's c-th letter says (R or L), paints
the cell the next colour (wrapping to 0) and steps forward. Langton's ant is the rule RL."""
from .grid import Grid

# Headings clockwise: north, east, south, west.
HEADINGS = [(0, 1), (1, 0), (0, -1), (-1, 0)]
RULE = "RL"


def valid(rule):
    """Whether a rule is 2 to 16 letters, each R or L."""
    return 2 <= len(rule) <= 16 and set(rule) <= {"R", "L"}


def run(steps, rule=RULE):
    """Runs the ant from (0, 0) facing north; returns the grid, the turns (R/L) and where it is."""
    grid = Grid()
    x, y, heading = 0, 0, 0
    turns = []
    for _ in range(steps):
        colour = grid.get(x, y)
        turn = rule[colour]
        heading = (heading + (1 if turn == "R" else -1)) % 4
        turns.append(turn)
        grid.set(x, y, (colour + 1) % len(rule))
        dx, dy = HEADINGS[heading]
        x, y = x + dx, y + dy
    return grid, turns, (x, y)
