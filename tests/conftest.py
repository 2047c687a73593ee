"""Shared fixtures: real services (tests/fixtures_services.py), Chromium (tests/fixtures_browser.py), and the
app on either backend with its test clients, ``client`` and ``login(role)`` (tests/fixtures_app.py)."""

pytest_plugins = ["tests.fixtures_services", "tests.fixtures_browser", "tests.fixtures_app"]
