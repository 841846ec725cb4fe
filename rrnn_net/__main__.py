"""``python -m rrnn_net``: the ``rrnn`` command without the console script."""

import sys

from .cli import main

sys.exit(main())
