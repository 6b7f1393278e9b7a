"""The reference's own tests: the first steps of the ant, and its highway."""
import unittest

from turmite import ant, highway


class Ant(unittest.TestCase):
    def test_the_first_steps(self):
        grid, turns, position = ant.run(4)
        self.assertEqual("".join(turns), "RRRR")
        self.assertEqual(position, (0, 0))
        self.assertEqual(grid.coloured(), 4)
        self.assertEqual(grid.window(3, 3), ["...", ".##", ".##"])

    def test_the_highway_starts_near_ten_thousand_steps_with_period_104(self):
        _, turns, _ = ant.run(11000)
        self.assertEqual(highway.find(turns), (9978, 104))

    def test_no_highway_early(self):
        _, turns, _ = ant.run(2000)
        self.assertIsNone(highway.find(turns))


if __name__ == "__main__":
    unittest.main()
