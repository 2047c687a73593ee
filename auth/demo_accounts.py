"""The demo's accounts: one user per role sharing the demo password, and the TV board's token, made through the
account services (``auth.users``) exactly as an operator's would be; ``seed_demo`` seeds the site first."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import users
from auth.passwords import generate_password, hash_password, verify_password
from config import Settings
from data.models import DisplayToken, Doctor, Poli, User
from data.seed import DOCTORS, SEEDER, seed_site
from data.setup_doctors import update_doctor
from data.staff_assignments import set_staff_wards, wards_of
from data.wards import find_ward

DEMO_USERS = (
    ("admin", "Administrator (demo)", "admin"),
    ("manajer", "Manajer (demo)", "manager"),
    ("perawat", "Perawat Jaga (demo)", "nurse"),
    ("dokter", "dr. Sari Wulandari (demo)", "doctor"),  # the demo doctor the account is linked to
    ("loket", "Petugas Loket (demo)", "front_desk"),
    ("farmasi", "Petugas Farmasi (demo)", "pharmacy"),
    ("keuangan", "Staf Keuangan (demo)", "finance"),
    ("display", "Papan TV (demo)", "display"),
)

DEMO_NURSE, DEMO_NURSE_WARD = "perawat", "ICU"
DEMO_DOCTOR_ACCOUNT = "dokter"


@dataclass(frozen=True)
class DemoCredentials:
    password: str
    display_token: str


def _stored_credentials(settings: Settings) -> Path:
    return settings.var_dir / "demo-credentials.json"


def demo_credentials(settings: Settings) -> DemoCredentials:
    """``PANTAU_DEMO_PASSWORD`` when set, else the generated one kept in ``var/`` (made on first start)."""
    path = _stored_credentials(settings)
    stored = json.loads(path.read_text()) if path.exists() else {}
    password = settings.demo_password or stored.get("password") or generate_password()
    creds = DemoCredentials(password, stored.get("display_token") or generate_password(32))
    if stored != asdict(creds):
        keep_demo_credentials(settings, creds)
    return creds


def keep_demo_credentials(settings: Settings, creds: DemoCredentials) -> None:
    """Keep ``creds`` in ``var/`` (readable by its owner only), where the next start finds them."""
    path = _stored_credentials(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(creds)))
    os.chmod(path, 0o600)


def seed_demo(session: Session, settings: Settings, now: datetime | None = None) -> DemoCredentials:
    """Create or refresh everything the demo needs; running it twice changes nothing."""
    site = seed_site(session, settings, now)
    creds = demo_credentials(settings)
    shared_hash = None  # one Argon2 hash for all demo users: they share the demo password anyway
    for username, full_name, role in DEMO_USERS:
        user = users.find_user(session, username)
        current = user.password_hash if user else None
        if current is not None and (current == shared_hash or verify_password(current, creds.password)):
            shared_hash = shared_hash or current
        else:
            shared_hash = shared_hash or hash_password(creds.password)
            if user is None:
                user = users.create_user(
                    session,
                    SEEDER,
                    site_id=site.id,
                    username=username,
                    full_name=full_name,
                    roles=[role],
                    password=creds.password,
                    must_change_password=False,
                    password_hash=shared_hash,
                )
            else:
                user.password_hash = shared_hash
        if role == "display":
            _ensure_display_token(session, user, creds.display_token)
    _place_demo_staff(session, site.id)
    return creds


def _place_demo_staff(session: Session, site_id: int) -> None:
    """Where the demo's staff work, set as an admin sets it on the users and doctors pages: the nurse in the ICU
    (her home page opens on it), the doctor's account linked to the first demo doctor ("Jadwal saya")."""
    actor = replace(SEEDER, site_id=site_id)
    nurse = users.find_user(session, DEMO_NURSE)
    if not wards_of(session, nurse.id):
        set_staff_wards(session, actor, nurse.id, [find_ward(session, site_id, DEMO_NURSE_WARD).id])
    account = users.find_user(session, DEMO_DOCTOR_ACCOUNT)
    if session.scalar(select(Doctor.id).where(Doctor.user_id == account.id)) is None:
        doctor = session.scalar(select(Doctor).where(Doctor.site_id == site_id, Doctor.name == DOCTORS[0][0]))
        values = {field: getattr(doctor, field) or "" for field in ("name", "sip", "specialty", "bpjs_code")}
        values |= {"poli_code": session.get(Poli, doctor.poli_id).code, "username": account.username}
        update_doctor(session, actor, doctor.id, values, doctor.version)


def _ensure_display_token(session: Session, user: User, token: str) -> None:
    digest = users.token_digest(token)
    row = session.scalar(select(DisplayToken).where(DisplayToken.token_sha256 == digest))
    if row is None:
        row = DisplayToken(user_id=user.id, label="Demo TV board", token_sha256=digest)
        session.add(row)
    row.board_path = "/papan/umum"
