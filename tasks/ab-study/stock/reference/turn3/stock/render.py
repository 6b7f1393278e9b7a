"""How items and events are printed."""

import json


def item_line(sku, item):
    return f"{sku} {item['name']} {item['quantity']}"


def items_json(items):
    return json.dumps([{"sku": sku, "name": item["name"], "quantity": item["quantity"]} for sku, item in items])


def event_line(number, event):
    return f"#{number} {event['action']} {event['quantity']} -> {event['after']}"
