"""The BPJS Antrean RS sandbox: authentication, the task rules, duplicates, injected failures and the view."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from bridge.bpjs.client import AntreanClient, BpjsTransportError
from bridge.bpjs.crypto import decrypt_response, signature
from bridge.bpjs.sandbox import DOCTORS, EXTENSION, POLIS, RETRY_MESSAGE, create_sandbox
from data.seed import DOCTORS as SEED_DOCTORS
from data.seed import POLIS as SEED_POLIS
from testkit.servers import free_port

CONS_ID, SECRET, USER_KEY = "1234", "sandbox-secret", "sandbox-user-key"
NOW = 1_768_190_400.0  # 2026-01-12 04:00:00 UTC, a Monday
T0 = int(NOW * 1000)


def jkn_booking(kodebooking: str = "20260112UMU001", **changes: object) -> dict:
    """A valid ``antrean/add`` body for a JKN patient at the sandbox's Poli Umum."""
    body = {
        "kodebooking": kodebooking,
        "jenispasien": "JKN",
        "nomorkartu": "0001234567890",
        "nik": "3171012345670001",
        "nohp": "081234567890",
        "kodepoli": "UMU",
        "namapoli": "UMUM",
        "pasienbaru": 0,
        "norm": "000123",
        "tanggalperiksa": "2026-01-12",
        "kodedokter": 31001,
        "namadokter": "dr. Sari Wulandari (demo)",
        "jampraktek": "08:00-16:00",
        "jeniskunjungan": 1,
        "nomorreferensi": "0001R0040116A000001",
        "nomorantrean": "A-1",
        "angkaantrean": 1,
        "estimasidilayani": T0,
        "sisakuotajkn": 59,
        "kuotajkn": 60,
        "sisakuotanonjkn": 20,
        "kuotanonjkn": 20,
        "keterangan": "Peserta harap 30 menit lebih awal.",
    }
    body.update(changes)
    return body


class Bpjs:
    """Signed calls to a sandbox app through Flask's test client, returning (code, message, response)."""

    def __init__(self, **options: object) -> None:
        self.app = create_sandbox(CONS_ID, SECRET, USER_KEY, clock=lambda: NOW, **options)
        self.http = self.app.test_client()
        self.sandbox = self.app.extensions[EXTENSION]

    def headers(self, timestamp: str = str(int(NOW)), **changes: str | None) -> dict:
        values = {
            "x-cons-id": CONS_ID,
            "x-timestamp": timestamp,
            "x-signature": signature(CONS_ID, SECRET, timestamp),
            "user_key": USER_KEY,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}

    def call(self, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, str, object]:
        headers = headers or self.headers()
        answer = (
            self.http.post(path, json=body, headers=headers)
            if body is not None
            else self.http.get(path, headers=headers)
        )
        assert answer.status_code == 200
        meta, response = answer.json["metadata"], answer.json["response"]
        if isinstance(response, str):
            response = decrypt_response(response, CONS_ID, SECRET, headers["x-timestamp"])
        return meta["code"], meta["message"], response

    def task(self, kodebooking: str, taskid: int, waktu: int) -> tuple[int, str, object]:
        return self.call("/antrean/updatewaktu", {"kodebooking": kodebooking, "taskid": taskid, "waktu": waktu})


@pytest.fixture
def bpjs() -> Bpjs:
    """A fresh sandbox at a fixed clock, without injected failures."""
    return Bpjs()


# Authentication
def test_valid_request_is_answered(bpjs):
    code, message, rows = bpjs.call("/ref/poli")
    assert (code, message) == (200, "Ok")
    assert {row["kdpoli"] for row in rows} == set(POLIS)


def test_tampered_signature_is_refused(bpjs):
    good = bpjs.headers()["x-signature"]
    code, message, response = bpjs.call("/ref/poli", headers=bpjs.headers(**{"x-signature": good[:-2] + "A="}))
    assert code == 201
    assert message == "Authentication failed: signature tidak valid"
    assert response is None


