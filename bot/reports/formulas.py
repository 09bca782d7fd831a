"""Text that a spreadsheet program would run as a formula ("CSV/formula injection")."""

# Excel, LibreOffice and Google Sheets treat a cell starting with one of these as a formula: a
# member could type "=HYPERLINK(...)" as an answer, and a Telegram first name is chosen by its
# owner. Tab and carriage return are on OWASP's list too, because some programs strip them and
# then find the formula behind them. The cost is that "-5 % Wartezeit" is marked as text too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """Return whether a value is text that a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)
