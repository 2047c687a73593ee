"""The BPJS Antrean RS client over real HTTP: against the sandbox for every endpoint, and against a tiny server for
the protocol details (headers, one timestamp per request, answer shapes, transport errors)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date

import pytest
import requests
from flask import Flask, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from bridge.bpjs import AntreanClient, BpjsDecryptError, BpjsResult, BpjsTransportError, encrypt_response, signature
from bridge.bpjs.sandbox import DOCTORS, EXTENSION, BpjsRequestHandler, create_sandbox
from testkit.servers import free_port
from testkit.threaded_http import serving
from tests.test_bpjs_sandbox import jkn_booking

CONS_ID, SECRET, USER_KEY = "4321", "client-test-secret", "client-test-user-key"


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve a WSGI app on a free local port in a thread; yield its base URL."""
    with serving(make_server("127.0.0.1", 0, app, threaded=True, request_handler=BpjsRequestHandler)) as url:
        yield url


def client_for(base_url: str, **options: object) -> AntreanClient:
    return AntreanClient(base_url, CONS_ID, SECRET, USER_KEY, timeout=5, **options)


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """A sandbox served over real HTTP."""
    app = create_sandbox(CONS_ID, SECRET, USER_KEY)
    with serve(app) as url:
        yield url


def test_every_method_round_trips_through_the_sandbox(sandbox_url):
    client = client_for(sandbox_url)
    poli = client.ref_poli()
    assert poli.ok and {p["kdpoli"] for p in poli.as_list()} == {"UMU", "ANA", "INT", "GIG", "OBG"}
    dokter = client.ref_dokter()
    assert dokter.ok and {d["kodedokter"] for d in dokter.as_list()} == set(DOCTORS)

    update = {
        "kodepoli": "INT",
        "kodesubspesialis": "INT",
        "kodedokter": 31003,
        "jadwal": [{"hari": "1", "buka": "10:00", "tutup": "13:00"}],
    }
    assert client.update_jadwal_dokter(update).ok
    jadwal = client.jadwal_dokter("INT", date(2026, 1, 12))
    assert jadwal.ok and [(j["kodedokter"], j["jadwal"]) for j in jadwal.as_list()] == [(31003, "10:00-13:00")]

    today = date.today().isoformat()
    assert client.add_antrean(jkn_booking("RT001", tanggalperiksa=today)).ok
    assert client.add_antrean(jkn_booking("RT001", tanggalperiksa=today)).duplicate
    start = int(time.time() * 1000)
    for step, taskid in enumerate((3, 4, 5)):
        assert client.update_waktu("RT001", taskid, start + step * 60_000).ok
    assert client.update_waktu("RT001", 5, start + 120_000).duplicate
    farmasi = {"kodebooking": "RT001", "jenisresep": "racikan", "nomorantrean": 1, "keterangan": ""}
    assert client.add_antrean_farmasi(farmasi).ok
    tasks = client.list_task("RT001")
    assert tasks.ok and [t["taskid"] for t in tasks.as_list()] == [3, 4, 5]

    assert client.add_antrean(jkn_booking("RT002", tanggalperiksa=today)).ok
    assert client.batal("RT002", "pasien membatalkan").ok
    refused = client.batal("RT001", "terlambat")
    assert refused.code == 201 and "sudah selesai dilayani" in refused.message

    dashboard = client.dashboard_waktu_tunggu_tanggal(today, "rs")
    assert dashboard.ok and dashboard.as_list()[0]["avg_waktu_task3"] == 60
    assert client.dashboard_waktu_tunggu_tanggal(today, "server").ok

    state = requests.get(f"{sandbox_url}/sandbox/state.json", timeout=5).json()
    assert [b["kodebooking"] for b in state["bookings"]] == ["RT001", "RT002"]
    assert [t["taskid"] for t in state["bookings"][0]["tasks"]] == [3, 4, 5]
    assert state["bookings"][1]["batal"]["keterangan"] == "pasien membatalkan"


def test_task_rules_reach_the_client_as_codes(sandbox_url):
    client = client_for(sandbox_url)
    assert client.update_waktu("NOPE", 3, 1_768_190_400_000) == BpjsResult(201, "kodebooking tidak ditemukan", None)
    client.add_antrean(jkn_booking("RT003"))
    out_of_order = client.update_waktu("RT003", 5, 1_768_190_400_000)
    assert (out_of_order.code, out_of_order.message) == (
        201,
        "TaskId=5 tidak valid, antrean dimulai dari TaskId=1 atau TaskId=3",
    )


