"""A manifest: {"root": ..., "files": {path: {"size", "sha256", "mtime"}}}, as JSON.

mtime is the float of os.stat's st_mtime everywhere: written, read and compared the same way.
"""
import hashlib
import json
import os

from . import walk


class ManifestError(Exception):
    """A manifest that cannot be read."""


def entry(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    stat = os.stat(path)
    return {"size": stat.st_size, "sha256": digest.hexdigest(), "mtime": stat.st_mtime}


def snapshot(root, patterns=(), follow=False):
    return {
        "root": root,
        "files": {rel: entry(os.path.join(root, rel)) for rel in walk.files(root, patterns, follow)},
    }


def save(manifest, path):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=1, sort_keys=True)


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        files = data["files"]
        for info in files.values():
            info["size"], info["sha256"], info["mtime"] = int(info["size"]), str(info["sha256"]), float(info["mtime"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ManifestError(f"{path} is not a manifest: {err}") from err
    return data


def filtered(manifest, patterns):
    files = {p: i for p, i in manifest["files"].items() if not walk.excluded(p, patterns)}
    return dict(manifest, files=files)
