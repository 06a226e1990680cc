"""``python -m drsparse``: the same as the ``drsparse`` command."""

import sys

from drsparse._cli import program

if __name__ == "__main__":
    sys.exit(program())
