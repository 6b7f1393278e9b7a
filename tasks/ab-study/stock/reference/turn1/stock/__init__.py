"""A stock keeper kept in stock.json in the current directory."""
