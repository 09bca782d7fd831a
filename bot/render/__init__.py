"""Effects -> views -> HTML through the jinja2 templates; button and command codecs.

No Telegram and no storage here.
"""
