"""`alpharelease <command>`: manage.py for a copy installed with pip (the wheel puts this
command on the environment's PATH; a checkout may use either)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
