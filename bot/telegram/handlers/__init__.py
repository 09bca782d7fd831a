"""One module per kind of update; registered in bot.telegram.routes."""
