"""Loads and saves the inventory as JSON; a save replaces the file atomically, so a crash
never leaves half a file behind."""

import json
import os
import tempfile

PATH = "stock.json"


def load():
    try:
        with open(PATH, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"items": {}}


def save(data):
    directory = os.path.dirname(os.path.abspath(PATH))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".stock-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.replace(temporary, PATH)
