"""What changed from one manifest to another."""


def compare(old, new):
    """Sorted (first path, line) of every change."""
    before, after = old["files"], new["files"]
    changes = []
    for path in sorted(set(before) & set(after)):
        a, b = before[path], after[path]
        if a["sha256"] != b["sha256"]:
            changes.append((path, f"modified {path}"))
        elif a["mtime"] != b["mtime"]:
            changes.append((path, f"touched {path}"))
    removed = sorted(set(before) - set(after))
    added = sorted(set(after) - set(before))
    for path in removed:
        twin = next((p for p in added if after[p]["sha256"] == before[path]["sha256"]), None)
        if twin is None:
            changes.append((path, f"removed {path}"))
        else:
            added.remove(twin)
            changes.append((path, f"moved {path} -> {twin}"))
    changes.extend((path, f"added {path}") for path in added)
    return [line for _, line in sorted(changes)]
