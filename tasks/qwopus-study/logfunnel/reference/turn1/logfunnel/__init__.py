"""A small pipeline language over log lines."""
