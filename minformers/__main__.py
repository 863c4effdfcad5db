"""`python -m minformers TASK [--model M] TEXT...`"""

import sys

from .cli import main

sys.exit(main())
