"""``python -m diffjam``: the ``diffjam`` command with this interpreter."""

import sys

from diffjam.cli import main

sys.exit(main())
