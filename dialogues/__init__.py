"""The sans-IO core: the catalogue and the dialogue engine. No Telegram, no database, no await."""
