"""The command line: python3 -m csvstat FILE --column NAME"""

import argparse
import sys

from csvstat.numbers import numeric_values
from csvstat.output import summary_lines
from csvstat.summary import summarise
from csvstat.table import TableError, column_index, read_table


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = Parser(prog="csvstat")
    parser.add_argument("file")
    parser.add_argument("--column", required=True)
    return parser


def run(args):
    header, rows = read_table(args.file)
    column = column_index(header, args.column)
    summary = summarise(*numeric_values(rows, column))
    print("\n".join(summary_lines(summary)))
    return 0


def main(argv):
    try:
        return run(build_parser().parse_args(argv))
    except (UsageError, TableError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
