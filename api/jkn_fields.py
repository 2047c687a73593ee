"""The fields of Mobile JKN's JSON bodies, read with BPJS's names and checked for format: each problem raises
``InputError`` with a message that names the field and says what is expected."""

from __future__ import annotations

import re
from datetime import date, time

from data.jkn_service import BookingRequest, NewPatientRequest, SessionRequest
from domain.errors import InputError
from domain.identifiers import digit_string

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
VISIT_KINDS = (1, 2, 3, 4)  # rujukan FKTP, rujukan internal, kontrol, rujukan antar RS

# The longest value each text field may have; a longer one is refused (code 201) with the field and the limit,
# never cut. Sizes of BPJS's own values (poli and doctor codes, referral and SEP numbers of 19 characters) with a
# little room; the patient's own words (a cancel reason, a name, an address) as long as the record keeps them.
FIELD_LIMITS = {
    "kodebooking": 32,
    "kodepoli": 10,
    "kodedokter": 20,
    "norm": 20,
    "nomorreferensi": 25,
    "nohp": 20,
    "nama": 200,
    "jeniskelamin": 1,
    "alamat": 200,
    "rt": 3,
    "rw": 3,
    "namakel": 50,
    "namakec": 50,
    "namadati2": 50,
    "namaprop": 50,
    "keterangan": 200,
    "jampraktek": 20,
}
DEFAULT_LIMIT = 40  # dates, numbers and any field not listed


class Body:
    """A request's JSON object; values may come as strings or numbers."""

    def __init__(self, values: dict) -> None:
        self._values = values

    def text(self, name: str, *, required: bool = True) -> str:
        value = self._values.get(name)
        if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
            raise InputError("jkn_field_type", field=name)
        value = "" if value is None else str(value).strip()
        if required and not value:
            raise InputError("jkn_field_required", field=name)
        limit = FIELD_LIMITS.get(name, DEFAULT_LIMIT)
        if len(value) > limit:
            raise InputError("lim_jkn_too_long", field=name, limit=limit)
        return value

    def digits(self, name: str, length: int) -> str:
        """A number in the desk's one normal form (``domain.identifiers``: full-width digits and separators are
        the same number; letters are refused)."""
        value = digit_string(self.text(name))
        if value is None or len(value) != length:
            raise InputError("jkn_field_digits", field=name, length=length)
        return value

    def day(self, name: str) -> date:
        value = self.text(name)
        try:
            if not _DATE.match(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise InputError("jkn_date_format", field=name) from None

    def integer(self, name: str) -> int:
        value = self.text(name)
        if not re.fullmatch(r"-?\d{1,15}", value):
            raise InputError("jkn_field_integer", field=name)
        return int(value)

    def hours(self, name: str) -> tuple[time, time]:
        found = _HOURS.match(self.text(name).replace(" ", ""))
        if not found:
            raise InputError("jkn_hours_format", field=name)
        starts, ends = time(int(found[1]), int(found[2])), time(int(found[3]), int(found[4]))
        if starts >= ends:
            raise InputError("jkn_hours_order", field=name)
        return starts, ends


def session_request(body: Body) -> SessionRequest:
    poli, doctor, day = body.text("kodepoli"), body.text("kodedokter"), body.day("tanggalperiksa")
    return SessionRequest(poli, doctor, day, *body.hours("jampraktek"))


def booking_request(body: Body) -> BookingRequest:
    visit_kind = body.integer("jeniskunjungan")
    if visit_kind not in VISIT_KINDS:
        raise InputError("jkn_visit_kind")
    return BookingRequest(
        card=body.digits("nomorkartu", 13),
        nik=body.digits("nik", 16),
        mrn=body.text("norm", required=False),
        session=session_request(body),
        visit_kind=visit_kind,
        referral=body.text("nomorreferensi"),
    )


def new_patient_request(body: Body) -> NewPatientRequest:
    card, nik = body.digits("nomorkartu", 13), body.digits("nik", 16)
    body.digits("nomorkk", 16)  # checked, not kept: Pantau's patient record has no family-card field
    name = body.text("nama")
    sex = body.text("jeniskelamin").upper()
    if sex not in ("L", "P"):
        raise InputError("jkn_sex")
    birth_date, phone = body.day("tanggallahir"), body.text("nohp")
    street = body.text("alamat")
    rt, rw = body.text("rt", required=False), body.text("rw", required=False)
    # BPJS's region codes (kodeprop, kodedati2, ...) are not kept; their names go into the address
    parts = [
        street,
        f"RT {rt}/RW {rw}" if rt or rw else "",
        body.text("namakel", required=False),
        body.text("namakec", required=False),
        body.text("namadati2", required=False),
        body.text("namaprop", required=False),
    ]
    address = ", ".join(part for part in parts if part)
    return NewPatientRequest(card, nik, name, sex, birth_date, phone, address)


def date_range(body: Body) -> tuple[date, date]:
    first, last = body.day("tanggalawal"), body.day("tanggalakhir")
    if first > last:
        raise InputError("jkn_dates_order")
    return first, last
