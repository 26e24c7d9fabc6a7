"""`python -m foyer`: the same as the `foyer` command."""

import sys

from foyer.cli import main

sys.exit(main())
