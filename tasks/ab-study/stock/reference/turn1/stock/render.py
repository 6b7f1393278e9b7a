"""How items and events are printed."""

def item_line(sku, item):
    return f"{sku} {item['name']} {item['quantity']}"


