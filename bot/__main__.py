"""`python -m bot …` runs the `chancencheck` command line, e.g. where no script is installed."""

from bot.cli.entry import main

raise SystemExit(main())
