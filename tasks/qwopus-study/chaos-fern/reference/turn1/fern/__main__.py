"""python3 -m fern maps|points|render ..."""
import argparse
import sys

from . import chaos, maps, render


def positive(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fern")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("maps", "points", "render"):
        command = sub.add_parser(name)
        command.add_argument("--maps", dest="maps_file")
        if name != "maps":
            command.add_argument("--iterations", type=positive, required=True)
            command.add_argument("--seed", type=int, default=0)
        if name == "render":
            command.add_argument("--width", type=positive, required=True)
            command.add_argument("--height", type=positive, required=True)
            command.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        system = maps.load(args.maps_file) if args.maps_file else maps.BARNSLEY
    except maps.MapError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    system = maps.normalised(system)
    if args.command == "maps":
        for m in system:
            print(" ".join(f"{m[k]:.2f}" for k in maps.KEYS))
        return 0
    found = chaos.points(system, args.iterations, args.seed)
    if args.command == "points":
        for x, y in found:
            print(f"{x:.4f} {y:.4f}")
        return 0
    grid = render.render(found, args.width, args.height)
    try:
        lit = render.write_pgm(grid, args.out)
    except OSError as err:
        print(f"error: cannot write {args.out}: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({lit} of {args.width * args.height} pixels lit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
