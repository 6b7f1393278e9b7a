"""Count the words of a text file, most frequent first."""

import argparse
import re
import sys
from collections import Counter

WORD = re.compile(r"[A-Za-z']+")


def count_words(text):
    words = (match.strip("'").lower() for match in WORD.findall(text))
    return Counter(word for word in words if word)


def ranked(counts):
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def main(argv):
    parser = argparse.ArgumentParser(prog="wordfreq")
    parser.add_argument("file")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        print(f"error: cannot read {args.file}", file=sys.stderr)
        return 1
    for word, count in ranked(count_words(text)):
        print(f"{word} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
