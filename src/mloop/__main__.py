"""``python -m mloop`` runs the CLI, like the ``mloop`` command."""

from mloop.cli.app import main

main()
