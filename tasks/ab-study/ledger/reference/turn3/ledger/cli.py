"""The command line: python3 -m ledger COMMAND ..."""

import argparse
import sys

from ledger.dates import DateError, parse_date, parse_month
from ledger.export import to_csv
from ledger.money import MoneyError, format_cents, parse_cents
from ledger.report import totals
from ledger.store import Store


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = Parser(prog="ledger")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add")
    add.add_argument("amount")
    add.add_argument("category")
    add.add_argument("note", nargs="*")
    add.add_argument("--date", required=True)
    for name in ("list", "report"):
        command = commands.add_parser(name)
        command.add_argument("--month")
    delete = commands.add_parser("delete")
    delete.add_argument("id", type=int)
    commands.add_parser("export")
    return parser


def line(expense):
    expense_id, date, category, cents, note = expense
    return " ".join(part for part in (f"#{expense_id}", date, category, format_cents(cents), note) if part)


def run(args, store):
    if args.command == "add":
        cents = parse_cents(args.amount)
        date = parse_date(args.date)
        expense_id = store.add(date, args.category.lower(), cents, " ".join(args.note))
        print(f"added #{expense_id}")
        return 0
    if args.command == "delete":
        if not store.delete(args.id):
            print(f"error: no expense #{args.id}", file=sys.stderr)
            return 1
        print(f"deleted #{args.id}")
        return 0
    if args.command == "export":
        sys.stdout.write(to_csv(store.expenses()))
        return 0
    month = parse_month(args.month) if args.month else None
    expenses = store.expenses(month)
    if args.command == "list":
        for expense in expenses:
            print(line(expense))
        return 0
    rows, total = totals(expenses)
    for category, cents in rows:
        print(f"{category} {format_cents(cents)}")
    print(f"total {format_cents(total)}")
    return 0


def main(argv):
    try:
        args = build_parser().parse_args(argv)
        # Validate before opening the store, so bad input records nothing.
        return run(args, Store())
    except (UsageError, MoneyError, DateError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