def test_signature_for_another_timestamp_is_refused(bpjs):
    headers = bpjs.headers(**{"x-signature": signature(CONS_ID, SECRET, str(int(NOW) - 1))})
    assert bpjs.call("/ref/poli", headers=headers)[:2] == (201, "Authentication failed: signature tidak valid")


@pytest.mark.parametrize("skew", [-301, 301, -100_000])
def test_timestamp_outside_the_window_is_refused(bpjs, skew):
    code, message, _ = bpjs.call("/ref/poli", headers=bpjs.headers(str(int(NOW) + skew)))
    assert code == 201
    assert "x-timestamp di luar batas waktu" in message


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_timestamp_inside_the_window_is_accepted(bpjs, skew):
    assert bpjs.call("/ref/poli", headers=bpjs.headers(str(int(NOW) + skew)))[0] == 200


@pytest.mark.parametrize("header", ["x-cons-id", "x-timestamp", "x-signature", "user_key"])
def test_missing_header_is_refused(bpjs, header):
    code, message, _ = bpjs.call("/ref/poli", headers=bpjs.headers(**{header: None}))
    assert (code, message) == (201, f"Authentication failed: header {header} tidak ada")


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("user_key", "another-key", "Authentication failed: user_key tidak valid"),
        ("x-cons-id", "9999", "Authentication failed: cons-id tidak terdaftar"),
    ],
)
def test_wrong_credentials_are_refused(bpjs, header, value, message):
    assert bpjs.call("/ref/poli", headers=bpjs.headers(**{header: value}))[:2] == (201, message)


def test_auth_failures_change_nothing(bpjs):
    assert bpjs.call("/antrean/add", jkn_booking(), headers=bpjs.headers(user_key="x"))[0] == 201
    assert bpjs.sandbox.snapshot()["bookings"] == []


# Reference data
def test_reference_data_matches_the_demo_seed():
    assert set(POLIS) == {bpjs_code for *_, bpjs_code in SEED_POLIS}
    assert {str(code): (name, poli) for code, (name, poli) in DOCTORS.items()} == {
        code: (name, poli) for name, _, poli, code in SEED_DOCTORS
    }


def test_ref_dokter_and_jadwal(bpjs):
    code, _, doctors = bpjs.call("/ref/dokter")
    assert code == 200
    assert {d["kodedokter"] for d in doctors} == set(DOCTORS)
    code, _, jadwal = bpjs.call("/jadwaldokter/kodepoli/UMU/tanggal/2026-01-12")
    assert code == 200
    assert {(j["kodedokter"], j["hari"], j["namahari"]) for j in jadwal} == {(31001, 1, "SENIN"), (31006, 1, "SENIN")}


def test_jadwal_rejects_bad_date_and_unknown_poli(bpjs):
    code, message, _ = bpjs.call("/jadwaldokter/kodepoli/UMU/tanggal/12-01-2026")
    assert (code, message) == (201, "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd")
    assert bpjs.call("/jadwaldokter/kodepoli/XYZ/tanggal/2026-01-12")[:2] == (201, "Poli tidak ditemukan")


def test_update_jadwal_changes_the_schedule(bpjs):
    body = {
        "kodepoli": "ANA",
        "kodesubspesialis": "ANA",
        "kodedokter": 31002,
        "jadwal": [{"hari": "1", "buka": "09:00", "tutup": "12:00"}],
    }
    assert bpjs.call("/jadwaldokter/updatejadwaldokter", body)[0] == 200
    _, _, jadwal = bpjs.call("/jadwaldokter/kodepoli/ANA/tanggal/2026-01-12")
    assert jadwal[0]["jadwal"] == "09:00-12:00"
    bad = dict(body, jadwal=[{"hari": "1", "buka": "12:00", "tutup": "09:00"}])
    assert bpjs.call("/jadwaldokter/updatejadwaldokter", bad)[0] == 201
    assert bpjs.call("/jadwaldokter/updatejadwaldokter", dict(body, kodedokter=31001))[:2] == (
        201,
        "Dokter tidak ditemukan pada poli tersebut",
    )


