import sys

from notes.cli import main

sys.exit(main(sys.argv[1:]))
