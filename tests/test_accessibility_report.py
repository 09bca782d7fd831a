"""Issue 21 in the reports: the HTML report passes axe-core's WCAG 2.1 A/AA rules in a real
headless Chromium, and the traffic-light colours keep 4.5:1 against their text.

Needs Debian's `chromium` and `chromium-driver`, `selenium` (test extra) and axe-core's
`axe.min.js`, which `.ci/run` fetches with `npm pack` into `.cache/axe-core/<version>/` (or point
AXE_CORE_JS at one). Where something is missing the axe test is skipped with the reason, except
under CI (CI=true), where a skip would hide a regression, so it fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_reports import (
    NOW,
    TEMPLATES,
    Round,
    full_report,
    partial_report,
    round_,  # noqa: F401  (the fixture)
)

from bot.catalogue import load_catalogue
from bot.reports import profile_chart_png, report_html
from bot.reports.style import HEX, TEXT_ON

CATALOGUE = load_catalogue()
ROOT = Path(__file__).resolve().parent.parent
CACHED = sorted((ROOT / ".cache" / "axe-core").glob("**/axe.min.js"))  # as .ci/run leaves it
AXE_JS = Path(os.environ.get("AXE_CORE_JS") or (CACHED[-1] if CACHED else ".cache/axe-core"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's; selenium would otherwise try to download one
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # no update or safe-browsing calls: loopback only
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then(r => done({violations: r.violations, passes: r.passes.map(p => p.id),
                   incomplete: r.incomplete.map(p => p.id)}))
  .catch(e => done({error: String(e)}));
"""


def missing() -> str | None:
    """Say what the axe test lacks on this machine, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return "no Chromium: apt-get install chromium chromium-driver"
    if not AXE_JS.exists():
        return f"no axe-core at {AXE_JS}: run .ci/run, or npm pack axe-core and set AXE_CORE_JS"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the accessibility test: {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager reach the network
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def axe(driver: Any, page: Path) -> dict[str, Any]:
    driver.get(page.as_uri())
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result: dict[str, Any] = driver.execute_async_script(RUN_AXE, WCAG_AA)
    assert "error" not in result, result
    return result


def explain(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes'][:3]]}"
        for v in violations
    )


@pytest.mark.slow
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("which", ["full", "partial"])
async def test_html_report_passes_axe_wcag21_aa(
    browser: Any,
    round_: Round,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    language: str,
    which: str,
) -> None:
    """0 violations of WCAG 2.1 A/AA: lang, table headers, heading order, contrast, alt text.
    The full report has every rating colour and the chart; the partial one has open questions."""
    report = await (full_report if which == "full" else partial_report)(round_)
    chart = profile_chart_png(report, CATALOGUE, language)
    page = tmp_path / f"report-{language}.html"
    page.write_bytes(report_html(report, CATALOGUE, TEMPLATES, language, NOW, chart))
    for width in (1280, 390):  # a desktop and a phone
        browser.set_window_size(width, 900)
        result = axe(browser, page)
        assert result["violations"] == [], explain(result["violations"])
        checked = set(result["passes"]) | set(result["incomplete"])
        # The rules the issue names were really applied, not just absent from the page:
        assert {"html-has-lang", "image-alt", "th-has-data-cells", "color-contrast"} <= checked


def contrast(one: str, other: str) -> float:
    """Return the WCAG 2.1 contrast ratio of two #rrggbb colours."""

    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_traffic_light_colours_keep_their_text_legible() -> None:
    """Every light's text colour (report badges, heat map, spreadsheet) reaches 4.5:1."""
    for name, background in HEX.items():
        assert contrast(background, TEXT_ON[name]) >= 4.5, name
