"""Issue 13's "Done when", end to end: a hospital built in the browser from an empty database.

The embedded app runs as the operator starts it (``python -m data.migrate``, one admin from ``flask create-user``,
then ``python app.py`` with ``PANTAU_DEMO=false``). The admin sets the hospital up through its pages, the front desk
registers and admits a patient whose monitor (``python -m iot_sim``) shows live on the ward station; she is
transferred and discharged, the bed is cleaned and a new patient on it sees none of her history. Tomorrow's
doctor goes on leave after Mobile JKN bookings: they are listed, one is cancelled and BPJS is told (outbox)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from data.models import Admission, AlarmEvent, Bed, BpjsOutbox, Observation, Visit
from testkit.servers import free_port
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, settled, sign_in
from tests.test_embedded_demo import start_app, stop, wait_until_serving

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SITE = "RSUJI"
ADMIN, ADMIN_TEMPORARY, ADMIN_OWN = "admin.rs", "sementara kopi tubruk pagi", "kunci gudang obat lantai dua"
DESK, DESK_TEMPORARY, DESK_OWN = "loket.ani", "meja depan warna biru tua", "antrean pagi di meja satu"
JKN_USER, JKN_PASSWORD, JKN_SECRET = "jkn-rs-uji", "rahasia-jkn-rs-uji-2026", "s" * 40
MONITOR = "MON-KEN-01"
FIRST_BED, SECOND_BED = "KENANGA-01", "KENANGA-02"
WIB = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class Patient:
    name: str
    birth: str
    phone: str
    nik: str
    bpjs: str


SRI = Patient("Sri Handayani", "1979-04-12", "081234560001", "3273015204790001", "0001234567801")
DEWI = Patient("Dewi Lestari", "1990-09-30", "081234560002", "3273017009900002", "0001234567802")


@dataclass(frozen=True)
class Hospital:
    """The running embedded app of an empty hospital."""

    base: str
    env: dict[str, str]
    mqtt_port: int
    database: Path


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def hospital(tmp_path: Path) -> Iterator[Hospital]:
    """Migrate an empty SQLite database, create the one admin with the CLI, then start ``python app.py``."""
    port, mqtt_port, database = free_port(), free_port(), tmp_path / "pantau.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env.update(
        PANTAU_DEMO="false",
        PANTAU_VAR_DIR=str(tmp_path),
        PANTAU_DATABASE_URL=f"sqlite:///{database}",
        PANTAU_PORT=str(port),
        PANTAU_EMBEDDED_MQTT_PORT=str(mqtt_port),
        PANTAU_SITE_CODE=SITE,
        PANTAU_JKN_USERNAME=JKN_USER,
        PANTAU_JKN_PASSWORD=JKN_PASSWORD,
        PANTAU_JKN_TOKEN_SECRET=JKN_SECRET,
    )
    _run(env, sys.executable, "-m", "data.migrate")
    flask = str(Path(sys.executable).with_name("flask"))
    created = _run(
        env, flask, "--app", "app", "create-user", ADMIN, "--name", "Admin RS", "--role", "admin",
        "--password", ADMIN_TEMPORARY,
    )  # fmt: skip
    assert f"created {ADMIN}" in created
    process = start_app(env, log := tmp_path / "hospital.log")
    try:
        wait_until_serving(port, process, log)
        yield Hospital(f"http://127.0.0.1:{port}", env, mqtt_port, database)
    finally:
        stop(process)


# ---- the operator's steps -------------------------------------------------------------------------------------


def first_sign_in(page, base: str, username: str, temporary: str, own: str) -> None:
    """Sign in with the temporary password and choose one's own, as the first sign-in asks."""
    sign_in(page, base, username, temporary)
    page.wait_for_url("**/akun/kata-sandi")
    page.fill("#current", temporary)
    page.fill("#new", own)
    page.fill("#repeat", own)
    page.get_by_role("button", name=re.compile("Simpan|Ganti|Ubah")).click()
    expect(page.locator("#home-greeting")).to_be_visible()


