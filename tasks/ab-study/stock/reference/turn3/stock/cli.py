"""The command line: python3 -m stock COMMAND ..."""

import argparse
import sys

from stock import store
from stock.inventory import Inventory, InventoryError, normalise_sku, parse_quantity
from stock.render import event_line, item_line, items_json


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    parser = Parser(prog="stock")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add")
    add.add_argument("sku")
    add.add_argument("quantity")
    add.add_argument("--name")
    take = commands.add_parser("take")
    take.add_argument("sku")
    take.add_argument("quantity")
    show = commands.add_parser("show")
    show.add_argument("--json", action="store_true")
    low = commands.add_parser("low")
    low.add_argument("--below", required=True)
    history = commands.add_parser("history")
    history.add_argument("sku")
    return parser


def run(args):
    inventory = Inventory(store.load())
    if args.command in ("add", "take"):
        sku, quantity = normalise_sku(args.sku), parse_quantity(args.quantity)
        if args.command == "add":
            left = inventory.add(sku, quantity, args.name)
        else:
            left = inventory.take(sku, quantity)
        store.save(inventory.data())
        print(f"{sku}: {left}")
    elif args.command == "show":
        items = inventory.sorted_items()
        if args.json:
            print(items_json(items))
        else:
            for sku, item in items:
                print(item_line(sku, item))
    elif args.command == "low":
        for sku, item in inventory.below(parse_quantity(args.below)):
            print(item_line(sku, item))
    else:
        for number, event in enumerate(inventory.events(normalise_sku(args.sku)), 1):
            print(event_line(number, event))
    return 0


def main(argv):
    try:
        return run(build_parser().parse_args(argv))
    except UsageError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except InventoryError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return problem.status
