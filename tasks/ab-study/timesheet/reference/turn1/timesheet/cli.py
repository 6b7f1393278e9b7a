"""The command line: python3 -m timesheet COMMAND ..."""

import argparse
import sys

from timesheet import store
from timesheet.clock import ClockError, format_duration, format_time, parse_date, parse_time
from timesheet.entries import EntryError, check_new, next_id
from timesheet.report import totals


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = Parser(prog="timesheet")
    commands = parser.add_subparsers(dest="command", required=True)
    log = commands.add_parser("log")
    log.add_argument("project")
    log.add_argument("date")
    log.add_argument("start")
    log.add_argument("end")
    log.add_argument("--note", default="")
    commands.add_parser("report")
    return parser


def log_entry(args):
    date = parse_date(args.date)
    start, end = parse_time(args.start), parse_time(args.end)
    if end <= start:
        raise ClockError(f"the end {args.end} is not after the start {args.start}")
    entries = store.load()
    check_new(entries, date, start, end)
    entry = {"id": next_id(entries), "project": args.project, "date": date, "start": start, "end": end, "note": args.note}
    store.append(entry)
    print(f"logged #{entry['id']}: {args.project} {date} {format_time(start)}-{format_time(end)} ({format_duration(end - start)})")


def print_report():
    rows, total = totals(store.load())
    for project, minutes in rows:
        print(f"{project} {format_duration(minutes)}")
    print(f"total {format_duration(total)}")


def main(argv):
    try:
        args = build_parser().parse_args(argv)
        if args.command == "log":
            log_entry(args)
        else:
            print_report()
        return 0
    except (UsageError, ClockError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except EntryError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
