"""Affine maps of an iterated function system: x' = a*x + b*y + e, y' = c*x + d*y + f."""
import json

KEYS = ("a", "b", "c", "d", "e", "f", "p")

# Barnsley's four maps: the stem, successively smaller leaflets, the left and the right leaflet.
BARNSLEY = [
    {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.16, "e": 0.0, "f": 0.0, "p": 0.01},
    {"a": 0.85, "b": 0.04, "c": -0.04, "d": 0.85, "e": 0.0, "f": 1.6, "p": 0.85},
    {"a": 0.2, "b": -0.26, "c": 0.23, "d": 0.22, "e": 0.0, "f": 1.6, "p": 0.07},
    {"a": -0.15, "b": 0.28, "c": 0.26, "d": 0.24, "e": 0.0, "f": 0.44, "p": 0.07},
]


class MapError(Exception):
    """A maps file that cannot be used."""


def normalised(maps):
    """The maps with their weights scaled to sum to 1."""
    total = sum(m["p"] for m in maps)
    return [dict(m, p=m["p"] / total) for m in maps]


def load(path):
    """Maps from a JSON file: a list of objects with a, b, c, d, e, f and a positive weight p."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        raise MapError(f"cannot read {path}: {err}") from err
    if not isinstance(data, list) or not data:
        raise MapError(f"{path}: expected a non-empty list of maps")
    maps = []
    for index, item in enumerate(data, 1):
        if not isinstance(item, dict) or any(k not in item for k in KEYS):
            raise MapError(f"{path}: map {index} needs the keys {', '.join(KEYS)}")
        try:
            values = {k: float(item[k]) for k in KEYS}
        except (TypeError, ValueError) as err:
            raise MapError(f"{path}: map {index}: {err}") from err
        if values["p"] <= 0:
            raise MapError(f"{path}: map {index}: the weight p must be positive")
        maps.append(values)
    return maps
