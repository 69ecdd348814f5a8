import sys

from dominoes.cli import main

sys.exit(main())
