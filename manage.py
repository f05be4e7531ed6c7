#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as error:
        # Name the database that could not be reached instead of a bare driver traceback.
        from django.db import connections

        sources = {connections[alias].settings_dict.get("SOURCE", alias) for alias in connections}
        sys.stderr.write(
            f"Cannot reach the database {', '.join(sorted(sources))}: {str(error).strip()}\n"
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
