"""Monitor credentials as services and operator commands: issued once, stored hashed, audited, and nothing saved
when the broker refuses (the broker itself: tests/test_mqtt_acl.py)."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from data.broker_admin import BrokerAdminError, NoBrokerAdmin, device_acls
from data.device_credentials import list_devices, register_device, retire_device, rotate_credential
from data.models import AuditLog, Device, DeviceAssignment
from domain.actor import Actor
from domain.errors import InputError

ACTOR = Actor(user_id=None, username="test", site_id=None)


class RecordingBroker:
    """A broker admin that records the calls, or refuses them all."""

    enabled = True

    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[tuple] = []
        self.refuse = refuse

    def _call(self, *call: object) -> None:
        if self.refuse:
            raise BrokerAdminError("connection refused")
        self.calls.append(call)

    def create_device(self, site: str, device_id: str, password: str) -> None:
        self._call("create", site, device_id, password)

    def set_device_password(self, device_id: str, password: str) -> None:
        self._call("password", device_id, password)

    def delete_device(self, device_id: str) -> None:
        self._call("delete", device_id)


@pytest.fixture
def db(sqlite_app):
    return sqlite_app.runtime.db


def _site(sqlite_app) -> dict:
    from data.models import Site

    with sqlite_app.runtime.db.session() as s:
        site = s.scalar(select(Site))
        return {"site_id": site.id, "site_code": site.code}


def _device(db, device_id: str) -> Device | None:
    with db.session() as s:
        return s.scalar(select(Device).where(Device.device_id == device_id))


def test_register_issues_a_password_once_and_keeps_only_its_hash(sqlite_app, db):
    broker = RecordingBroker()
    site = _site(sqlite_app)
    with db.session() as s:
        issued = register_device(s, ACTOR, broker, **site, device_id="MON-NEW-1", model="ePM 10", bed_code=None)
    assert len(issued.password) >= 32 and issued.provisioned
    assert broker.calls == [("create", site["site_code"], "MON-NEW-1", issued.password)]
    device = _device(db, "MON-NEW-1")
    assert issued.password not in (device.credential_hash or "")
    assert PasswordHasher().verify(device.credential_hash, issued.password)
    with db.session() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.target_id == "MON-NEW-1")).all()
        views = {v.device_id: v for v in list_devices(s, site["site_id"])}
    assert [a.action for a in audit] == ["device.register"]
    assert issued.password not in str(audit[0].detail)
    assert views["MON-NEW-1"].state == "active" and views["MON-NEW-1"].bed is None
    assert views["MON-ICU-01"].state == "none" and views["MON-ICU-01"].bed == "ICU-01"  # demo data: no credential


@pytest.mark.parametrize(
    ("device_id", "bed", "key"),
    [
        ("bad id!", None, "devices_error_id"),
        ("pantau-consumer", None, "devices_error_reserved"),
        ("Pantau-anything", None, "devices_error_reserved"),
        ("admin", None, "devices_error_reserved"),
        ("MON-ICU-01", None, "devices_error_exists"),
        ("MON-X", "NO-SUCH-BED", "devices_error_bed"),
        ("MON-X", "ICU-01", "devices_error_bed_taken"),
    ],
)
def test_register_refuses_with_a_message(sqlite_app, db, device_id, bed, key):
    broker = RecordingBroker()
    with pytest.raises(InputError) as refused, db.session() as s:
        register_device(s, ACTOR, broker, **_site(sqlite_app), device_id=device_id, model="m", bed_code=bed)
    assert refused.value.key == key
    assert broker.calls == []


def test_a_taken_device_id_is_named_before_an_unreadable_model(sqlite_app, db):
    """The form shows the first field's fault first: a clerk who fixed only the model would otherwise meet the
    taken id on the next try (found by the monitor form's browser property test)."""
    with pytest.raises(InputError) as refused, db.session() as s:
        register_device(s, ACTOR, RecordingBroker(), **_site(sqlite_app), device_id="MON-ICU-01", model="")
    assert refused.value.key == "devices_error_exists"


@pytest.mark.parametrize("model", ["", "   ", "\u200b\u200e", "\x00\x07"])
def test_a_model_name_nobody_can_read_is_refused(sqlite_app, db, model):
    with pytest.raises(InputError) as refused, db.session() as s:
        register_device(s, ACTOR, RecordingBroker(), **_site(sqlite_app), device_id="MON-Z", model=model)
    assert refused.value.key == "devices_error_model" and _device(db, "MON-Z") is None


def test_nothing_is_saved_when_the_broker_refuses(sqlite_app, db):
    site = _site(sqlite_app)
    with pytest.raises(InputError) as refused, db.session() as s:
        register_device(s, ACTOR, RecordingBroker(refuse=True), **site, device_id="MON-N", model="m", bed_code="")
    assert refused.value.key == "devices_error_broker"
    assert _device(db, "MON-N") is None
    with db.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.target_id == "MON-N")) is None
    before = _device(db, "MON-ICU-02").credential_hash
    with pytest.raises(InputError), db.session() as s:
        rotate_credential(s, ACTOR, RecordingBroker(refuse=True), **site, device_id="MON-ICU-02")
    assert _device(db, "MON-ICU-02").credential_hash == before


