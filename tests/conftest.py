"""Shared fixtures: real services (tests/fixtures_services.py), Chromium (tests/fixtures_browser.py), and the
app on either backend with its test clients, ``client`` and ``login(role)`` (tests/fixtures_app.py). Files marked
``slow`` run first."""

import pytest

pytest_plugins = ["tests.fixtures_services", "tests.fixtures_browser", "tests.fixtures_app"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` files first, the rest in their order: ``make test`` hands whole files to its workers in
    collection order (``--dist loadfile --no-loadscope-reorder``), and a file of long waits handed out last keeps
    one worker going for minutes after the others are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
