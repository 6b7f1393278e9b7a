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


class Turmites(unittest.TestCase):
    def test_rules_are_checked(self):
        self.assertTrue(ant.valid("RLR"))
        self.assertFalse(ant.valid("R"))
        self.assertFalse(ant.valid("RX"))

    def test_a_three_colour_rule_cycles_its_colours(self):
        grid, turns, _ = ant.run(3, "RLR")
        self.assertEqual("".join(turns), "RRR")
        self.assertEqual(grid.get(0, 0), 1)

    def test_rl_is_langtons_ant(self):
        self.assertEqual(ant.run(500, "RL")[1], ant.run(500)[1])


if __name__ == "__main__":
    unittest.main()
