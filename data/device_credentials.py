"""Bedside monitors and their broker credentials: register, list, rotate, retire (CLI and admin page).

A monitor logs in to the broker as its ``device_id`` with a random password that is shown once, when it is
issued, and stored here only as an Argon2id hash (the broker keeps its own salted hash). Each change is made on
the broker (:mod:`data.broker_admin`) inside the database transaction that records it and its audit row, so a
refused broker command leaves the database unchanged. Where no broker is provisioned (the embedded demo) the
credential is still issued and recorded, and the broker stays open on loopback.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.audit import record_by
from data.broker_admin import PROCESS_USERS, BrokerAdmin, BrokerAdminError
from data.models import Bed, Device, DeviceAssignment, Ward
from domain.clock import utcnow
from domain.errors import InputError
from domain.free_text import clean_text, readable

__all__ = [
    "DEVICE_ID",
    "DeviceView",
    "IssuedCredential",
    "issue_simulator_credentials",
    "list_devices",
    "register_device",
    "retire_device",
    "rotate_credential",
]

DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Broker usernames of Pantau's own processes and the admin: a monitor may not take one of them.
_RESERVED_PREFIX = "pantau-"
_RESERVED = frozenset({"admin"} | {user.username for user in PROCESS_USERS})
SIMULATED_PREFIX = "MON-"  # iot_sim's monitors are MON-{bed}
_PASSWORD_BYTES = 24  # 32 URL-safe characters
_hasher = PasswordHasher()


@dataclass(frozen=True)
class IssuedCredential:
    """A monitor's broker login, to be shown once and typed into the monitor."""

    device_id: str
    password: str
    provisioned: bool  # False: recorded only (no broker to provision, e.g. the embedded demo)


@dataclass(frozen=True)
class DeviceView:
    """One row of the device list."""

    device_id: str
    model: str
    ward: str | None
    bed: str | None
    state: str  # "active" (has a credential), "none" (registered without one), "retired"
    issued_at: datetime | None


def _state(device: Device) -> str:
    if device.retired_at is not None or not device.active:
        return "retired"
    return "active" if device.credential_hash else "none"


def list_devices(session: Session, site_id: int) -> list[DeviceView]:
    """Every monitor of the site, with its current bed and credential state, retired ones last."""
    rows = session.execute(
        select(Device, Ward.code, Bed.code)
        .outerjoin(DeviceAssignment, (DeviceAssignment.device_pk == Device.id) & DeviceAssignment.until.is_(None))
        .outerjoin(Bed, Bed.id == DeviceAssignment.bed_id)
        .outerjoin(Ward, Ward.id == Bed.ward_id)
        .where(Device.site_id == site_id)
        .order_by(Device.device_id)
    ).all()
    views = [DeviceView(d.device_id, d.model, ward, bed, _state(d), d.credential_issued_at) for d, ward, bed in rows]
    return sorted(views, key=lambda v: v.state == "retired")


def _check_device_id(device_id: str) -> str:
    device_id = (device_id or "").strip()
    if not DEVICE_ID.match(device_id):
        raise InputError("devices_error_id")
    if device_id.lower() in _RESERVED or device_id.lower().startswith(_RESERVED_PREFIX):
        raise InputError("devices_error_reserved", device_id=device_id)
    return device_id


def _find_bed(session: Session, site_id: int, bed_code: str) -> Bed:
    bed = session.scalar(select(Bed).join(Ward).where(Ward.site_id == site_id, Bed.code == bed_code.strip()))
    if bed is None:
        raise InputError("devices_error_bed", bed=bed_code)
    taken = session.scalar(
        select(Device.device_id)
        .join(DeviceAssignment, DeviceAssignment.device_pk == Device.id)
        .where(DeviceAssignment.bed_id == bed.id, DeviceAssignment.until.is_(None))
    )
    if taken is not None:
        raise InputError("devices_error_bed_taken", bed=bed.code, device_id=taken)
    return bed


def _issue(device: Device) -> str:
    password = secrets.token_urlsafe(_PASSWORD_BYTES)
    device.credential_hash = _hasher.hash(password)
    device.credential_issued_at = utcnow()
    return password


