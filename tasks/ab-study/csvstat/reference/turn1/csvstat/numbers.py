"""Which cells are numbers."""


def to_number(cell):
    text = (cell or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def numeric_values(rows, column):
    values, skipped = [], 0
    for row in rows:
        value = to_number(row.get(column))
        if value is None:
            skipped += 1
        else:
            values.append(value)
    return values, skipped
