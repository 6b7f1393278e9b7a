"""The reference's own tests: signatures, ZIP refinements, mismatches, recursion."""
import os
import tempfile
import unittest
import zipfile

from byteoracle import archives, scan, signatures


class Sniffing(unittest.TestCase):
    def test_each_magic_number(self):
        cases = {
            b"\x89PNG\r\n\x1a\nrest": "png",
            b"GIF89a..": "gif",
            b"\x7fELF\x02": "elf",
            b"\x1f\x8b\x08": "gzip",
            b"%PDF-1.7": "pdf",
            b"PK\x03\x04": "zip",
        }
        for head, kind in cases.items():
            self.assertEqual(signatures.sniff_head(head), kind)

    def test_unknown_bytes(self):
        self.assertIsNone(signatures.sniff_head(b"hello"))


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def write_zip(self, name, members):
        path = os.path.join(self.dir, name)
        with zipfile.ZipFile(path, "w") as archive:
            for member in members:
                archive.writestr(member, "x")
        return path

    def test_zip_refinements(self):
        self.assertEqual(archives.refine(self.write_zip("a.zip", ["word/document.xml"])), "docx")
        self.assertEqual(archives.refine(self.write_zip("b.zip", ["META-INF/MANIFEST.MF"])), "jar")
        apk = self.write_zip("c.zip", ["AndroidManifest.xml", "classes.dex"])
        self.assertEqual(archives.refine(apk), "apk")
        self.assertEqual(archives.refine(self.write_zip("d.zip", ["readme.txt"])), "zip")

    def test_a_lying_extension_is_named(self):
        path = os.path.join(self.dir, "photo.jpg")
        with open(path, "wb") as handle:
            handle.write(b"\x89PNG\r\n\x1a\n")
        self.assertEqual(scan.file_type(path), "png")
        self.assertEqual(scan.mismatch(path, "png"), ".png")
        self.assertIsNone(scan.mismatch(os.path.join(self.dir, "x.PNG"), "png"))
        self.assertEqual(scan.mismatch(os.path.join(self.dir, "tool.txt"), "elf"), "no extension")

    def test_recursion_is_asked_for(self):
        os.makedirs(os.path.join(self.dir, "sub", "deeper"))
        for name in ["top.bin", "sub/mid.bin", "sub/deeper/low.bin"]:
            with open(os.path.join(self.dir, name), "wb") as handle:
                handle.write(b"x")
        flat = [os.path.relpath(p, self.dir) for p in scan.files([self.dir], False)]
        deep = [os.path.relpath(p, self.dir) for p in scan.files([self.dir], True)]
        self.assertEqual(flat, ["top.bin"])
        self.assertEqual(deep, ["sub/deeper/low.bin", "sub/mid.bin", "top.bin"])


if __name__ == "__main__":
    unittest.main()