def _on_broker(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except BrokerAdminError as exc:
        raise InputError("devices_error_broker", error=str(exc)[:200]) from exc


def register_device(
    session: Session,
    actor: Any,
    broker: BrokerAdmin,
    *,
    site_id: int,
    site_code: str,
    device_id: str,
    model: str,
    bed_code: str | None = None,
    issue_credential: bool = True,
) -> IssuedCredential | None:
    """A new monitor (optionally at ``bed_code``) with a fresh credential, provisioned on the broker. Without
    ``issue_credential`` (a broker that needs none: the embedded demo's, open on loopback only) it is registered
    without one (state "none"; a credential can be issued later with ``rotate_credential``) and None returned."""
    device_id = _check_device_id(device_id)
    if session.scalar(select(Device.id).where(Device.device_id == device_id)) is not None:
        raise InputError("devices_error_exists", device_id=device_id)  # the form's first field: its faults first
    model = clean_text(model)
    if not readable(model):
        raise InputError("devices_error_model")
    bed = _find_bed(session, site_id, bed_code) if bed_code and bed_code.strip() else None
    device = Device(site_id=site_id, device_id=device_id, model=model[:100])
    password = _issue(device) if issue_credential else None
    session.add(device)
    session.flush()
    if bed is not None:
        session.add(DeviceAssignment(device_pk=device.id, bed_id=bed.id))
    record_by(
        session,
        actor,
        "device.register",
        target_type="device",
        target_id=device_id,
        detail={"model": device.model, "bed": bed.code if bed else None, "provisioned": broker.enabled},
    )
    session.flush()
    if password is None:
        return None
    _on_broker(broker.create_device, site_code, device_id, password)
    return IssuedCredential(device_id, password, broker.enabled)


def _device(session: Session, site_id: int, device_id: str) -> Device:
    device = session.scalar(select(Device).where(Device.site_id == site_id, Device.device_id == device_id.strip()))
    if device is None:
        raise InputError("devices_error_unknown", device_id=device_id)
    if _state(device) == "retired":
        raise InputError("devices_error_retired", device_id=device.device_id)
    return device


def rotate_credential(
    session: Session, actor: Any, broker: BrokerAdmin, *, site_id: int, site_code: str, device_id: str
) -> IssuedCredential:
    """A new password for a monitor (the old one stops working at once); a monitor registered without a
    credential (demo data) gets its first one."""
    device = _device(session, site_id, device_id)
    first = device.credential_hash is None
    password = _issue(device)
    record_by(
        session,
        actor,
        "device.credential_issue" if first else "device.credential_rotate",
        target_type="device",
        target_id=device.device_id,
        detail={"provisioned": broker.enabled},
    )
    session.flush()
    if first:
        _on_broker(broker.create_device, site_code, device.device_id, password)
    else:
        _on_broker(broker.set_device_password, device.device_id, password)
    return IssuedCredential(device.device_id, password, broker.enabled)


def retire_device(session: Session, actor: Any, broker: BrokerAdmin, *, site_id: int, device_id: str) -> None:
    """Take a monitor out of service: off its bed, credential revoked on the broker, history kept."""
    device = _device(session, site_id, device_id)
    now = utcnow()
    for assignment in session.scalars(
        select(DeviceAssignment).where(DeviceAssignment.device_pk == device.id, DeviceAssignment.until.is_(None))
    ):
        assignment.until = now
    device.active = False
    device.retired_at = now
    device.credential_hash = None
    record_by(
        session,
        actor,
        "device.retire",
        target_type="device",
        target_id=device.device_id,
        detail={"provisioned": broker.enabled},
    )
    session.flush()
    _on_broker(broker.delete_device, device.device_id)


def issue_simulator_credentials(
    session: Session, actor: Any, broker: BrokerAdmin, *, site_id: int, site_code: str, device_ids: list[str]
) -> dict[str, str]:
    """Credentials for simulated monitors (``python -m iot_sim --credentials``): a missing monitor is registered,
    at its own bed when free (``MON-ICU-03`` serves ``ICU-03``, the simulator's convention); one already
    registered gets a new password. Returns ``{device_id: password}``."""
    issued = {}
    for device_id in device_ids:
        known = session.scalar(select(Device.id).where(Device.site_id == site_id, Device.device_id == device_id))
        if known is not None:
            credential = rotate_credential(
                session, actor, broker, site_id=site_id, site_code=site_code, device_id=device_id
            )
        else:
            bed = device_id.removeprefix(SIMULATED_PREFIX)
            free = bed != device_id and _bed_is_free(session, site_id, bed)
            credential = register_device(
                session, actor, broker, site_id=site_id, site_code=site_code, device_id=device_id,
                model="iot_sim", bed_code=bed if free else None,
            )  # fmt: skip
        issued[device_id] = credential.password
    return issued


def _bed_is_free(session: Session, site_id: int, bed_code: str) -> bool:
    try:
        _find_bed(session, site_id, bed_code)
    except InputError:
        return False
    return True
