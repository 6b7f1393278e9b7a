"""python3 -m turmite run --frames N [--width W --height H]"""
import argparse
import sys

from . import ant, highway


def count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="turmite")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--frames", type=count, required=True)
    run.add_argument("--width", type=count, default=0)
    run.add_argument("--height", type=count, default=0)
    args = parser.parse_args(argv)
    grid, turns, (x, y) = ant.run(args.frames)
    if args.width and args.height:
        for row in grid.window(args.width, args.height):
            print(row)
    print(f"steps {args.frames}")
    print(f"black {grid.coloured()}")
    found = highway.find(turns)
    print(f"highway from step {found[0]}, period {found[1]}" if found else "no highway")
    return 0


if __name__ == "__main__":
    sys.exit(main())
