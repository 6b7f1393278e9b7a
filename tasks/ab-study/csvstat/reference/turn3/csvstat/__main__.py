import sys

from csvstat.cli import main

sys.exit(main(sys.argv[1:]))
