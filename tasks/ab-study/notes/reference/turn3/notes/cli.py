"""The command line: python3 -m notes COMMAND ..."""

import argparse
import sys

from notes import model


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = Parser(prog="notes")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add")
    add.add_argument("title")
    add.add_argument("--tag", action="append", default=[])
    listing = commands.add_parser("list")
    listing.add_argument("--tag")
    show = commands.add_parser("show")
    show.add_argument("number", type=int)
    search = commands.add_parser("search")
    search.add_argument("word")
    for name in ("tag", "untag"):
        change = commands.add_parser(name)
        change.add_argument("number", type=int)
        change.add_argument("tags", nargs="+")
    commands.add_parser("tags")
    return parser


def summary(note):
    number, _, title, tags, _ = note
    suffix = f" [{', '.join(tags)}]" if tags else ""
    return f"{number} {title}{suffix}"


def run(args):
    if args.command == "add":
        number = model.add(args.title, args.tag, sys.stdin.read())
        print(f"note {number}: {args.title.strip()}")
    elif args.command == "list":
        wanted = model.clean_tags([args.tag])[0] if args.tag else None
        for note in model.all_notes():
            if wanted is None or wanted in note[3]:
                print(summary(note))
    elif args.command == "show":
        _, _, title, tags, body = model.find(args.number)
        sys.stdout.write(f"{title}\ntags: {', '.join(tags)}\n\n{body}")
    elif args.command == "search":
        for note in model.search(args.word):
            print(summary(note))
    elif args.command in ("tag", "untag"):
        if args.command == "tag":
            tags = model.retag(args.number, args.tags, [])
        else:
            tags = model.retag(args.number, [], args.tags)
        print(f"note {args.number}: {', '.join(tags)}")
    else:
        for tag, count in model.tag_counts():
            print(f"{tag} {count}")
    return 0


def main(argv):
    try:
        return run(build_parser().parse_args(argv))
    except (UsageError, model.InputError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except model.NoteError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