def set_up_the_hospital(page, today: date, tomorrow: date) -> None:
    """The admin's pages: the facility's name, a ward with two beds, a monitor at the first, a poli, a doctor,
    two weekly sessions and a front-desk user."""
    open_nav(page, "pages.admin_facility")
    page.fill("#setup-facility-name", "RSUD Kenanga Sehat")
    page.fill("#setup-facility-ppk-code", "0101R001")
    page.click("#setup-facility-save")
    expect(page.locator("#setup-facility-saved")).to_be_visible()

    open_nav(page, "pages.admin_wards")
    page.fill("#setup-ward-code", "kenanga")
    page.fill("#setup-ward-name", "Bangsal Kenanga")
    page.select_option("#setup-ward-kind", "ward")
    page.select_option("#setup-ward-care-class", "2")
    page.fill("#setup-ward-bed-count", "2")
    page.click("#setup-ward-save")
    expect(page.locator("#setup-ward-saved")).to_be_visible()
    for code in (FIRST_BED, SECOND_BED):
        expect(page.locator("#setup-bed-grid")).to_contain_text(code)

    open_nav(page, "pages.admin_devices")
    page.fill("#devices-new-id", MONITOR)
    page.fill("#devices-new-model", "Mindray ePM 10")
    choose(page, "devices-new-bed", FIRST_BED)
    page.click("#devices-new-submit")
    expect(page.locator("#devices-new-feedback")).to_contain_text(MONITOR)
    expect(page.locator("#devices-grid tr", has_text=MONITOR)).to_contain_text(FIRST_BED)

    open_nav(page, "pages.admin_polis")
    page.fill("#setup-poli-code", "PDL")
    page.fill("#setup-poli-name", "Poli Penyakit Dalam")
    page.fill("#setup-poli-queue-prefix", "D")
    page.fill("#setup-poli-bpjs-code", "INT")
    page.click("#setup-poli-save")
    expect(page.locator("#setup-poli-saved")).to_be_visible()

    open_nav(page, "pages.admin_doctors")
    page.fill("#setup-doctor-name", "dr. Bambang Susilo, Sp.PD")
    page.fill("#setup-doctor-sip", "SIP 503/77/2026")
    page.fill("#setup-doctor-specialty", "Penyakit Dalam")
    page.fill("#setup-doctor-bpjs-code", "45678")
    page.select_option("#setup-doctor-poli-code", "PDL")
    page.click("#setup-doctor-save")
    expect(page.locator("#setup-doctor-saved")).to_be_visible()

    open_nav(page, "pages.admin_schedule")
    for day in (today, tomorrow):
        page.select_option("#admin-schedule-doctor-id", label="dr. Bambang Susilo, Sp.PD")
        page.select_option("#admin-schedule-poli-id", label="Poli Penyakit Dalam")
        page.select_option("#admin-schedule-weekday", str(day.weekday()))
        page.fill("#admin-schedule-start", "08:00")
        page.fill("#admin-schedule-end", "12:00")
        page.fill("#admin-schedule-quota-jkn", "20")
        page.fill("#admin-schedule-quota-non-jkn", "5")
        page.click("#admin-schedule-save")
        expect(page.locator("#admin-schedule-saved")).to_contain_text("Sesi praktik disimpan")
        settled(page)
        page.click("#admin-schedule-new")  # an empty form for the next session
        settled(page)
    expect(page.locator("#admin-schedule-grid tr", has_text="dr. Bambang Susilo")).to_have_count(2)

    open_nav(page, "pages.admin_users")
    page.fill("#admin-new-username", DESK)
    page.fill("#admin-new-fullname", "Ani Rahayu")
    page.locator("#admin-new-roles").get_by_label("Loket pendaftaran").check()
    page.fill("#admin-new-password", DESK_TEMPORARY)
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-feedback")).to_contain_text(f"Pengguna {DESK} dibuat")
    save_screenshot(page, "from-empty-users.png", full_page=True)


