"""Tokens into stages: a list of (function, arguments)."""
from . import lexer, stages


class ParseError(Exception):
    pass


def _positive(word, stage, number):
    try:
        value = int(word)
    except ValueError:
        value = 0
    if value <= 0:
        raise ParseError(f"stage {number} ({stage}): {word!r} is not a positive integer")
    return value


def _build(words, number):
    if not words:
        raise ParseError(f"stage {number} is empty")
    name, args = words[0], words[1:]
    if name == "grep":
        invert = bool(args) and args[0] == "-v"
        rest = args[1:] if invert else args
        if len(rest) != 1:
            raise ParseError(f"stage {number} (grep): expected grep [-v] TEXT")
        return lambda lines: stages.grep(lines, rest[0], invert)
    if name in ("field", "head"):
        if len(args) != 1:
            raise ParseError(f"stage {number} ({name}): expected {name} N")
        n = _positive(args[0], name, number)
        return (lambda lines: stages.field(lines, n)) if name == "field" else (lambda lines: stages.head(lines, n))
    if name == "count":
        if args:
            raise ParseError(f"stage {number} (count) takes no argument")
        return stages.count
    if name == "sort":
        flags = set(args)
        if not flags <= {"-n", "-r"} or len(flags) != len(args):
            raise ParseError(f"stage {number} (sort): expected sort [-n] [-r]")
        return lambda lines: stages.sort(lines, "-n" in flags, "-r" in flags)
    if name == "format":
        if len(args) != 1:
            raise ParseError(f"stage {number} (format): expected format TEMPLATE")
        return lambda lines: stages.format_(lines, args[0])
    raise ParseError(f"stage {number}: unknown stage {name!r}")


def parse(text):
    try:
        found = lexer.tokens(text)
    except lexer.LexError as err:
        raise ParseError(str(err)) from err
    pipeline, words = [], []
    for token in found + [lexer.PIPE]:
        if token is lexer.PIPE:
            pipeline.append(_build(words, len(pipeline) + 1))
            words = []
        else:
            words.append(token)
    return pipeline
