"""Live screens keep running through restarts, in a real browser on the production stack: the web app as a gunicorn
process (tests/app_process.py) on PostgreSQL and Redis, the consumer and four simulated ICU monitors beside it.

A ward station opened by a display token outlives the idle timeout (1 minute here) and restarts of the web app, of
Redis and of the broker, and its tiles keep updating; a queue board picks up a call made after the web app restarted."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from auth import users
from domain.actor import Actor
from testkit.front_desk import call, register_waiting
from testkit.servers import RedisServer, free_port
from tests.app_process import WebAppProcess
from tests.fixtures_app import build_app, make_settings
from tests.test_browser_live_ward import TECHNICAL, expect_updating, start_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]
IDLE_TIMEOUT_MINUTES = 1
TEST_ACTOR = Actor(None, "test", None)


@pytest.fixture
def production_stack(tmp_path, postgres_server, postgres_template, mosquitto_server):
    """(web app process, its own Redis, the session's broker, the app object the consumer and the test use, the
    embedded stack with its simulators), with a 1-minute idle timeout and 5-second streams."""
    redis = RedisServer(port=free_port()).start()  # a fixed port, so a restart comes back where the app looks
    database = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=postgres_template.name)
    settings = make_settings(
        tmp_path,
        database,
        redis.url,
        mosquitto_server.url,
        session_timeout_minutes=IDLE_TIMEOUT_MINUTES,
        live_stream_seconds=5,
    )
    pantau = build_app(settings)
    web = WebAppProcess(settings).start()
    stack = start_stack(pantau)
    try:
        yield web, redis, mosquitto_server, pantau, stack
    finally:
        stack.stop()
        web.stop()
        pantau.runtime.close()
        redis.stop()


def ward_display_token(pantau, ward: str = "ICU") -> str:
    """A display-only account and its token for the ward's station, as an operator makes them."""
    with pantau.runtime.db.session() as s:
        site_id = users.find_user(s, "perawat").site_id
        tv = users.create_user(
            s, TEST_ACTOR, site_id=site_id, username=f"tv.{ward.lower()}", full_name=f"TV {ward}",
            roles=["display"], password="display-only-password",
        )  # fmt: skip
        return users.create_display_token(s, TEST_ACTOR, tv, f"Station {ward}", f"/bangsal/{ward}")


def test_a_display_station_outlives_the_idle_timeout_and_restarts_of_web_redis_and_broker(page, production_stack):
    web, redis, broker, pantau, _ = production_stack
    page.goto(f"{web.url}/tv/{ward_display_token(pantau)}")
    expect(page).to_have_url(f"{web.url}/bangsal/ICU")
    expect(page.locator("#tile-ICU-01 .v-hr")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#ward-grid .tile-pause")).to_have_count(0)  # read-only: no pause, no acknowledge
    expect(page.locator("#ward-alarm-list .ward-ack")).to_have_count(0)

    opened = time.monotonic()
    while time.monotonic() - opened < IDLE_TIMEOUT_MINUTES * 60 + 15:  # a dozen stream reconnects meanwhile
        expect_updating(page, "ICU-01")
        page.wait_for_timeout(3_000)
    expect(page.locator(TECHNICAL)).to_have_count(0)

    web.restart()
    expect_updating(page, "ICU-01", timeout=40)
    expect(page.locator(TECHNICAL)).to_have_count(0, timeout=15_000)

    redis.stop()
    expect(page.locator(f"{TECHNICAL}.ward-technical-interrupted")).to_be_visible(timeout=20_000)
    redis.start()
    expect(page.locator(TECHNICAL)).to_have_count(0, timeout=45_000)
    expect_updating(page, "ICU-03", timeout=20)

    broker.stop()
    expect(page.locator(f"{TECHNICAL}.ward-technical-interrupted")).to_be_visible(timeout=20_000)
    broker.start()
    expect(page.locator(TECHNICAL)).to_have_count(0, timeout=45_000)
    expect_updating(page, "ICU-02", timeout=20)
    assert page.evaluate("window.pantauWard().stream.state") == "open"
    assert page.url == f"{web.url}/bangsal/ICU", "the same page all along: never reloaded, never signed out"


def test_a_queue_board_picks_up_a_call_made_after_the_web_app_restarted(page, production_stack):
    web, _, _, pantau, stack = production_stack
    stack.queues.stop()  # the demo clinic's own calls would take the board's "now" from the test's
    page.goto(f"{web.url}/tv/{pantau.creds.display_token}")
    page.wait_for_function("() => window.pantauBoard && window.pantauBoard()?.stream.state === 'open'")
    web.restart()
    patient = register_waiting(pantau, "Sri Rahayu")
    call(pantau, patient.ticket_id, "Poli Umum")
    expect(page.locator("#board-now-number")).to_have_text(patient.label, timeout=40_000)
    expect(page.locator("#board-offline")).to_be_hidden()
    assert page.evaluate("window.pantauBoard().stream.state") == "open"
