"""The inventory's rules: what may be added and taken, and what is remembered."""


class InventoryError(Exception):
    """A request the inventory refuses; `status` is the exit status to use."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def parse_quantity(text):
    if not text.isdigit() or int(text) == 0:
        raise InventoryError(f"quantity must be a positive whole number: {text}", 2)
    return int(text)


def normalise_sku(text):
    sku = text.strip().upper()
    if not sku or not sku.replace("-", "").isalnum():
        raise InventoryError(f"not a SKU: {text}", 2)
    return sku


class Inventory:
    def __init__(self, data):
        self.items = data["items"]
        # Files written before the history existed have none.
        self.history = data.get("history", [])

    def data(self):
        return {"items": self.items, "history": self.history}

    def add(self, sku, quantity, name=None):
        item = self.items.get(sku)
        if item is None:
            if not name:
                raise InventoryError(f"new item {sku} needs --name", 2)
            item = self.items[sku] = {"name": name, "quantity": 0}
        elif name:
            item["name"] = name
        item["quantity"] += quantity
        self._remember(sku, "add", quantity, item["quantity"])
        return item["quantity"]

    def take(self, sku, quantity):
        item = self.items.get(sku)
        if item is None:
            raise InventoryError(f"unknown item {sku}", 1)
        if quantity > item["quantity"]:
            raise InventoryError(f"only {item['quantity']} of {sku} in stock", 1)
        item["quantity"] -= quantity
        self._remember(sku, "take", quantity, item["quantity"])
        return item["quantity"]

    def _remember(self, sku, action, quantity, after):
        self.history.append({"sku": sku, "action": action, "quantity": quantity, "after": after})

    def sorted_items(self):
        return sorted(self.items.items())

    def below(self, threshold):
        return [(sku, item) for sku, item in self.sorted_items() if item["quantity"] < threshold]

    def events(self, sku):
        return [event for event in self.history if event["sku"] == sku]