def test_rotate_replaces_the_password_and_retire_revokes_it(sqlite_app, db):
    broker = RecordingBroker()
    site = _site(sqlite_app)
    with db.session() as s:  # a demo monitor without a credential gets its first one: created on the broker
        first = rotate_credential(s, ACTOR, broker, **site, device_id="MON-ICU-03")
    with db.session() as s:
        second = rotate_credential(s, ACTOR, broker, **site, device_id="MON-ICU-03")
    assert [c[0] for c in broker.calls] == ["create", "password"]
    assert broker.calls[1] == ("password", "MON-ICU-03", second.password)
    stored = _device(db, "MON-ICU-03").credential_hash
    assert PasswordHasher().verify(stored, second.password)
    assert first.password != second.password and not _verifies(stored, first.password)

    with db.session() as s:
        retire_device(s, ACTOR, broker, site_id=site["site_id"], device_id="MON-ICU-03")
    assert broker.calls[-1] == ("delete", "MON-ICU-03")
    device = _device(db, "MON-ICU-03")
    assert not device.active and device.retired_at is not None and device.credential_hash is None
    with db.session() as s:
        assert s.scalar(select(DeviceAssignment).where(DeviceAssignment.device_pk == device.id)).until is not None
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_id == "MON-ICU-03").order_by(AuditLog.id))
        # registered by the demo seed through the monitors page's service (without a credential), then this test's
        expected = ["device.register", "device.credential_issue", "device.credential_rotate", "device.retire"]
        assert list(actions) == expected
        assert {v.device_id: v.state for v in list_devices(s, site["site_id"])}["MON-ICU-03"] == "retired"
    with pytest.raises(InputError) as refused, db.session() as s:
        rotate_credential(s, ACTOR, broker, **site, device_id="MON-ICU-03")
    assert refused.value.key == "devices_error_retired"


def _verifies(stored: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(stored, password)
    except Exception:
        return False


def test_no_broker_admin_records_without_provisioning(sqlite_app, db):
    with db.session() as s:
        issued = register_device(
            s, ACTOR, NoBrokerAdmin(), **_site(sqlite_app), device_id="MON-D", model="m", bed_code=None
        )
    assert not issued.provisioned
    assert _device(db, "MON-D").credential_hash


def test_a_monitor_acl_names_only_its_own_topics():
    acls = device_acls("RS1", "MON-1")
    assert {a["topic"] for a in acls} == {
        "pantau/v1/RS1/vitals/MON-1",
        "pantau/v1/RS1/status/MON-1",
        "pantau/v1/RS1/wave/MON-1",
        "pantau/v1/RS1/cmd/MON-1",
    }
    sends = {a["topic"] for a in acls if a["acltype"] == "publishClientSend"}
    assert "pantau/v1/RS1/cmd/MON-1" not in sends
    assert all(a["allow"] and "+" not in a["topic"] and "#" not in a["topic"] for a in acls)


def test_cli_registers_rotates_and_retires(sqlite_app, db):
    runner = sqlite_app.server.test_cli_runner()
    assert runner.invoke(args=["retire-device", "MON-ICU-16"]).exit_code == 0  # frees its bed
    result = runner.invoke(args=["create-device", "MON-CLI-1", "--model", "ePM 10", "--bed", "ICU-16"])
    assert result.exit_code == 0, result.output
    password = re.search(r"password (\S+)", result.output).group(1)
    assert "no broker provisioning" in result.output  # this app has no broker admin configured
    assert PasswordHasher().verify(_device(db, "MON-CLI-1").credential_hash, password)
    with db.session() as s:
        views = {v.device_id: v for v in list_devices(s, _site(sqlite_app)["site_id"])}
    assert views["MON-CLI-1"].bed == "ICU-16" and views["MON-ICU-16"].bed is None
    result = runner.invoke(args=["create-device", "MON-CLI-1", "--model", "ePM 10"])
    assert result.exit_code != 0 and "already registered" in result.output
    result = runner.invoke(args=["rotate-device-credential", "MON-CLI-1"])
    assert result.exit_code == 0 and re.search(r"password (\S+)", result.output).group(1) != password
    result = runner.invoke(args=["retire-device", "MON-CLI-1"])
    assert result.exit_code == 0 and _device(db, "MON-CLI-1").retired_at is not None
    result = runner.invoke(args=["mqtt-setup"])
    assert result.exit_code != 0 and "no broker admin" in result.output


def test_provisioning_is_off_for_the_embedded_broker_and_without_an_admin(tmp_path):
    from config import load_settings
    from data.broker_admin import DynsecAdmin, open_broker_admin
    from data.mqtt_client import BrokerAddress

    address = BrokerAddress("127.0.0.1", 1883)
    embedded = load_settings(env="test", mqtt_url="", mqtt_admin_username="admin", var_dir=tmp_path)
    no_admin = load_settings(env="test", mqtt_url="mqtt://broker:1883", var_dir=tmp_path)
    managed = load_settings(
        env="test",
        mqtt_url="mqtts://broker:8883",
        mqtt_admin_username="admin",
        mqtt_admin_password="s",
        var_dir=tmp_path,
    )
    assert not open_broker_admin(embedded, address).enabled
    assert not open_broker_admin(no_admin, address).enabled
    admin = open_broker_admin(managed, BrokerAddress("broker", 8883, tls=True, username="pantau-web", password="w"))
    assert isinstance(admin, DynsecAdmin)
    assert (admin.address.username, admin.address.password, admin.address.tls) == ("admin", "s", True)
