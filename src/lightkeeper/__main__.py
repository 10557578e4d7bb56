"""``python -m lightkeeper``."""

from lightkeeper.cli import main

main()
