"""The Telegram shell, the terminal demo, the CLI, configuration and templates."""
