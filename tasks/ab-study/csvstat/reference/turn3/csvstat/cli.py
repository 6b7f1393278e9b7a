"""The command line: python3 -m csvstat FILE --column NAME [--by COLUMN] [--format text|json]"""

import argparse
import sys

from csvstat.groups import group_rows
from csvstat.numbers import numeric_values
from csvstat.output import group_lines, summary_lines, to_json
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
    parser.add_argument("--by")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def run(args):
    header, rows = read_table(args.file)
    column = column_index(header, args.column)
    if args.by:
        by = column_index(header, args.by)
        summaries = {group: summarise(*numeric_values(members, column)) for group, members in group_rows(rows, by).items()}
        output = [to_json(summaries)] if args.format == "json" else group_lines(summaries)
    else:
        summary = summarise(*numeric_values(rows, column))
        output = [to_json(summary)] if args.format == "json" else summary_lines(summary)
    print("\n".join(output))
    return 0


def main(argv):
    try:
        return run(build_parser().parse_args(argv))
    except (UsageError, TableError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
