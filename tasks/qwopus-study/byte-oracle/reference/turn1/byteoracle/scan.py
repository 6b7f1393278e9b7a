"""Walking paths and naming what each file is."""
import os

from . import archives, signatures


def file_type(path):
    with open(path, "rb") as handle:
        head = handle.read(16)
    kind = signatures.sniff_head(head)
    if kind == "zip":
        kind = archives.refine(path)
    return kind or "unknown"


def mismatch(path, kind):
    """The expected extension when the file's extension does not fit its type, else None."""
    expected = signatures.EXPECTED.get(kind)
    if not expected:
        return None
    extension = os.path.splitext(path)[1].lower()
    if extension in expected:
        return None
    return expected[0] or "no extension"


def files(paths, recurse):
    """Every file named or inside a named directory (nested ones with `recurse`), sorted."""
    found = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
            continue
        for root, dirs, names in os.walk(path):
            dirs.sort()
            found.extend(os.path.join(root, n) for n in names)
            if not recurse:
                break
    return sorted(found)
