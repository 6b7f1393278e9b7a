"""Langton's ant on an unbounded grid, and the highway it builds."""
