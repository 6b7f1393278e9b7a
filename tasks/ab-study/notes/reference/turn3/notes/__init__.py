"""Notes kept as Markdown files in the `notebook/` directory of the current directory."""
