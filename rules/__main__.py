"""Entry point for `python -m rules`."""
import os
import sys

from rules.cli import main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
sys.exit(code)
