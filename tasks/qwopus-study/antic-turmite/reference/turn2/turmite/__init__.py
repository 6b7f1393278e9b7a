"""Turmites (Langton's ant and its many-colour rules) on an unbounded grid, and the highways they build."""
