"""The app shell's callbacks, in the browser: the highlighted navbar menu and the theme shown."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State

from callbacks.registry import clientside_callback
from components.shell import THEME_STORE

# NavLink highlights itself (active="exact"); a menu cannot, so mark its item and toggle for the current path.
HIGHLIGHT_GROUP = """function (path, menus) {
    const here = (href) => path === href || (path || "").startsWith(href + "/");
    const items = menus.map((children) => children.map((item) => {
        const props = Object.assign({}, item.props, {active: here(item.props.href)});
        return Object.assign({}, item, {props: props});
    }));
    const toggles = items.map((children) => children.some((item) => item.props.active) ? "active" : "");
    return [toggles, items];
}"""
clientside_callback(
    HIGHLIGHT_GROUP,
    Output({"type": "nav-group", "group": ALL}, "toggle_class_name"),
    Output({"type": "nav-group", "group": ALL}, "children"),
    Input("_pages_location", "pathname"),
    State({"type": "nav-group", "group": ALL}, "children"),
)


# The theme is kept in the browser (assets/theme.js): shown on load, switched by the toggle. The store tells the
# figure callbacks, which redraw their charts in its colours when it changes.
clientside_callback(
    ClientsideFunction(namespace="pantau_theme", function_name="shown"),
    Output(THEME_STORE, "data"),
    Input("shell-theme-toggle", "n_clicks"),
)
