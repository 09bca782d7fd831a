"""Use cases without Telegram: a member's turn, access, institutions, invites, privacy, digest, audit."""
