"""``python -m skgliclass``."""

import sys

from skgliclass.cli import main

sys.exit(main())
