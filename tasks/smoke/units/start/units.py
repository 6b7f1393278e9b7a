"""Convert a quantity between units: python3 units.py VALUE FROM TO"""

import sys


def convert(value, source, target):
    if source == "km" and target == "mi":
        return value / 1.609344
    raise ValueError(f"cannot convert {source} to {target}")


def main(argv):
    value, source, target = float(argv[0]), argv[1], argv[2]
    print(f"{convert(value, source, target):.3f} {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
