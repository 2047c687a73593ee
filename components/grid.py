"""What every AG Grid of the app shares: Bootstrap's colours, and its own words (the pager, "loading", an empty
grid) in the user's language rather than AG Grid's English."""

from __future__ import annotations

from i18n import translate
from i18n.web import current_language

# AG Grid's own theme (Quartz, applied by the grid itself: no stylesheet from a CDN) in Bootstrap's colours, so the
# grids follow the light and dark themes.
GRID_COLOURS = {
    "--ag-background-color": "var(--bs-body-bg)",
    "--ag-foreground-color": "var(--bs-body-color)",
    "--ag-header-background-color": "var(--bs-tertiary-bg)",
    "--ag-border-color": "var(--bs-border-color)",
    "--ag-row-hover-color": "var(--bs-secondary-bg)",
    "--ag-odd-row-background-color": "var(--bs-body-bg)",
}

# AG Grid's ``localeText`` keys that Pantau's grids show or hand a screen reader, and their catalogue keys.
_WORDS = {
    "page": "grid_page",
    "of": "grid_of",
    "to": "grid_to",
    "more": "grid_more",
    "pageSizeSelectorLabel": "grid_page_size",
    "ariaPageSizeSelectorLabel": "grid_page_size",
    "firstPage": "grid_first_page",
    "previousPage": "grid_previous_page",
    "nextPage": "grid_next_page",
    "lastPage": "grid_last_page",
    "loadingOoo": "grid_loading",
    "ariaSkeletonCellLoading": "grid_loading",
    "ariaHeaderSelection": "grid_selection_column",
    "ariaRowSelectAll": "grid_select_all_rows",
    "ariaChecked": "grid_checked",
    "ariaUnchecked": "grid_unchecked",
    "ariaIndeterminate": "grid_some_checked",
    "ariaSortableColumn": "grid_sortable",
}


def grid_words(no_rows_key: str, lang: str | None = None) -> dict[str, str]:
    """A grid's ``localeText`` in ``lang`` (default: the request's), ``no_rows_key`` saying what an empty grid
    means there."""
    lang = lang or current_language()
    words = {name: translate(key, lang) for name, key in _WORDS.items()}
    return words | {"noRowsToShow": translate(no_rows_key, lang)}