def test_a_given_hfis_schedule_is_the_whole_schedule():
    bpjs = Bpjs(jadwal={(31001, 1): "13:00-21:00", (31006, 2): "07:00-15:00"})
    _, _, monday = bpjs.call("/jadwaldokter/kodepoli/UMU/tanggal/2026-01-12")
    assert [(j["kodedokter"], j["jadwal"]) for j in monday] == [(31001, "13:00-21:00")]  # 31006 has no Monday
    assert bpjs.call("/jadwaldokter/kodepoli/ANA/tanggal/2026-01-12")[2] == []
    change = {"hari": "1", "buka": "09:00", "tutup": "12:00"}
    body = {"kodepoli": "UMU", "kodesubspesialis": "UMU", "kodedokter": 31006, "jadwal": [change]}
    assert bpjs.call("/jadwaldokter/updatejadwaldokter", body)[0] == 200
    _, _, monday = bpjs.call("/jadwaldokter/kodepoli/UMU/tanggal/2026-01-12")
    assert {(j["kodedokter"], j["jadwal"]) for j in monday} == {(31001, "13:00-21:00"), (31006, "09:00-12:00")}


# antrean/add
def test_add_then_duplicate_is_208(bpjs):
    assert bpjs.call("/antrean/add", jkn_booking())[:2] == (200, "Ok")
    assert bpjs.call("/antrean/add", jkn_booking())[:2] == (208, "Terdapat duplikasi Kode Booking")
    assert len(bpjs.sandbox.snapshot()["bookings"]) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"norm": ""}, "Data belum lengkap: norm"),
        ({"tanggalperiksa": "12-01-2026"}, "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"),
        ({"tanggalperiksa": "2026-02-30"}, "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"),
        ({"jenispasien": "BPJS"}, "jenispasien harus JKN atau NON JKN"),
        ({"nomorkartu": "123"}, "nomorkartu harus 13 digit untuk pasien JKN"),
        ({"nik": "31710123"}, "nik harus 16 digit untuk pasien JKN"),
        ({"nomorreferensi": ""}, "nomorreferensi belum diisi (wajib untuk pasien JKN)"),
        ({"kodepoli": "XYZ"}, "Poli tidak ditemukan"),
        ({"kodedokter": 31002}, "Dokter tidak ditemukan pada poli tersebut"),
        ({"jampraktek": "8-16"}, "Format jampraktek tidak sesuai, contoh 08:00-16:00"),
        ({"jeniskunjungan": 7}, "jeniskunjungan tidak sesuai"),
        ({"angkaantrean": "satu"}, "angkaantrean harus berupa angka"),
    ],
)
def test_add_rejects_invalid_data_with_a_message(bpjs, changes, message):
    code, answer, _ = bpjs.call("/antrean/add", jkn_booking(**changes))
    assert code == 201
    assert answer.startswith(message)
    assert bpjs.sandbox.snapshot()["bookings"] == []


def test_non_jkn_booking_needs_no_card(bpjs):
    body = jkn_booking(jenispasien="NON JKN", nomorkartu="", nik="", nomorreferensi="")
    assert bpjs.call("/antrean/add", body)[0] == 200


def test_body_must_be_a_json_object(bpjs):
    answer = bpjs.http.post("/antrean/add", data="kodebooking=1", headers=bpjs.headers()).json
    assert answer["metadata"] == {"code": 201, "message": "Format request tidak sesuai, kirim objek JSON"}


# antrean/updatewaktu
def test_tasks_in_order_then_list(bpjs):
    bpjs.call("/antrean/add", jkn_booking())
    for step, taskid in enumerate((3, 4, 5)):
        assert bpjs.task("20260112UMU001", taskid, T0 + step * 60_000)[:2] == (200, "Ok")
    code, _, tasks = bpjs.call("/antrean/getlisttask", {"kodebooking": "20260112UMU001"})
    assert code == 200
    assert [t["taskid"] for t in tasks["list"]] == [3, 4, 5]
    assert tasks["list"][0]["wakturs"] == "12-01-2026 11:00:00 WIB"
    assert tasks["list"][0]["taskname"] == "akhir waktu layan admisi/mulai waktu tunggu poli"


