"""Use cases without Telegram: a member's turn, access, institutions, privacy, digest, audit."""
