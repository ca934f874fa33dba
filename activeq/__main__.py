"""``python -m activeq``: see :mod:`activeq.cli`."""

import sys

from .cli import main

sys.exit(main())
