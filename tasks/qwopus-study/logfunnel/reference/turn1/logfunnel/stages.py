"""The stages: each takes the list of lines and returns the next one."""


def grep(lines, text, invert=False):
    return [line for line in lines if (text in line) != invert]


def field(lines, number):
    kept = []
    for line in lines:
        parts = line.split()
        if len(parts) >= number:
            kept.append(parts[number - 1])
    return kept


def count(lines):
    """`VALUE COUNT` per distinct line, in order of first appearance."""
    counts = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    return [f"{value} {n}" for value, n in counts.items()]


def _number(line):
    parts = line.split()
    try:
        return (0, float(parts[-1]))
    except (IndexError, ValueError):
        return (1, 0.0)


def sort(lines, numeric=False, reverse=False):
    if numeric:
        # Lines without a number go last either way.
        with_number = [l for l in lines if _number(l)[0] == 0]
        without = [l for l in lines if _number(l)[0] == 1]
        return sorted(with_number, key=lambda l: _number(l)[1], reverse=reverse) + without
    return sorted(lines, reverse=reverse)


def head(lines, number):
    return lines[:number]


def format_(lines, template):
    out = []
    for line in lines:
        fields = [line] + line.split()
        text = template
        for index in range(len(fields) - 1, -1, -1):
            text = text.replace("{" + str(index) + "}", fields[index])
        out.append(text)
    return out
