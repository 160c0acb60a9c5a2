import sys

from tools.corpus.cli import main

sys.exit(main())
