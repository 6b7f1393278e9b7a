"""Amounts as integer cents: exact sums, no floating-point drift."""

import re

AMOUNT = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


class MoneyError(ValueError):
    pass


def parse_cents(text):
    """'12.5' -> 1250. Negative, malformed or over-precise amounts are refused."""
    match = AMOUNT.match(text.strip())
    if not match:
        raise MoneyError(f"not an amount with at most two decimals: {text}")
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction)


def format_cents(cents):
    return f"{cents // 100}.{cents % 100:02d}"
