"""File types by content, not by name."""
