import sys

from musicrec_engine.cli import main

sys.exit(main())