def register(page, patient: Patient) -> str:
    """The desk's new-patient form; the new medical record number."""
    open_nav(page, "pages.registration")
    page.click("#reg-new-toggle")
    expect(page.locator("#reg-new-collapse")).to_have_class(re.compile(r"^(?!.*collapsing).*\bshow\b"))
    settled(page)
    for field in ("name", "birth", "phone", "nik", "bpjs"):
        page.fill(f"#reg-new-{field}", getattr(patient, field))
    page.locator("#reg-new-sex input[value='P']").check()
    page.click("#reg-new-submit")
    saved = page.locator("#reg-new-saved")
    expect(saved).to_contain_text("Pasien baru tersimpan dengan nomor RM")
    return re.search(r"\d{6}", saved.inner_text())[0]


def admit(page, mrn: str, name: str, bed: str) -> None:
    """The inpatient page: find the patient by her record number and admit her to ``bed`` of Bangsal Kenanga."""
    open_nav(page, "pages.inpatient")
    page.fill("#inpatient-search-mrn", mrn)
    page.click("#inpatient-search")
    expect(page.locator("#inpatient-patient")).to_contain_text(name)
    choose(page, "inpatient-ward", "Bangsal Kenanga")
    choose(page, "inpatient-bed", bed)
    page.click("#inpatient-admit")
    expect(page.locator("#inpatient-admit-feedback")).to_contain_text(f"tempat tidur {bed}")
    expect(page.locator(f"#inpatient-row-{bed}")).to_contain_text(name)


