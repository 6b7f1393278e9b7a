#!/usr/bin/env python3
"""Fetch the review corpus: each package of packages.txt at its pinned version, from the
package registry pip is configured for, checked against its pinned sha256, unpacked to
DEST/<name>/ (its Python files, its packaging metadata; an sdist's tests and docs left out).

Idempotent: a package already unpacked is kept. Offline once fetched.

    python3 swarm/review-corpus/fetch.py [--dest DIR] [--only NAME ...]
"""
import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DEST = Path.home() / ".cache" / "swarm-gym" / "review-corpus"
KEEP_NAMES = {"METADATA", "PKG-INFO", "entry_points.txt", "top_level.txt", "setup.cfg", "pyproject.toml", "setup.py"}
SKIP_DIRS = {"tests", "test", "docs", "doc", "examples", "benchmarks", "bench"}


def pinned():
    for line in (HERE / "packages.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version, sha, style = line.split()
            yield name, version, sha, style


def download(name, version, cache):
    cache.mkdir(parents=True, exist_ok=True)
    before = set(cache.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         f"{name}=={version}", "-d", str(cache)],
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{name} {version}: pip download failed (exit {done.returncode}); "
            "is the package registry reachable? Packages already fetched are kept."
        )
    wanted = name.lower().replace("-", "_")
    for path in sorted(set(cache.iterdir()) | before):
        if path.suffix not in (".whl", ".gz", ".zip"):
            continue
        stem = path.name.lower().replace("-", "_")
        if stem.startswith(f"{wanted}_{version}".lower()) or stem.startswith(f"{wanted}-{version}"):
            return path
    raise SystemExit(f"{name} {version}: pip downloaded nothing recognisable into {cache}")


def members(archive):
    """(relative path, bytes) of each file worth keeping."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel:
            for info in wheel.infolist():
                parts = info.filename.split("/")
                if info.is_dir():
                    continue
                if parts[0].endswith(".dist-info"):
                    if parts[-1] in KEEP_NAMES:
                        yield info.filename, wheel.read(info)
                elif info.filename.endswith(".py"):
                    yield info.filename, wheel.read(info)
        return
    with tarfile.open(archive) as sdist:
        for info in sdist.getmembers():
            if not info.isfile():
                continue
            parts = info.name.split("/")[1:]  # drop the top `name-version/` folder
            if not parts or any(p in SKIP_DIRS for p in parts[:-1]):
                continue
            relative = "/".join(parts)
            if parts[-1].startswith("test_") and len(parts) == 1:
                continue
            if relative.endswith(".py") or parts[-1] in KEEP_NAMES:
                yield relative, sdist.extractfile(info).read()


def unpack(archive, dest):
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for relative, data in members(archive):
        if relative.startswith("/") or ".." in relative.split("/"):
            raise SystemExit(f"{archive.name}: refusing the path {relative!r}")
        target = tmp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    tmp.rename(dest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    cache = args.dest / ".downloads"
    fetched = 0
    for name, version, sha, _style in pinned():
        if args.only and name not in args.only:
            continue
        dest = args.dest / name
        if dest.is_dir():
            continue
        archive = download(name, version, cache)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != sha:
            raise SystemExit(f"{name} {version}: sha256 {digest} is not the pinned {sha}")
        unpack(archive, dest)
        fetched += 1
        print(f"fetched {name} {version} -> {dest}")
    print(f"corpus at {args.dest}: {fetched} fetched now")


if __name__ == "__main__":
    main()
