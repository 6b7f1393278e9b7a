"""Summary statistics of a CSV column."""
