"""The Barnsley fern, drawn with the chaos game over an iterated function system."""