def test_concurrent_duplicates_land_once(sandbox_url):
    client = client_for(sandbox_url)
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: client.add_antrean(jkn_booking("RACE1")).code, range(16)))
    assert codes == [200] + [208] * 15


def test_wrong_secret_is_refused_by_the_sandbox(sandbox_url):
    result = AntreanClient(sandbox_url, CONS_ID, "not-the-secret", USER_KEY).ref_poli()
    assert (result.code, result.data) == (201, None)
    assert result.message == "Authentication failed: signature tidak valid"


def test_transient_404_is_reported_as_transient():
    app = create_sandbox(CONS_ID, SECRET, USER_KEY, failure_rate=1.0)
    with serve(app) as url:
        result = client_for(url).add_antrean(jkn_booking())
    assert result.transient and result.message == "Gagal dicoba kembali"
    assert app.extensions[EXTENSION].snapshot()["bookings"] == []


def test_sandbox_mounted_under_a_prefix():
    sandbox = create_sandbox(CONS_ID, SECRET, USER_KEY)
    host = Flask("host")
    host.wsgi_app = DispatcherMiddleware(host.wsgi_app, {"/bpjs-sandbox": sandbox})
    with serve(host) as url:
        client = client_for(f"{url}/bpjs-sandbox/")
        assert client.add_antrean(jkn_booking("MNT01")).ok
        page = requests.get(f"{url}/bpjs-sandbox/sandbox/", timeout=5).text
    assert "MNT01" in page
    assert 'href="/bpjs-sandbox/sandbox/state.json"' in page


