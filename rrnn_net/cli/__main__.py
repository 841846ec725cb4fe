"""``python -m rrnn_net.cli``: the ``rrnn`` command without the console script."""

import sys

from . import main

sys.exit(main())