def test_same_task_same_time_is_208_and_different_time_201(bpjs):
    bpjs.call("/antrean/add", jkn_booking())
    assert bpjs.task("20260112UMU001", 3, T0)[0] == 200
    assert bpjs.task("20260112UMU001", 3, T0)[:2] == (208, "TaskId=3 sudah ada")
    assert bpjs.task("20260112UMU001", 3, T0 + 1)[:2] == (201, "TaskId=3 sudah ada dengan waktu yang berbeda")
    assert len(bpjs.sandbox.snapshot()["bookings"][0]["tasks"]) == 1


@pytest.mark.parametrize(
    ("sent", "taskid", "message"),
    [
        ((), 4, "TaskId=4 tidak valid, antrean dimulai dari TaskId=1 atau TaskId=3"),
        ((3,), 5, "TaskId=5 tidak valid, TaskId=4 belum ada"),
        ((3, 4), 1, "TaskId=1 tidak valid, TaskId=4 sudah ada (urutan salah)"),
        ((1,), 3, "TaskId=3 tidak valid, TaskId=2 belum ada"),
    ],
)
def test_out_of_order_task_is_201_with_a_message(bpjs, sent, taskid, message):
    bpjs.call("/antrean/add", jkn_booking())
    for step, earlier in enumerate(sent):
        assert bpjs.task("20260112UMU001", earlier, T0 + step * 1000)[0] == 200
    assert bpjs.task("20260112UMU001", taskid, T0 + 60_000)[:2] == (201, message)


def test_task_time_must_increase(bpjs):
    bpjs.call("/antrean/add", jkn_booking())
    bpjs.task("20260112UMU001", 3, T0)
    assert bpjs.task("20260112UMU001", 4, T0)[:2] == (201, "waktu TaskId=4 harus lebih besar dari waktu TaskId=3")
    assert bpjs.task("20260112UMU001", 4, T0 - 5)[0] == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kodebooking": "NOPE", "taskid": 3, "waktu": T0}, "kodebooking tidak ditemukan"),
        ({"kodebooking": "20260112UMU001", "taskid": 8, "waktu": T0}, "TaskId=8 tidak valid, gunakan 1-7 atau 99"),
        ({"kodebooking": "20260112UMU001", "taskid": 3, "waktu": T0 // 1000}, "waktu harus epoch dalam milidetik"),
        ({"kodebooking": "20260112UMU001", "taskid": 3}, "waktu harus berupa angka"),
    ],
)
def test_invalid_task_update_is_201(bpjs, body, message):
    bpjs.call("/antrean/add", jkn_booking())
    assert bpjs.call("/antrean/updatewaktu", body)[:2] == (201, message)


# antrean/batal and antrean/farmasi/add
def test_batal_then_task_99_then_nothing_else(bpjs):
    bpjs.call("/antrean/add", jkn_booking())
    bpjs.task("20260112UMU001", 3, T0)
    assert bpjs.call("/antrean/batal", {"kodebooking": "20260112UMU001", "keterangan": "pasien pulang"})[0] == 200
    assert bpjs.call("/antrean/batal", {"kodebooking": "20260112UMU001", "keterangan": "lagi"})[0] == 208
    assert bpjs.task("20260112UMU001", 99, T0 + 1000)[0] == 200
    assert bpjs.task("20260112UMU001", 4, T0 + 2000)[:2] == (201, "Antrean sudah dibatalkan")