# Protocol details against a scripted server
class Scripted:
    """A tiny BPJS-like server: records each request and answers with ``reply(timestamp)``."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.reply = lambda timestamp: ({"metadata": {"code": 200, "message": "Ok"}}, 200)
        self.app = Flask("scripted")
        self.app.add_url_rule("/<path:path>", "any", self._answer, methods=["GET", "POST"])

    def _answer(self, path: str):
        self.seen.append(
            {
                "path": path,
                "method": request.method,
                "headers": dict(request.headers),
                "json": request.get_json(silent=True),
            }
        )
        body, status = self.reply(request.headers.get("x-timestamp"))
        if isinstance(body, str):
            return body, status
        return jsonify(body), status


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    """A scripted server and its URL."""
    server = Scripted()
    with serve(server.app) as url:
        yield server, url


def test_headers_and_one_timestamp_per_request(scripted):
    server, url = scripted
    server.reply = lambda ts: (
        {"metadata": {"code": 200, "message": "Ok"}, "response": encrypt_response([ts], CONS_ID, SECRET, ts)},
        200,
    )
    ticks = itertools.count(1_768_190_400)
    client = client_for(url, clock=lambda: next(ticks))
    first, second = client.ref_poli(), client.ref_poli()
    timestamps = [seen["headers"]["X-Timestamp"] for seen in server.seen]
    assert timestamps == ["1768190400", "1768190401"]
    assert (first.data, second.data) == (["1768190400"], ["1768190401"])
    headers = server.seen[0]["headers"]
    assert headers["X-Cons-Id"] == CONS_ID
    assert headers["X-Signature"] == signature(CONS_ID, SECRET, "1768190400")
    assert headers["User-Key"] == USER_KEY
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("method", "args", "http", "path", "body"),
    [
        ("ref_poli", (), "GET", "ref/poli", None),
        ("ref_dokter", (), "GET", "ref/dokter", None),
        ("jadwal_dokter", ("ANA", "2026-01-12"), "GET", "jadwaldokter/kodepoli/ANA/tanggal/2026-01-12", None),
        ("update_jadwal_dokter", ({"kodedokter": 1},), "POST", "jadwaldokter/updatejadwaldokter", {"kodedokter": 1}),
        ("add_antrean", ({"kodebooking": "A"},), "POST", "antrean/add", {"kodebooking": "A"}),
        ("add_antrean_farmasi", ({"kodebooking": "A"},), "POST", "antrean/farmasi/add", {"kodebooking": "A"}),
        ("update_waktu", ("A", 4, 17), "POST", "antrean/updatewaktu", {"kodebooking": "A", "taskid": 4, "waktu": 17}),
        ("batal", ("A", "x"), "POST", "antrean/batal", {"kodebooking": "A", "keterangan": "x"}),
        ("list_task", ("A",), "POST", "antrean/getlisttask", {"kodebooking": "A"}),
        (
            "dashboard_waktu_tunggu_tanggal",
            (date(2026, 1, 12), "server"),
            "GET",
            "dashboard/waktutunggu/tanggal/2026-01-12/waktu/server",
            None,
        ),
    ],
)
def test_each_method_calls_its_endpoint(scripted, method, args, http, path, body):
    server, url = scripted
    assert getattr(client_for(url), method)(*args).ok
    assert (server.seen[0]["method"], server.seen[0]["path"], server.seen[0]["json"]) == (http, path, body)


@pytest.mark.parametrize(
    ("answer", "status", "expected"),
    [
        (
            {"metadata": {"code": "208", "message": "Terdapat duplikasi Kode Booking"}},
            200,
            BpjsResult(208, "Terdapat duplikasi Kode Booking", None),
        ),
        ({"metadata": {"code": 200, "message": "Ok"}}, 500, BpjsResult(200, "Ok", None)),
        ({"metadata": {"code": 201, "message": "gagal"}, "response": None}, 201, BpjsResult(201, "gagal", None)),
        (
            {"metadata": {"code": 200, "message": "Ok"}, "response": {"list": [1]}},
            200,
            BpjsResult(200, "Ok", {"list": [1]}),
        ),
        ({"metadata": {"code": 200, "message": "Ok"}, "response": ""}, 200, BpjsResult(200, "Ok", None)),
        ({"metadata": {"code": 201, "message": "x"}, "response": "garbage"}, 200, BpjsResult(201, "x", None)),
    ],
)
def test_answers_follow_metadata_not_http_status(scripted, answer, status, expected):
    server, url = scripted
    server.reply = lambda ts: (answer, status)
    assert client_for(url).ref_poli() == expected


@pytest.mark.parametrize("shape", [{"list": [{"taskid": 3}]}, [{"taskid": 3}]])
def test_both_encrypted_list_shapes(scripted, shape):
    server, url = scripted
    server.reply = lambda ts: (
        {"metadata": {"code": 200, "message": "Ok"}, "response": encrypt_response(shape, CONS_ID, SECRET, ts)},
        200,
    )
    result = client_for(url).list_task("A")
    assert result.data == shape
    assert result.as_list() == [{"taskid": 3}]


def test_as_list_refuses_other_shapes():
    assert BpjsResult(200, "Ok", None).as_list() == []
    with pytest.raises(ValueError, match="not a list"):
        BpjsResult(200, "Ok", {"kodebooking": "A"}).as_list()


def test_undecryptable_ok_answer_raises(scripted):
    server, url = scripted
    server.reply = lambda ts: (
        {"metadata": {"code": 200, "message": "Ok"}, "response": encrypt_response([1], CONS_ID, "other", ts)},
        200,
    )
    with pytest.raises(BpjsDecryptError):
        client_for(url).ref_poli()


@pytest.mark.parametrize(
    "answer",
    [
        ("<html>502 Bad Gateway</html>", 502),
        ({"status": "ok"}, 200),
        ({"metadata": {"code": "abc"}}, 200),
        ([1, 2], 200),
    ],
)
def test_unusable_answers_are_transport_errors(scripted, answer):
    server, url = scripted
    server.reply = lambda ts: answer
    with pytest.raises(BpjsTransportError):
        client_for(url).ref_poli()


def test_connection_refused_is_a_transport_error():
    with pytest.raises(BpjsTransportError):
        client_for(f"http://127.0.0.1:{free_port()}").ref_poli()


def test_timeout_is_a_transport_error(scripted):
    server, url = scripted

    def slow(ts):
        time.sleep(1.0)
        return {"metadata": {"code": 200, "message": "Ok"}}, 200

    server.reply = slow
    with pytest.raises(BpjsTransportError, match=r"Timeout|within"):  # the socket timeout or the deadline
        AntreanClient(url, CONS_ID, SECRET, USER_KEY, timeout=0.2).ref_poli()


def test_tls_verification_cannot_be_switched_off():
    class Recording(requests.Session):
        def request(self, method, url, **kwargs):
            self.kwargs = kwargs
            raise requests.ConnectionError("offline")

    session = Recording()
    session.verify = False
    with pytest.raises(BpjsTransportError):
        AntreanClient("https://bpjs.invalid", CONS_ID, SECRET, USER_KEY, session=session).ref_poli()
    assert session.kwargs["verify"] is True


def test_credentials_are_never_logged(scripted, caplog):
    server, url = scripted
    client = client_for(url)
    with caplog.at_level(logging.DEBUG):
        client.add_antrean({"kodebooking": "A"})
        with pytest.raises(BpjsTransportError):
            client_for(f"http://127.0.0.1:{free_port()}").ref_poli()
    sent_signature = server.seen[0]["headers"]["X-Signature"]
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "antrean/add" in logged
    for secret in (SECRET, USER_KEY, sent_signature):
        assert secret not in logged
    assert SECRET not in repr(client)
