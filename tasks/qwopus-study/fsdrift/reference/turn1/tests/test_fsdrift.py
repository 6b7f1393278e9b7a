"""The reference's own tests, the integrated round trip first: a snapshot written to disk,
read back and diffed against the unchanged tree has no changes."""
import os
import tempfile
import unittest

from fsdrift import drift, manifest, walk


def tree(files):
    root = tempfile.mkdtemp()
    for name, content in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(content)
    return root


class RoundTrip(unittest.TestCase):
    def test_saved_and_loaded_snapshot_of_an_unchanged_tree_has_no_changes(self):
        root = tree({"a.txt": "a", "sub/b.txt": "b"})
        path = os.path.join(tempfile.mkdtemp(), "m.json")
        manifest.save(manifest.snapshot(root), path)
        self.assertEqual(drift.compare(manifest.load(path), manifest.snapshot(root)), [])


class Classification(unittest.TestCase):
    def test_every_kind_of_change(self):
        root = tree({"a.txt": "a", "b.txt": "b", "c.txt": "c", "d.txt": "d"})
        before = manifest.snapshot(root)
        with open(os.path.join(root, "a.txt"), "a") as handle:
            handle.write("more")
        os.utime(os.path.join(root, "b.txt"), (978307200, 978307200))
        os.makedirs(os.path.join(root, "sub"))
        os.rename(os.path.join(root, "c.txt"), os.path.join(root, "sub", "c2.txt"))
        os.remove(os.path.join(root, "d.txt"))
        with open(os.path.join(root, "e.txt"), "w") as handle:
            handle.write("new")
        self.assertEqual(
            drift.compare(before, manifest.snapshot(root)),
            ["modified a.txt", "touched b.txt", "moved c.txt -> sub/c2.txt", "removed d.txt", "added e.txt"],
        )


class Excludes(unittest.TestCase):
    def test_a_glob_matches_the_path_or_any_part(self):
        self.assertTrue(walk.excluded("logs/run.log", ["*.log"]))
        self.assertTrue(walk.excluded("sub/deep/x.txt", ["sub"]))
        self.assertFalse(walk.excluded("subway/x.txt", ["sub"]))

    def test_excluded_files_are_not_snapshotted(self):
        root = tree({"keep.txt": "k", "drop.log": "d"})
        self.assertEqual(sorted(manifest.snapshot(root, ["*.log"])["files"]), ["keep.txt"])


if __name__ == "__main__":
    unittest.main()
