"""Convert a quantity between units: python3 units.py VALUE FROM TO"""

import sys

# Each unit: its kind and its size in the kind's base unit (metres).
UNITS = {
    "km": ("length", 1000.0),
    "mi": ("length", 1609.344),
}


class ConversionError(Exception):
    pass


def convert(value, source, target):
    for unit in (source, target):
        if unit not in UNITS:
            raise ConversionError(f"unknown unit {unit}")
    source_kind, source_size = UNITS[source]
    target_kind, target_size = UNITS[target]
    if source_kind != target_kind:
        raise ConversionError(f"cannot convert {source} to {target}")
    return value * source_size / target_size


def main(argv):
    if len(argv) != 3:
        print("usage: units.py VALUE FROM TO", file=sys.stderr)
        return 2
    try:
        value = float(argv[0])
        result = convert(value, argv[1], argv[2])
    except ValueError:
        print(f"error: not a number: {argv[0]}", file=sys.stderr)
        return 2
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{result:.3f} {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
