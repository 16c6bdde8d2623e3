import sys

from ganphase.cli import main

sys.exit(main())
