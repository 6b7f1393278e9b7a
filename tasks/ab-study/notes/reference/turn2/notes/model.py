"""Notes and their rules: numbering, tags, search."""

import re

from notes.files import note_paths, read_note, write_note


class NoteError(Exception):
    """A note that does not exist (exit status 1)."""


class InputError(ValueError):
    """Input that is not valid (exit status 2)."""


def clean_tags(tags):
    cleaned = []
    for tag in tags:
        tag = tag.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", tag):
            raise InputError(f"not a tag: {tag!r} (letters, digits and dashes)")
        if tag not in cleaned:
            cleaned.append(tag)
    return sorted(cleaned)


def all_notes():
    return [(number, path, *read_note(path)) for number, path in note_paths()]


def add(title, tags, body):
    if not title.strip():
        raise InputError("a note needs a title")
    numbers = [number for number, _ in note_paths()]
    number = max(numbers, default=0) + 1
    write_note(number, title.strip(), clean_tags(tags), body)
    return number


def find(number):
    for note in all_notes():
        if note[0] == number:
            return note
    raise NoteError(f"no note {number}")


def search(word):
    pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
    return [note for note in all_notes() if pattern.search(note[2]) or pattern.search(note[4])]

