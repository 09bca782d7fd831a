"""The Telegram shell, the terminal demo, the CLI, configuration and templates."""

import os

# Opt in now to python-telegram-bot 23's durations as timedelta (RetryAfter.retry_after among
# them); without it, PTB 22 warns on every read of such a value.
os.environ.setdefault("PTB_TIMEDELTA", "1")
