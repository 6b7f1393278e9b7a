"""Snapshots of a directory tree, and what drifted between two of them."""