def simulate(hospital: Hospital, scenario: str) -> subprocess.Popen:
    """One simulated bedside monitor, publishing for ``MONITOR`` in clinical course ``scenario``."""
    broker = f"mqtt://127.0.0.1:{hospital.mqtt_port}"
    command = ["-m", "iot_sim", "--mqtt-url", broker, "--site", SITE, "--devices", MONITOR]
    return subprocess.Popen(
        [sys.executable, *command, "--scenario", f"{MONITOR}={scenario}"],
        cwd=ROOT,
        env=hospital.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


def earliest_points(page, url: str, graphs: tuple[str, ...]) -> list[float | None]:
    """The earliest x (epoch ms) plotted on each of ``graphs`` of the page at ``url`` (None: nothing plotted),
    reloading it, as a nurse would, until the first graph plots the monitor's stored trend."""
    script = """graphs => graphs.map(graph => {
        const plot = document.querySelector(`#${graph} .js-plotly-plot`);
        const xs = (plot && plot.data || []).flatMap(t => Array.from(t.x || [], x => Date.parse(x)));
        const finite = xs.filter(Number.isFinite);
        return finite.length ? Math.min(...finite) : null;
    })"""
    for _ in range(15):
        page.goto(url)
        expect(page.locator(f"#{graphs[0]} .js-plotly-plot")).to_be_attached()
        settled(page)
        points = page.evaluate(script, list(graphs))
        if points[0] is not None:
            return points
        page.wait_for_timeout(2000)
    raise AssertionError(f"{graphs[0]} plotted nothing")


def jkn_book(base: str, patient: Patient, mrn: str, day: date) -> str:
    """Mobile JKN books ``patient`` at Poli Penyakit Dalam on ``day``; the booking code."""

    def call(path: str, headers: dict[str, str], body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{base}/api/jkn/{path}", data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["metadata"]["code"] == 200, answer
        return answer["response"]

    token = call("auth", {"x-username": JKN_USER, "x-password": JKN_PASSWORD})["token"]
    body = {
        "nomorkartu": patient.bpjs,
        "nik": patient.nik,
        "nohp": patient.phone,
        "norm": mrn,
        "kodepoli": "INT",
        "kodedokter": "45678",
        "tanggalperiksa": day.isoformat(),
        "jampraktek": "08:00-12:00",
        "jeniskunjungan": 1,
        "nomorreferensi": f"0301R0011126B{mrn}",
    }
    headers = {"x-token": token, "x-username": JKN_USER, "Content-Type": "application/json"}
    return call("ambilantrean", headers, body)["kodebooking"]


# ---- the test ---------------------------------------------------------------------------------------------------


def test_a_hospital_is_built_and_run_in_the_browser_from_an_empty_database(page, hospital):
    base = hospital.base
    today = datetime.now(WIB).date()  # the app's own clock: the site's timezone is WIB
    tomorrow = today + timedelta(days=1)

    first_sign_in(page, base, ADMIN, ADMIN_TEMPORARY, ADMIN_OWN)
    set_up_the_hospital(page, today, tomorrow)

    desk = page.context.browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta").new_page()
    first_sign_in(desk, base, DESK, DESK_TEMPORARY, DESK_OWN)
    sri_mrn = register(desk, SRI)
    admit(desk, sri_mrn, SRI.name, FIRST_BED)
    expect(desk.locator(f"#inpatient-row-{FIRST_BED}").get_by_role("button")).to_have_count(0)  # desk: no discharge

    monitor = simulate(hospital, "arrest")  # her monitor alarms at once: the alarm is hers, not the bed's
    try:
        page.goto(f"{base}/bangsal/KENANGA")
        tile = page.locator(f"#tile-{FIRST_BED}")
        expect(tile).to_contain_text("SRI* H****")  # masked on the station
        expect(tile.locator(".v-hr")).to_have_text(re.compile(r"^\d+$"), timeout=30_000)  # live from the monitor
        expect(page.locator("#ward-alarm-list")).to_contain_text(FIRST_BED, timeout=30_000)
        save_screenshot(page, "from-empty-ward-live.png")
        page.goto(f"{base}/bed/{FIRST_BED}")
        page.get_by_text("Udara ruangan", exact=True).first.click()
        page.get_by_text("Sadar (A)").click()
        page.fill("#obs-hr", "88")
        page.click("#obs-submit")
        expect(page.locator("#obs-feedback")).to_contain_text("Observasi disimpan")
    finally:
        stop_process(monitor)

    open_nav(page, "pages.inpatient")  # the admin transfers her; the monitor stays with its bed
    page.locator(f"#inpatient-row-{FIRST_BED}").get_by_role("button", name="Pindahkan").click()
    expect(page.locator("#inpatient-transfer-modal")).to_be_visible()
    choose(page, "inpatient-transfer-bed", SECOND_BED)
    page.locator("#inpatient-transfer-monitor").get_by_label("Pakai monitor tempat tidur tujuan").check()
    page.click("#inpatient-transfer-save")
    expect(page.locator("#inpatient-list-feedback")).to_contain_text(f"dari {FIRST_BED} ke {SECOND_BED}")
    moved = page.locator(f"#inpatient-row-{SECOND_BED}")
    expect(moved).to_contain_text(SRI.name)
    moved.get_by_role("button", name="Pulangkan").click()
    modal = page.locator("#inpatient-discharge-modal")
    expect(modal).to_be_visible()
    modal.get_by_role("radio", name="Pulang (sembuh/perbaikan)").check()
    page.click("#inpatient-discharge-save")
    expect(page.locator("#inpatient-list-feedback")).to_contain_text("dipulangkan")

    open_nav(page, "pages.bed_board")
    for code in (FIRST_BED, SECOND_BED):
        expect(page.locator(f"#bedboard-bed-{code}")).to_have_attribute("data-status", "cleaning")
    save_screenshot(page, "from-empty-bed-board.png", full_page=True)
    choose(page, "bedboard-status-bed", FIRST_BED)
    page.click("#bedboard-status-save")
    expect(page.locator("#bedboard-status-feedback")).to_contain_text(f"{FIRST_BED} sekarang: Tersedia")

    dewi_mrn = register(desk, DEWI)
    admit(desk, dewi_mrn, DEWI.name, FIRST_BED)
    desk.context.close()  # the desk's work is done; its browser would stay open for the rest of the session
    monitor = simulate(hospital, "stable")
    try:
        page.goto(f"{base}/bangsal/KENANGA")
        expect(page.locator(f"#tile-{FIRST_BED} .v-hr")).to_have_text(re.compile(r"^\d+$"), timeout=30_000)
        trend, news2 = earliest_points(page, f"{base}/bed/{FIRST_BED}", ("bed-trend", "bed-news2"))
        expect(page.locator("#bed-patient-name")).to_have_text(DEWI.name)
        save_screenshot(page, "from-empty-new-patient.png", full_page=True)
        expect(page.locator("body")).not_to_contain_text(SRI.name)
        expect(page.locator("body")).not_to_contain_text("SRI*")
        expect(page.locator("#ward-alarm-list")).to_contain_text("Tidak ada alarm aktif")
        history = page.locator("#bed-alarm-history")
        expect(history).to_contain_text(re.compile("Belum ada alarm|Prioritas"))
        # None of Sri's alarms; a starved machine may delay the new monitor's first samples past the no-data limit
        assert set(history.locator("tbody tr td:first-child").all_inner_texts()) <= {"Tidak ada data monitor"}
    finally:
        stop_process(monitor)

    engine = create_engine(f"sqlite:///{hospital.database}")
    with Session(engine) as s:
        sri, dewi = s.scalars(select(Admission).order_by(Admission.id)).all()
        admitted = dewi.admitted_at.timestamp() * 1000
        # What the bed page kept from Dewi existed: Sri's observation, and her alarms on the same bed
        assert s.scalar(select(Observation.id).where(Observation.admission_id == sri.id)) is not None
        before = (
            select(AlarmEvent.ended_at).join(Bed).where(Bed.code == FIRST_BED, AlarmEvent.started_at < dewi.admitted_at)
        )
        assert s.scalars(before).all() and None not in s.scalars(before).all()  # none left open
    # Plotted from her admission on, not from the bed's earlier occupant (the upper bound: the times are read right)
    assert admitted - 1000 <= trend <= admitted + 120_000, (trend, admitted)
    assert news2 is None or admitted - 1000 <= news2, (news2, admitted)  # Sri's observation was a NEWS2 input

    sri_code = jkn_book(base, SRI, sri_mrn, tomorrow)
    dewi_code = jkn_book(base, DEWI, dewi_mrn, tomorrow)
    open_nav(page, "pages.doctor_leave")
    choose(page, "leave-doctor", "dr. Bambang Susilo")
    page.fill("#leave-first_day", tomorrow.isoformat())
    page.fill("#leave-last_day", tomorrow.isoformat())
    page.fill("#leave-reason", "seminar")
    page.click("#leave-submit")
    expect(page.locator("#leave-feedback")).to_contain_text("1 sesi ditutup, 2 booking terdampak")
    table = page.locator("#leave-bookings-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    table.locator("tbody tr").first.get_by_role("button", name="Batalkan").click()
    expect(page.locator("#leave-action-feedback")).to_contain_text("dokter cuti")
    expect(table.locator("tbody tr").first).to_contain_text("dibatalkan")
    save_screenshot(page, "from-empty-leave.png", full_page=True)

    with Session(engine) as s:
        cancelled = s.scalars(select(Visit.booking_code).where(Visit.status == "cancelled")).all()
        rows = s.execute(select(BpjsOutbox.kind, BpjsOutbox.booking_code)).all()
    assert len(cancelled) == 1 and cancelled[0] in (sri_code, dewi_code)
    (kept,) = {sri_code, dewi_code} - set(cancelled)
    assert {("antrean_add", sri_code), ("antrean_add", dewi_code), ("batal", cancelled[0])} <= set(rows)
    assert ("batal", kept) not in rows
    assert ("updatejadwaldokter", None) in rows  # the weekly plan the admin made, told to BPJS (HFIS)
    engine.dispose()
