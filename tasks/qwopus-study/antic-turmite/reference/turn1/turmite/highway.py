"""The highway: from some step on, the same sequence of turns repeats to the end."""

MAX_PERIOD = 200
MIN_STEPS = 500


def find(turns):
    """(first step, period) of the highway, steps counted from 1, or None.

    The period is the smallest P <= 200 for which the turns from some step S to the last one
    repeat with period P over at least 500 steps and three periods; S is the smallest such step.
    """
    n = len(turns)
    for period in range(1, MAX_PERIOD + 1):
        start = n - period  # 0-based index: turns[t] == turns[t + period] for every t >= start
        while start > 0 and turns[start - 1] == turns[start - 1 + period]:
            start -= 1
        covered = n - start
        if covered >= max(MIN_STEPS, 3 * period):
            return start + 1, period
    return None
