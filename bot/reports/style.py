"""Colours of the reports: one palette for the HTML document, the charts and the spreadsheet."""

# Traffic-light colours that stay distinguishable when printed and on a phone screen; keys are
# the catalogue's scale colours and the traffic_light() names. Green and red are dark enough
# for white text at 4.5:1 or more (WCAG 2.1 AA 1.4.3; tests/test_accessibility_report.py).
HEX = {
    "green": "#2e7d32",
    "yellow": "#fdd835",
    "orange": "#fb8c00",
    "red": "#c62828",
    "grey": "#bdbdbd",
}
# Dark text on the light colours, white on the dark ones, so cell labels stay legible.
TEXT_ON = {
    "green": "#ffffff",
    "yellow": "#212121",
    "orange": "#212121",
    "red": "#ffffff",
    "grey": "#212121",
}
OPEN_HEX = "#ffffff"
OPEN_EDGE = "#9e9e9e"


def hex_colour(name: str) -> str:
    """Return the hex code of a colour name, grey for an unknown name."""
    return HEX.get(name, HEX["grey"])
