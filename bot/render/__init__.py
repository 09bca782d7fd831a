"""Effects -> views -> HTML through the jinja2 templates; codecs for buttons and commands. No Telegram, no storage."""
