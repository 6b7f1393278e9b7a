"""A to-do list stored in todo.json in the current directory."""

import json
import sys

STORE = "todo.json"


def load():
    try:
        with open(STORE, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"next_id": 1, "items": []}


def save(state):
    with open(STORE, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)


def add(state, words):
    text = " ".join(" ".join(words).split())
    item = {"id": state["next_id"], "text": text, "done": False}
    state["items"].append(item)
    state["next_id"] += 1
    print(f"added {item['id']}: {text}")


def mark_done(state, item_id):
    for item in state["items"]:
        if item["id"] == item_id:
            item["done"] = True
            print(f"done {item_id}")
            return True
    print(f"error: no item {item_id}", file=sys.stderr)
    return False


def clear(state):
    kept = [item for item in state["items"] if not item["done"]]
    removed = len(state["items"]) - len(kept)
    state["items"] = kept
    print(f"cleared {removed}")


def show(state):
    for item in state["items"]:
        mark = "x" if item["done"] else " "
        print(f"{item['id']} [{mark}] {item['text']}")


def main(argv):
    if not argv:
        print("usage: todo.py add TEXT... | list | done N | clear", file=sys.stderr)
        return 2
    state = load()
    command, rest = argv[0], argv[1:]
    if command == "add" and rest:
        add(state, rest)
    elif command == "list":
        show(state)
        return 0
    elif command == "done" and len(rest) == 1 and rest[0].isdigit():
        if not mark_done(state, int(rest[0])):
            return 1
    elif command == "clear" and not rest:
        clear(state)
    else:
        print("usage: todo.py add TEXT... | list | done N | clear", file=sys.stderr)
        return 2
    save(state)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
