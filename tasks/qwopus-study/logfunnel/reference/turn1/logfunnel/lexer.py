"""Words, double-quoted strings (\\" and \\\\ escape) and the `|` between stages."""


class LexError(Exception):
    pass


PIPE = object()


def tokens(text):
    """The tokens of a pipeline: strings, and PIPE for each `|` outside quotes."""
    found = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "|":
            found.append(PIPE)
            i += 1
        elif char == '"':
            i += 1
            word = []
            while True:
                if i >= len(text):
                    raise LexError("a quoted string is not closed")
                if text[i] == "\\" and i + 1 < len(text):
                    word.append(text[i + 1])
                    i += 2
                elif text[i] == '"':
                    i += 1
                    break
                else:
                    word.append(text[i])
                    i += 1
            found.append("".join(word))
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in '|"':
                i += 1
            found.append(text[start:i])
    return found
