"""One file per note: `notebook/N-slug.md`, holding a small header and the body."""

import os
import re

DIRECTORY = "notebook"
NAME = re.compile(r"^(\d+)-[a-z0-9-]*\.md$")


def slug(title):
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:40]


def note_paths():
    """(number, path) of every note, in numeric order (10 after 9)."""
    if not os.path.isdir(DIRECTORY):
        return []
    found = []
    for name in os.listdir(DIRECTORY):
        match = NAME.match(name)
        if match:
            found.append((int(match.group(1)), os.path.join(DIRECTORY, name)))
    return sorted(found)


def write_note(number, title, tags, body, path=None):
    os.makedirs(DIRECTORY, exist_ok=True)
    target = path or os.path.join(DIRECTORY, f"{number}-{slug(title)}.md")
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(f"title: {title}\ntags: {', '.join(tags)}\n\n{body}")
    return target


def read_note(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    header, _, body = text.partition("\n\n")
    fields = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in header.splitlines())
    tags = [tag for tag in fields.get("tags", "").split(", ") if tag]
    return fields.get("title", ""), tags, body
