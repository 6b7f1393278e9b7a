"""Magic numbers at the start of a file, and the extensions each type is expected to have."""

MAGIC = [
    ("png", b"\x89PNG\r\n\x1a\n"),
    ("gif", b"GIF87a"),
    ("gif", b"GIF89a"),
    ("elf", b"\x7fELF"),
    ("gzip", b"\x1f\x8b"),
    ("pdf", b"%PDF-"),
    ("zip", b"PK\x03\x04"),
    ("zip", b"PK\x05\x06"),
]

# The first extension is the one a mismatch names; "" means no extension.
EXPECTED = {
    "png": [".png"],
    "gif": [".gif"],
    "elf": ["", ".so", ".o"],
    "gzip": [".gz", ".tgz"],
    "pdf": [".pdf"],
    "zip": [".zip"],
    "docx": [".docx"],
    "jar": [".jar"],
    "apk": [".apk"],
}


def sniff_head(head):
    """The type a file's first bytes announce, or None."""
    for name, magic in MAGIC:
        if head.startswith(magic):
            return name
    return None
