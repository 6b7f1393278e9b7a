"""The reference's own tests: the canonical maps, normalised weights, the box, a seeded game."""
import json
import os
import tempfile
import unittest

from fern import chaos, maps, render


class Maps(unittest.TestCase):
    def test_the_canonical_coefficients_and_weights(self):
        self.assertEqual([m["p"] for m in maps.BARNSLEY], [0.01, 0.85, 0.07, 0.07])
        self.assertEqual(maps.BARNSLEY[1]["f"], 1.6)
        self.assertEqual(maps.BARNSLEY[0]["d"], 0.16)

    def test_weights_are_normalised(self):
        scaled = maps.normalised([dict(maps.BARNSLEY[0], p=2), dict(maps.BARNSLEY[1], p=6)])
        self.assertEqual([m["p"] for m in scaled], [0.25, 0.75])

    def test_a_maps_file_is_loaded_and_checked(self):
        path = os.path.join(tempfile.mkdtemp(), "maps.json")
        with open(path, "w") as handle:
            json.dump([{"a": 0.5, "b": 0, "c": 0, "d": 0.5, "e": 1, "f": 2, "p": 3}], handle)
        self.assertEqual(maps.load(path)[0]["e"], 1.0)
        with open(path, "w") as handle:
            json.dump([{"a": 0.5, "b": 0, "c": 0, "d": 0.5, "e": 1, "f": 2, "p": 0}], handle)
        with self.assertRaises(maps.MapError):
            maps.load(path)


class Game(unittest.TestCase):
    def test_a_single_map_is_followed_exactly(self):
        halve = [{"a": 0.5, "b": 0.0, "c": 0.0, "d": 0.5, "e": 1.0, "f": 2.0, "p": 1.0}]
        self.assertEqual(list(chaos.points(halve, 3)), [(1.0, 2.0), (1.5, 3.0), (1.75, 3.5)])

    def test_the_fern_stays_in_its_box_and_the_stem_is_rare(self):
        points = list(chaos.points(maps.BARNSLEY, 20000, seed=1))
        self.assertTrue(all(-2.2 <= x <= 2.7 and 0 <= y <= 10 for x, y in points))
        stem = sum(1 for x, _ in points if abs(x) < 0.01) / len(points)
        self.assertLess(stem, 0.05)


class Render(unittest.TestCase):
    def test_pixels_of_the_corners(self):
        self.assertEqual(render.pixel(-2.2, 10.0, 49, 100), (0, 0))
        self.assertEqual(render.pixel(2.7, 0.0, 49, 100), (48, 99))
        self.assertEqual(render.pixel(0.25, 5.0, 49, 100), (24, 50))

    def test_lit_pixels_are_counted(self):
        grid = render.render([(0.0, 0.0), (0.0, 0.0), (2.0, 9.0)], 10, 10)
        path = os.path.join(tempfile.mkdtemp(), "f.pgm")
        self.assertEqual(render.write_pgm(grid, path), 2)


if __name__ == "__main__":
    unittest.main()