def test_batal_rules(bpjs):
    assert bpjs.call("/antrean/batal", {"kodebooking": "NOPE", "keterangan": "x"})[:2] == (
        201,
        "kodebooking tidak ditemukan",
    )
    bpjs.call("/antrean/add", jkn_booking())
    assert bpjs.call("/antrean/batal", {"kodebooking": "20260112UMU001"})[:2] == (201, "keterangan belum diisi")
    for step, taskid in enumerate((3, 4, 5)):
        bpjs.task("20260112UMU001", taskid, T0 + step * 1000)
    code, message, _ = bpjs.call("/antrean/batal", {"kodebooking": "20260112UMU001", "keterangan": "x"})
    assert (code, message) == (201, "Antrean tidak dapat dibatalkan, pasien sudah selesai dilayani")


def test_farmasi_add_and_duplicate(bpjs):
    farmasi = {"kodebooking": "20260112UMU001", "jenisresep": "Non racikan", "nomorantrean": 1, "keterangan": ""}
    assert bpjs.call("/antrean/farmasi/add", farmasi)[:2] == (201, "kodebooking tidak ditemukan")
    bpjs.call("/antrean/add", jkn_booking())
    assert bpjs.call("/antrean/farmasi/add", dict(farmasi, jenisresep="sirup"))[:2] == (
        201,
        "jenisresep harus racikan atau non racikan",
    )
    assert bpjs.call("/antrean/farmasi/add", farmasi)[0] == 200
    assert bpjs.call("/antrean/farmasi/add", farmasi)[:2] == (208, "Antrean farmasi sudah ada")
    assert bpjs.sandbox.snapshot()["bookings"][0]["farmasi"]["jenisresep"] == "non racikan"


def test_dashboard_is_plain_json(bpjs):
    bpjs.call("/antrean/add", jkn_booking())
    for step, taskid in enumerate((3, 4, 5)):
        bpjs.task("20260112UMU001", taskid, T0 + step * 600_000)
    answer = bpjs.http.get("/dashboard/waktutunggu/tanggal/2026-01-12/waktu/rs", headers=bpjs.headers()).json
    row = answer["response"]["list"][0]
    assert (row["kodepoli"], row["jumlah_antrean"], row["avg_waktu_task3"], row["avg_waktu_task4"]) == (
        "UMU",
        1,
        600,
        600,
    )
    assert bpjs.call("/dashboard/waktutunggu/tanggal/2026-01-12/waktu/lokal")[:2] == (201, "waktu harus rs atau server")


# Injected transient failures
def test_injected_404_never_changes_the_state():
    bpjs = Bpjs(failure_rate=0.0)
    bpjs.call("/antrean/add", jkn_booking())
    before = bpjs.sandbox.snapshot()["bookings"]
    bpjs.sandbox.failure_rate = 1.0
    calls = [
        ("/antrean/add", jkn_booking("OTHER")),
        ("/antrean/updatewaktu", {"kodebooking": "20260112UMU001", "taskid": 3, "waktu": T0}),
        ("/antrean/farmasi/add", {"kodebooking": "20260112UMU001", "jenisresep": "racikan", "nomorantrean": 1}),
        ("/antrean/batal", {"kodebooking": "20260112UMU001", "keterangan": "x"}),
        (
            "/jadwaldokter/updatejadwaldokter",
            {"kodepoli": "UMU", "kodedokter": 31001, "jadwal": [{"hari": 1, "buka": "09:00", "tutup": "10:00"}]},
        ),
        ("/ref/poli", None),
    ]
    for path, body in calls:
        assert bpjs.call(path, body)[:2] == (404, RETRY_MESSAGE)
    after = bpjs.sandbox.snapshot()
    assert after["bookings"] == before
    assert after["jadwal_updates"] == []
    assert after["codes"]["404"] == len(calls)


def test_seeded_failures_are_reproducible_and_retries_land_once():
    outcomes = []
    for _ in range(2):
        bpjs = Bpjs(failure_rate=0.3, seed=7)
        codes = []
        for n in range(40):
            while (code := bpjs.call("/antrean/add", jkn_booking(f"B{n:03d}"))[0]) == 404:
                codes.append(code)
            codes.append(code)
        assert len(bpjs.sandbox.snapshot()["bookings"]) == 40
        outcomes.append(codes)
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(404) < 40


