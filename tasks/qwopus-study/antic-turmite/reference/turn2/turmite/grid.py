"""An unbounded grid of colours (0 everywhere until written)."""


class Grid:
    def __init__(self):
        self.cells = {}

    def get(self, x, y):
        return self.cells.get((x, y), 0)

    def set(self, x, y, colour):
        if colour:
            self.cells[(x, y)] = colour
        else:
            self.cells.pop((x, y), None)

    def coloured(self):
        """How many cells are not colour 0."""
        return len(self.cells)

    def window(self, width, height):
        """Rows of `#` (coloured) and `.` (colour 0), centred on (0, 0); y grows upwards."""
        left, top = -(width // 2), height // 2
        return [
            "".join("#" if self.get(left + c, top - r) else "." for c in range(width))
            for r in range(height)
        ]
