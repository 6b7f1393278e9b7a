"""python3 -m fsdrift snapshot DIR --out FILE | diff OLD NEW"""
import argparse
import os
import sys

from . import drift, manifest


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fsdrift")
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("dir")
    snap.add_argument("--out", required=True)
    diff = sub.add_parser("diff")
    diff.add_argument("old")
    diff.add_argument("new")
    for command in (snap, diff):
        command.add_argument("--exclude", action="append", default=[])
        command.add_argument("--follow-symlinks", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "snapshot":
            if not os.path.isdir(args.dir):
                raise manifest.ManifestError(f"{args.dir} is not a directory")
            taken = manifest.snapshot(args.dir, args.exclude, args.follow_symlinks)
            manifest.save(taken, args.out)
            print(f"snapshot of {len(taken['files'])} files written to {args.out}")
            return 0
        old = manifest.filtered(manifest.load(args.old), args.exclude)
        if os.path.isdir(args.new):
            new = manifest.snapshot(args.new, args.exclude, args.follow_symlinks)
        else:
            new = manifest.filtered(manifest.load(args.new), args.exclude)
    except (manifest.ManifestError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    changes = drift.compare(old, new)
    for line in changes:
        print(line)
    print(f"{len(changes)} changes" if changes else "no changes")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