def test_failure_rate_is_checked():
    with pytest.raises(ValueError, match="failure_rate"):
        create_sandbox(CONS_ID, SECRET, USER_KEY, failure_rate=1.5)


# The read-only view
def test_view_shows_bookings_tasks_in_order_and_masks_identity(bpjs):
    bpjs.call("/antrean/add", jkn_booking())
    bpjs.task("20260112UMU001", 3, T0 + 123)
    bpjs.task("20260112UMU001", 4, T0 + 61_456)
    page = bpjs.http.get("/sandbox/").get_data(as_text=True)
    assert "20260112UMU001" in page
    assert page.index("3 · 11:00:00.123") < page.index("4 · 11:01:01.456")
    state = bpjs.http.get("/sandbox/state.json").json
    antrean = state["bookings"][0]["antrean"]
    assert antrean["nik"] == "************0001"
    assert antrean["nomorkartu"].endswith("7890") and "0001234567890" not in page
    assert [t["taskid"] for t in state["bookings"][0]["tasks"]] == [3, 4]


def test_a_state_file_keeps_todays_bookings_across_a_restart_identity_masked(tmp_path):
    kept = tmp_path / "bpjs-sandbox.json"
    first = Bpjs(state_file=kept)
    first.call("/antrean/add", jkn_booking())
    first.call("/antrean/add", jkn_booking("20260111UMU001", tanggalperiksa="2026-01-11"))  # yesterday's
    assert first.task("20260112UMU001", 3, T0)[:2] == (200, "Ok")
    assert "0001234567890" not in kept.read_text() and "3171012345670001" not in kept.read_text()

    again = Bpjs(state_file=kept)  # the demo restarted: its worker goes on with today's booking
    assert again.task("20260112UMU001", 4, T0 + 60_000)[:2] == (200, "Ok")
    assert again.task("20260112UMU001", 3, T0)[0] == 208  # task 3 was kept
    assert again.task("20260111UMU001", 3, T0)[:2] == (201, "kodebooking tidak ditemukan")  # past days not kept
    assert again.call("/antrean/add", jkn_booking())[0] == 208
    antrean = again.http.get("/sandbox/state.json").json["bookings"][0]["antrean"]
    assert antrean["nik"] == "************0001"

    kept.write_text("{not json", encoding="utf-8")  # a broken file: the sandbox starts empty rather than not at all
    assert Bpjs(state_file=kept).task("20260112UMU001", 5, T0 + 120_000)[0] == 201

    unwritable = Bpjs(state_file=tmp_path / "gone" / "bpjs-sandbox.json")  # its folder removed: BPJS still answers
    assert unwritable.call("/antrean/add", jkn_booking())[:2] == (200, "Ok")


def test_view_escapes_html(bpjs):
    bpjs.call("/antrean/add", jkn_booking("<script>x</script>"))
    assert "<script>x</script>" not in bpjs.http.get("/sandbox/").get_data(as_text=True)


# The command line
def test_command_line_serves_the_sandbox(tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "bridge.bpjs.sandbox_cli", "--port", str(port), "--cons-id", CONS_ID]
    argv += ["--secret", SECRET, "--user-key", USER_KEY]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    client = AntreanClient(f"http://127.0.0.1:{port}", CONS_ID, SECRET, USER_KEY, timeout=2)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                result = client.ref_poli()
                break
            except BpjsTransportError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert result.code == 200
        assert {row["kdpoli"] for row in result.as_list()} == set(POLIS)
    finally:
        process.terminate()
        process.wait(10)
    assert SECRET not in process.stderr.read().decode()


def test_command_line_needs_credentials(tmp_path):
    argv = [sys.executable, "-m", "bridge.bpjs.sandbox_cli", "--cons-id", "", "--secret", "", "--user-key", ""]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "--cons-id" in done.stderr
