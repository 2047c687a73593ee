"""axe-core (``tests/vendor/axe-core``) run on the page a browser test has open, in the dark and the light theme.

The script is handed to the page through Playwright's ``evaluate`` (the DevTools protocol, which the app's
Content-Security-Policy does not govern), so the app's CSP stays as strict as in production and nothing is
fetched at run time. Rules: WCAG 2.0 and 2.1, levels A and AA; a violation of impact serious or critical fails.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The rules of those tags whose outcome depends on colours: all a second theme can change (names, roles, labels and
# structure are the same in both), so a page is audited in full once and for these in its other theme.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
FAILING_IMPACTS = ["serious", "critical"]
THEMES = ("dark", "light")
THEME_KEY = "pantau-theme"  # assets/theme.js keeps the chosen theme under this localStorage key
THEME_TOGGLE = "#shell-theme-toggle"

# Dash 4.4's own markup that no prop of ours reaches, kept out by rule *and* element (every other rule still runs
# on these elements; revisit on each Dash upgrade):
# - dcc.Dropdown's focus proxy, an aria-hidden read-only <input> that hands focus straight on to the dropdown's
#   named button, so neither keyboard nor screen-reader users ever rest on it;
# - dcc.DatePicker*'s wrapper <div>, a popover trigger given aria-expanded/aria-haspopup without a role (the date
#   input inside it is the control, with its own name).
DASH_INTERNALS = [
    ("aria-hidden-focus", ".dash-dropdown-focus-target"),
    ("aria-allowed-attr", ".dash-datepicker-input-wrapper"),
]
SHOWN_NODES = 8  # elements listed per rule in a failure message

# Animations are stopped while axe looks (a flashing alarm would otherwise be measured at a random frame). Their
# other frames were checked by hand: the high alarm's white text on #5c1016 reads 13.6:1, the medium alarm's on
# #5c4a00 8.6:1, the technical banner's on #6a1a22 11.8:1.
_RUN = """async ([only, impacts, internals]) => {
  const still = document.createElement("style");
  still.textContent = "*, *::before, *::after { animation: none !important; transition: none !important; }";
  document.head.appendChild(still);
  try {
    const result = await axe.run(document, {
      runOnly: only, resultTypes: ["violations"], elementRef: true,
    });
    const internal = (rule, node) => internals.some(([id, selector]) => id === rule && node.element.matches(selector));
    return result.violations.filter((v) => impacts.includes(v.impact)).map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.filter((n) => !internal(v.id, n)).map((n) => ({
        target: n.target.join(" "),
        html: n.html.slice(0, 120),
        data: (n.any.find((c) => c.data && c.data.fgColor) || {}).data || null,
      })),
    })).filter((v) => v.nodes.length);
  } finally {
    still.remove();
  }
}"""


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def _describe(violation: dict) -> str:
    nodes = violation["nodes"]
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in nodes[:SHOWN_NODES]:
        colours = node["data"]
        detail = (
            f" — {colours['fgColor']} on {colours['bgColor']} = {colours['contrastRatio']}:1, "
            f"needs {colours['expectedContrastRatio']}"
            if colours
            else ""
        )
        lines.append(f"    {node['target']}{detail}  {node['html']}")
    if len(nodes) > SHOWN_NODES:
        lines.append(f"    … and {len(nodes) - SHOWN_NODES} more")
    return "\n".join(lines)


def audit(page: Page, *, colours_only: bool = False) -> list[str]:
    """The serious and critical axe violations of the page as shown now, one readable entry per rule (rule id,
    the elements' selectors and, for colour contrast, the colours and their ratio); ``colours_only``: just the
    rules a theme can change (``COLOUR_RULES``)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    only = {"type": "rule", "values": COLOUR_RULES} if colours_only else {"type": "tag", "values": TAGS}
    return [_describe(v) for v in page.evaluate(_RUN, [only, FAILING_IMPACTS, DASH_INTERNALS])]


def shown_theme(page: Page) -> str | None:
    return page.evaluate("() => document.documentElement.getAttribute('data-bs-theme')")


def switch_theme(page: Page) -> str:
    """Switch the open page to the other theme with the navbar's toggle or, where there is none (a TV signed in
    by its token, pages outside Dash), through the stored choice and a reload. Returns the theme.

    The toggle gets its click event directly: on a TV board previewed by staff the board covers the navbar."""
    wanted = "light" if shown_theme(page) == "dark" else "dark"
    toggle = page.locator(THEME_TOGGLE)
    if toggle.count():
        toggle.dispatch_event("click")
    else:
        page.evaluate("([key, theme]) => window.localStorage.setItem(key, theme)", [THEME_KEY, wanted])
        page.reload()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", wanted)
    return wanted
