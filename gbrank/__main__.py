"""``python -m gbrank``: the command line."""

import sys

from gbrank.cli import main

sys.exit(main())
