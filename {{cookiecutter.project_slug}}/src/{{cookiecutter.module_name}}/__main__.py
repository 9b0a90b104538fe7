"""`python -m {{ cookiecutter.module_name }}` runs the command-line interface."""

import sys

from .cli import main

sys.exit(main())
