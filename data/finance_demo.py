"""Demo and benchmark only: a reproducible year (or any range) of a hospital's finance activity.

``generate`` draws, from ``random.Random(seed)`` alone, the episodes of care of every day (outpatient visits,
emergency visits, inpatient stays) and yields their rows: ``charge_line``, ``invoice`` (non-JKN payers),
``payment``, ``bpjs_claim`` with its ``bpjs_claim_event`` history (JKN episodes), and ``ward_census`` for the wards
given as ``census_wards``. The shape follows an Indonesian type-B hospital: JKN about 80 % of visits, Monday the
busiest day and Sunday without outpatients, a Ramadan dip, a quiet Lebaran week and a rise after it, more patients
in the rainy season (December–March), claims submitted 5–40 days after service and some pending or disputed with
the verifier's reason. ``load`` writes the rows (PostgreSQL ``COPY``, SQLite ``executemany``) and rebuilds the
``charge_daily`` rollup of the range from the lines.

Every row is marked as demo: charge lines have ``source_id`` ``demo:…``, claims a ``DEMO…`` SEP, invoices a
``DEMO-…`` number; no patient is linked. ``load_demo_slice`` puts the last 60 days into the embedded demo once."""

from __future__ import annotations

import io
import logging
import queue
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.charges import rebuild_daily
from data.models import (
    BpjsClaim,
    BpjsClaimEvent,
    ChargeLine,
    Doctor,
    Invoice,
    Payment,
    Poli,
    Site,
    Ward,
    WardCensus,
)
from data.runtime import Runtime
from data.schedules import local_today
from data.seed import SEEDER
from data.setup_doctors import create_doctor
from data.setup_polis import create_poli
from data.setup_wards import create_ward

log = logging.getLogger(__name__)

DEMO_SOURCE_PREFIX = "demo:"
DEMO_SEP_PREFIX = "DEMO"
DEMO_INVOICE_PREFIX = "DEMO-"
SLICE_DAYS, SLICE_LINES, SLICE_SEED = 60, 15_000, 14

# Columns of each table, in the order of the tuples ``generate`` yields (and of the COPY).
COLUMNS: dict[str, tuple[str, ...]] = {
    "invoice": ("id", "site_id", "number", "payer", "issued_on", "due_on", "total", "paid", "status", "created_at"),
    "bpjs_claim": (
        "id", "site_id", "sep_number", "episode", "poli_id", "ward_id", "doctor_id", "service_start", "service_end",
        "inacbg_code", "hospital_tariff", "inacbg_tariff", "submitted_amount", "approved_amount", "topup_amount",
        "status", "status_reason", "submitted_on", "verified_on", "paid_on", "updated_at", "version",
    ),
    "charge_line": (
        "site_id", "service_date", "unit", "payer", "poli_id", "ward_id", "doctor_id", "invoice_id", "tariff_code",
        "description", "quantity", "unit_price", "amount", "priced", "source", "source_id", "created_at",
    ),
    "payment": ("site_id", "kind", "method", "invoice_id", "payer", "amount", "paid_on", "reference", "received_at"),
    "bpjs_claim_event": ("claim_id", "status", "on", "reason", "source", "at"),
    "ward_census": (
        "ward_id", "day", "beds", "occupied", "available", "cleaning", "out_of_service", "admissions",
        "transfers_in", "transfers_out", "discharges", "deaths", "los_days", "deaths_48h", "recorded_at",
    ),
}  # fmt: skip
TABLES = tuple(COLUMNS)
_AMOUNT = COLUMNS["charge_line"].index("amount")  # foreign keys point backwards in this order
# Generated ids are local (1, 2, …); ``load`` shifts them past the table's current maximum.
LOCAL_IDS = {"invoice": ("invoice", "id"), "bpjs_claim": ("bpjs_claim", "id")}
REFERENCES = {
    ("charge_line", "invoice_id"): "invoice",
    ("payment", "invoice_id"): "invoice",
    ("bpjs_claim_event", "claim_id"): "bpjs_claim",
}
_MODELS = {
    "invoice": Invoice,
    "bpjs_claim": BpjsClaim,
    "charge_line": ChargeLine,
    "payment": Payment,
    "bpjs_claim_event": BpjsClaimEvent,
    "ward_census": WardCensus,
}

# Who pays, per kind of episode (weights); JKN is about 80 % of all visits.
PAYER_MIX = {
    "rawat_jalan": (("jkn", 81), ("umum", 12), ("asuransi", 4), ("perusahaan", 3)),
    "igd": (("jkn", 70), ("umum", 16), ("asuransi", 4), ("perusahaan", 2), ("jasa_raharja", 8)),
    "rawat_inap": (("jkn", 82), ("umum", 8), ("asuransi", 5), ("perusahaan", 3), ("jasa_raharja", 2)),
}
EPISODE_MIX = (("rawat_jalan", 87), ("igd", 7.5), ("rawat_inap", 5.5))
# Outpatients by weekday (Monday first): Monday busiest, Saturday half a day, Sunday only the odd clinic.
OUTPATIENT_WEEKDAY = (1.3, 1.12, 1.05, 1.0, 0.88, 0.55, 0.1)
INPATIENT_WEEKDAY = (1.15, 1.1, 1.05, 1.0, 0.95, 0.85, 0.8)
# Idul Fitri (1 Syawal) as the government's calendar has it; Ramadan is the 30 days before.
LEBARAN = {
    2023: date(2023, 4, 22),
    2024: date(2024, 4, 10),
    2025: date(2025, 3, 31),
    2026: date(2026, 3, 20),
    2027: date(2027, 3, 10),
    2028: date(2028, 2, 27),
}

# (code, description, hospital price) per kind of item.
REGISTRATION = {
    "rawat_jalan": ("RJ-REG", "Pendaftaran rawat jalan", 25_000),
    "igd": ("IGD-REG", "Pendaftaran IGD", 50_000),
}
CONSULTATION = {
    "rawat_jalan": ("RJ-KONS-SP", "Konsultasi dokter spesialis", 110_000),
    "igd": ("IGD-PERIKSA", "Pemeriksaan dokter jaga IGD", 120_000),
}
PROCEDURES = {
    "rawat_jalan": (("RJ-TIND-KCL", "Tindakan poliklinik kecil", 125_000), ("RJ-EKG", "Rekam jantung (EKG)", 85_000)),
    "igd": (("IGD-HECT", "Penjahitan luka (hecting)", 250_000), ("IGD-NEBU", "Nebulisasi", 95_000),
            ("IGD-OBS", "Observasi IGD", 200_000)),
}  # fmt: skip
SUPPORT = (
    ("LAB-DL", "Darah lengkap", 85_000, 30),
    ("LAB-GDS", "Gula darah sewaktu", 30_000, 20),
    ("LAB-KIMIA", "Kimia klinik (fungsi hati dan ginjal)", 160_000, 14),
    ("LAB-UL", "Urinalisis", 45_000, 10),
    ("LAB-NS1", "NS1 antigen dengue", 175_000, 5),
    ("RAD-THORAX", "Foto toraks", 180_000, 12),
    ("RAD-USG", "USG abdomen", 275_000, 6),
    ("RAD-CT", "CT scan kepala", 1_250_000, 1.5),
)
DRUGS = (
    ("OBT-PCT", "Parasetamol 500 mg tablet", 450, (10, 20), 25),
    ("OBT-AMX", "Amoksisilin 500 mg kapsul", 1_100, (10, 15), 15),
    ("OBT-AMLO", "Amlodipin 10 mg tablet", 900, (30, 30), 12),
    ("OBT-MET", "Metformin 500 mg tablet", 400, (30, 60), 10),
    ("OBT-OMZ", "Omeprazol 20 mg kapsul", 1_500, (14, 30), 12),
    ("OBT-CEF", "Seftriakson 1 g injeksi", 32_000, (1, 2), 8),
    ("OBT-RL", "Ringer laktat 500 ml infus", 18_500, (1, 3), 8),
    ("OBT-ATV", "Atorvastatin 20 mg tablet", 2_200, (30, 30), 8),
    ("OBT-CLO", "Klopidogrel 75 mg tablet", 3_500, (30, 30), 6),
    ("OBT-INS", "Insulin glargin pen", 185_000, (1, 2), 4),
    ("OBT-MRP", "Meropenem 1 g injeksi", 145_000, (2, 3), 2),
    ("BHP", "Bahan habis pakai", 35_000, (1, 2), 10),
)
ROOM = {
    "3": 250_000, "2": 400_000, "1": 600_000, "VIP": 1_200_000, "VVIP": 2_000_000, "KRIS": 300_000,
    "ICU": 2_500_000, "ICCU": 2_500_000, "HCU": 1_400_000, "NICU": 1_800_000, "PICU": 2_000_000, "ISOLASI": 800_000,
}  # fmt: skip
WARD_DAILY = (("RI-VISITE", "Visite dokter spesialis", 125_000), ("RI-ASKEP", "Asuhan keperawatan", 95_000))
WARD_ADMIN = ("RI-ADM", "Administrasi rawat inap", 75_000)
# INA-CBG groups (code without severity, tariff of severity I for class 3, an operation the stay needs, weight).
INPATIENT_CBG = (
    ("K-4-17", 3_150_000, None, 14),  # gastroenteritis / dyspepsia
    ("J-4-16", 3_700_000, None, 14),  # pneumonia
    ("A-4-14", 2_900_000, None, 12),  # dengue / infeksi virus
    ("I-4-12", 4_300_000, None, 9),  # gagal jantung
    ("E-4-10", 3_400_000, None, 7),  # diabetes melitus
    ("G-4-14", 5_300_000, None, 6),  # stroke non perdarahan
    ("N-4-10", 3_300_000, None, 6),  # infeksi saluran kemih / gagal ginjal
    ("O-6-10", 2_600_000, ("VK-PN", "Persalinan normal", 2_400_000), 10),
    ("O-6-12", 6_700_000, ("VK-SC", "Seksio sesarea", 8_800_000), 8),
    ("K-1-12", 7_900_000, ("OK-APP", "Apendektomi", 7_200_000), 6),
    ("M-1-30", 9_600_000, ("OK-ORIF", "Operasi ORIF", 11_500_000), 4),
    ("P-8-17", 3_800_000, None, 4),  # neonatus
)
OUTPATIENT_CBG = (("Q-5-44-0", 192_000, 55), ("Q-5-42-0", 236_000, 20), ("Z-3-23-0", 268_000, 10),
                  ("M-3-16-0", 214_000, 8), ("G-3-13-0", 305_000, 7))  # fmt: skip
EMERGENCY_CBG = (("Q-5-18-0", 412_000, 60), ("T-3-16-0", 488_000, 25), ("S-3-12-0", 553_000, 15))
SEVERITY = (("I", 1.0, 70), ("II", 1.42, 22), ("III", 2.05, 8))
SEVERITY_ICU = (("II", 1.42, 30), ("III", 2.05, 70))  # an intensive stay is grouped as a severe case
SEVERITY_STAY = {"I": 1.0, "II": 1.35, "III": 1.9}  # a severe stay is longer and uses more
CLASS_FACTOR = {
    "1": 1.4,
    "2": 1.2,
    "VIP": 1.4,
    "VVIP": 1.4,
    "ICU": 1.8,
    "ICCU": 1.8,
    "HCU": 1.4,
    "NICU": 1.6,
    "PICU": 1.8,
}
PENDING_REASONS = (
    "Resume medis tidak lengkap",
    "Koding tidak sesuai",
    "Hasil penunjang tidak dilampirkan",
    "Tanda tangan DPJP belum ada",
    "Diagnosis sekunder tidak didukung bukti",
)
DISPUTE_REASONS = ("Koding tidak sesuai", "Beda pendapat severity level III", "Readmisi kurang dari 30 hari")
NOT_ELIGIBLE_REASONS = ("Pelayanan tidak dijamin (kosmetik)", "SEP terbit di luar masa aktif peserta",
                        "Kasus kecelakaan lalu lintas dijamin Jasa Raharja")  # fmt: skip
UNPRICED_SHARE = 0.003
ICU_ADMISSION_WEIGHT = 0.3
COPY_READ = 1 << 20  # bytes psycopg2 sends to COPY at a time
# Beds of the benchmark hospital's wards (share of ``beds``): code, name, kind, care class.
BENCH_WARDS = (
    ("BMW", "Bangsal Mawar (Penyakit Dalam)", "ward", "3", 0.16),
    ("BAN", "Bangsal Anggrek (Penyakit Dalam)", "ward", "2", 0.12),
    ("BKE", "Bangsal Kenanga (Bedah)", "ward", "3", 0.14),
    ("BDA", "Bangsal Dahlia (Anak)", "ward", "3", 0.12),
    ("BBO", "Bangsal Bougenville (Kebidanan)", "ward", "3", 0.12),
    ("BTE", "Bangsal Teratai (Saraf)", "ward", "1", 0.08),
    ("BWK", "Paviliun Wijaya Kusuma (VIP)", "ward", "VIP", 0.08),
    ("BPE", "Perinatologi", "ward", "NICU", 0.06),
    ("BHC", "HCU", "icu", "HCU", 0.06),
)  # the rest of ``beds`` goes to an ICU
BENCH_ICU = ("BIC", "ICU", "icu", "ICU")
BENCH_POLIS = (
    ("BDH", "Poli Bedah", "F"), ("SAR", "Poli Saraf", "G"), ("MAT", "Poli Mata", "H"), ("THT", "Poli THT", "J"),
    ("JAN", "Poli Jantung", "K"), ("KUL", "Poli Kulit dan Kelamin", "L"), ("PAR", "Poli Paru", "M"),
    ("ORT", "Poli Ortopedi", "Q"),
)  # fmt: skip
DOCTORS_PER_BENCH_POLI = 2


@dataclass(frozen=True)
class DemoWard:
    id: int
    beds: int
    care_class: str
    kind: str


@dataclass(frozen=True)
class DemoDims:
    """What the generated rows point at: wards (inpatient lines), polis and ``(doctor_id, poli_id)`` doctors, and
    the wards whose census is generated (only wards without real admissions)."""

    wards: tuple[DemoWard, ...]
    polis: tuple[int, ...]
    doctors: tuple[tuple[int, int | None], ...]
    census_wards: tuple[DemoWard, ...] = ()
    specialists: tuple[int, ...] = ()  # who looks after inpatients (all doctors when empty)


@dataclass
class LoadResult:
    rows: dict[str, int] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    rollup_rows: int = 0


# ------------------------------------------------------------------------------------------------ dimensions


def _dims(session: Session, site_id: int, census_codes: set[str]) -> DemoDims:
    wards = session.execute(
        select(Ward.id, Ward.code, Ward.care_class, Ward.kind, func.count())
        .join(Ward.beds)
        .where(Ward.site_id == site_id, Ward.active.is_(True))
        .group_by(Ward.id, Ward.code, Ward.care_class, Ward.kind)
        .order_by(Ward.code)
    ).all()
    demo_wards = tuple((code, DemoWard(id, beds, care_class, kind)) for id, code, care_class, kind, beds in wards)
    polis = tuple(session.scalars(select(Poli.id).where(Poli.site_id == site_id, Poli.active).order_by(Poli.code)))
    rows = session.execute(
        select(Doctor.id, Doctor.poli_id, Doctor.specialty)
        .where(Doctor.site_id == site_id, Doctor.active)
        .order_by(Doctor.id)
    ).all()
    return DemoDims(
        wards=tuple(w for _, w in demo_wards),
        polis=polis,
        doctors=tuple((row.id, row.poli_id) for row in rows),
        census_wards=tuple(w for code, w in demo_wards if code in census_codes),
        specialists=tuple(row.id for row in rows if row.specialty.startswith("Spesialis")),
    )


def existing_dims(session: Session, site_id: int) -> DemoDims:
    """The site's own wards, polis and doctors (the embedded demo); no census: its admissions make the census."""
    return _dims(session, site_id, set())


def ensure_demo_dims(session: Session, site_id: int, beds: int = 200) -> DemoDims:
    """Benchmark wards (``beds`` beds in all), polis and doctors, created through the setup services when
    missing, with the site's other polis and doctors; census is generated for the benchmark wards."""
    actor = replace(SEEDER, site_id=site_id)
    plan = [(code, name, kind, care, max(1, round(beds * share))) for code, name, kind, care, share in BENCH_WARDS]
    plan.append((*BENCH_ICU, max(1, beds - sum(p[4] for p in plan))))
    known = set(session.scalars(select(Ward.code).where(Ward.site_id == site_id)))
    for code, name, kind, care, count in plan:
        if code not in known:
            values = {"code": code, "name": name, "kind": kind, "care_class": care, "bed_count": count}
            create_ward(session, actor, values)
    polis = set(session.scalars(select(Poli.code).where(Poli.site_id == site_id)))
    names = set(session.scalars(select(Doctor.name).where(Doctor.site_id == site_id)))
    for code, name, prefix in BENCH_POLIS:
        if code not in polis:
            create_poli(session, actor, {"code": code, "name": name, "queue_prefix": prefix})
        for n in range(1, DOCTORS_PER_BENCH_POLI + 1):
            doctor = f"dr. Dokter {name.removeprefix('Poli ')} {n} (demo)"
            if doctor not in names:
                specialty = f"Spesialis {name.removeprefix('Poli ')}"
                create_doctor(session, actor, {"name": doctor, "specialty": specialty, "poli_code": code})
    session.flush()
    return _dims(session, site_id, {p[0] for p in plan})


# ------------------------------------------------------------------------------------------------ generation


def _weighted(rng: random.Random, choices: tuple, weight_at: int = -1) -> tuple:
    return rng.choices(choices, weights=[c[weight_at] for c in choices])[0]


def season(day: date) -> float:
    """How busy the hospital is on ``day`` against an ordinary day (weekday aside)."""
    factor = 1.08 if day.month in (12, 1, 2, 3) else 1.0  # rainy season: dengue, ISPA, diarrhoea
    for feast in (LEBARAN.get(day.year), LEBARAN.get(day.year + 1)):
        if feast is None:
            continue
        offset = (day - feast).days
        if -30 <= offset < -2:
            factor *= 0.86  # Ramadan: elective visits wait
        elif -2 <= offset <= 7:
            factor *= 0.5  # cuti bersama: clinics mostly closed
        elif 7 < offset <= 30:
            factor *= 1.15  # after Lebaran: what waited comes
    return factor


def day_weight(day: date, kind: str) -> float:
    weekday = {"rawat_jalan": OUTPATIENT_WEEKDAY, "rawat_inap": INPATIENT_WEEKDAY}.get(kind)
    return season(day) * (weekday[day.weekday()] if weekday else 1.0)


class _Generator:
    def __init__(self, site_id: int, end: date, seed: int, dims: DemoDims, lines_per_episode: float):
        if not dims.wards or not dims.polis:
            raise ValueError("the demo needs at least one ward and one poli")
        self.site_id, self.end, self.dims = site_id, end, dims
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.invoice_id = self.claim_id = 0
        self.stamp = datetime.combine(end, time(17), UTC)
        # About 2.6 fixed lines an episode (2 a visit, 1 + 3 a day of a stay), and 2.2 that scale with ``extra``.
        self.extra = max(0.15, (lines_per_episode - 2.6) / 2.2)
        self.doctors_of: dict[int | None, list[int]] = {}
        for doctor_id, poli_id in dims.doctors:
            self.doctors_of.setdefault(poli_id, []).append(doctor_id)
        self.all_doctors = [d for d, _ in dims.doctors] or [None]
        self.specialists = list(dims.specialists) or self.all_doctors
        # an intensive bed takes fewer admissions than a ward bed
        self.ward_weights = [w.beds * (ICU_ADMISSION_WEIGHT if w.kind == "icu" else 1.0) for w in dims.wards]

    def doctor(self, poli_id: int | None) -> int | None:
        return self.rng.choice(self.doctors_of.get(poli_id) or self.all_doctors)

    # one episode's lines ------------------------------------------------------------------------------------
    def _count(self, mean: float) -> int:
        mean *= self.extra
        whole = int(mean)
        return whole + (self.rng.random() < mean - whole)

    def _line(self, out: list, day: date, unit: str, payer: str, links: tuple, key: str, item: tuple, qty: int = 1):
        code, description, price = item[0], item[1], item[2]
        if self.rng.random() < UNPRICED_SHARE:
            price, priced = 0, False
        else:
            price, priced = int(price * self.rng.choice((1.0, 1.0, 1.0, 1.1))), True
        out.append(
            (self.site_id, day, unit, payer, *links, None, code, description, qty, price, qty * price, priced,
             "import", f"{key}:{len(out)}", self.stamp)
        )  # fmt: skip

    def _support_and_drugs(self, out: list, day: date, payer: str, links: tuple, key: str, support: float,
                           drugs: float) -> None:  # fmt: skip
        for _ in range(self._count(support)):
            self._line(out, day, "penunjang", payer, links, key, _weighted(self.rng, SUPPORT))
        for _ in range(self._count(drugs)):
            drug = _weighted(self.rng, DRUGS)
            self._line(out, day, "farmasi", payer, links, key, drug, self.rng.randint(*drug[3]))

    def visit(self, day: date, kind: str, payer: str, key: str) -> tuple[list, int | None, int | None]:
        out: list = []
        poli_id = self.rng.choice(self.dims.polis) if kind == "rawat_jalan" else None
        doctor_id = self.doctor(poli_id)
        links = (poli_id, None, doctor_id)
        self._line(out, day, kind, payer, links, key, REGISTRATION[kind])
        self._line(out, day, kind, payer, links, key, CONSULTATION[kind])
        for _ in range(self._count(0.2 if kind == "rawat_jalan" else 0.7)):
            self._line(out, day, kind, payer, links, key, self.rng.choice(PROCEDURES[kind]))
        support, drugs = (0.35, 1.2) if kind == "rawat_jalan" else (1.3, 1.8)
        self._support_and_drugs(out, day, payer, links, key, support, drugs)
        return out, poli_id, doctor_id

    def stay(
        self, day: date, payer: str, key: str, cbg: tuple, severity: str, ward: DemoWard
    ) -> tuple[list, date, int]:
        out: list = []
        doctor_id = self.rng.choice(self.specialists)
        stretch = 0.9 if ward.kind == "icu" else SEVERITY_STAY[severity]  # an intensive stay is short and dear
        los = max(1, round(self.rng.gammavariate(2.2, 1.7) * stretch))
        links = (None, ward.id, doctor_id)
        self._line(out, day, "rawat_inap", payer, links, key, WARD_ADMIN)
        room = (
            "RI-KMR-" + ward.care_class,
            f"Kamar rawat inap kelas {ward.care_class}",
            ROOM.get(ward.care_class, 300_000),
        )
        operation = cbg[2]
        for n in range(los):
            each = day + timedelta(days=n)
            if each > self.end:
                break
            self._line(out, each, "rawat_inap", payer, links, key, room)
            for item in WARD_DAILY:
                self._line(out, each, "rawat_inap", payer, links, key, item)
            if n == 0 and operation:
                self._line(out, each, "rawat_inap", payer, links, key, operation)
            self._support_and_drugs(out, each, payer, links, key, 0.5, 1.2)
        return out, day + timedelta(days=los), doctor_id

    # billing ------------------------------------------------------------------------------------------------
    def invoice(self, rows: dict, lines: list, payer: str, issued: date, number: str) -> None:
        if issued > self.end:
            return
        self.invoice_id += 1
        total = sum(line[_AMOUNT] for line in lines)
        for n, line in enumerate(lines):
            lines[n] = (*line[:7], self.invoice_id, *line[8:])
        rng = self.rng
        if payer == "umum":
            due, lag = issued, (0 if rng.random() < 0.93 else rng.randint(1, 40))
            method = _weighted(rng, (("tunai", 55), ("qris", 35), ("transfer", 10)))[0]
        else:
            due, lag, method = issued + timedelta(days=30), int(rng.triangular(10, 110, 35)), "transfer"
        paid_on = issued + timedelta(days=lag)
        paid = total if paid_on <= self.end and total > 0 else 0
        rows["invoice"].append(
            (self.invoice_id, self.site_id, number, payer, issued, due, total, paid, "paid" if paid else "open",
             self.stamp)
        )  # fmt: skip
        if paid:
            reference = None if method == "tunai" else f"DEMO{self.invoice_id:010d}"
            rows["payment"].append(
                (self.site_id, "payment", method, self.invoice_id, payer, paid, paid_on, reference, self.stamp)
            )

    def claim(self, rows: dict, episode: str, links: tuple, start: date, end: date, sep: str, hospital: int,
              code: str, tariff: int) -> None:  # fmt: skip
        rng, today = self.rng, self.end
        self.claim_id += 1
        events: list[tuple] = [("coded", end, None)]
        age = (today - end).days
        submitted = verified = paid = None
        reason = None
        approved = None
        if rng.random() < 0.015 and age > 20:  # forgotten in the coder's tray: runs towards the 6-month limit
            status = "final"
            events.append(("final", end + timedelta(days=3), None))
        else:
            lag = int(rng.triangular(5, 40, 12))
            if age < lag:
                status = "coded" if age < 2 else "grouped" if age < 4 else "final"
                if status != "coded":
                    events.append((status, end + timedelta(days=min(age, 3)), None))
            else:
                submitted = end + timedelta(days=lag)
                status = "submitted"
                events.append(("submitted", submitted, None))
                verify = submitted + timedelta(days=rng.randint(7, 20))
                decided = verify + timedelta(days=rng.randint(0, 4))  # verified, then the verdict
                if verify <= today < decided:
                    status, verified = "verified", verify
                    events.append(("verified", verify, None))
                elif decided <= today:
                    verified = verify = decided
                    outcome = rng.random()
                    if outcome < 0.035:
                        status, reason = "not_eligible", rng.choice(NOT_ELIGIBLE_REASONS)
                    elif outcome < 0.13:
                        pending = outcome < 0.11
                        status = "pending" if pending else "dispute"
                        reason = rng.choice(PENDING_REASONS if pending else DISPUTE_REASONS)
                        answered = verify + timedelta(days=rng.randint(10, 45))
                        events.append((status, verify, reason))
                        if answered <= today:  # the hospital answered and the verifier accepted
                            events.append(("submitted", answered, "Berkas dilengkapi"))
                            status, reason, verified = "eligible", None, answered + timedelta(days=rng.randint(3, 10))
                            if verified > today:
                                status, verified = "submitted", None
                    else:
                        status = "eligible"
                    if status == "eligible":
                        events.append(("eligible", verified, None))
                        approved = tariff
                        pay = verified + timedelta(days=rng.randint(8, 25))
                        if pay <= today:
                            paid, status = pay, "paid"
                            events.append(("paid", pay, None))
                    elif status == "not_eligible":
                        events.append(("not_eligible", verified, reason))
                    if status in ("pending", "dispute", "not_eligible"):
                        verified = verify
        topup = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 0, 150_000)) if episode == "rawat_inap" and approved else 0
        rows["bpjs_claim"].append(
            (self.claim_id, self.site_id, sep, episode, *links, start, end, code, hospital, tariff,
             tariff if submitted else None, approved, topup, status, reason, submitted, verified, paid, self.stamp, 1)
        )  # fmt: skip
        for state, on, why in events:
            rows["bpjs_claim_event"].append((self.claim_id, state, on, why, "import", self.stamp))

    # one day ------------------------------------------------------------------------------------------------
    def day(self, day: date, episodes: dict[str, int]) -> dict[str, list]:
        rows: dict[str, list] = {table: [] for table in TABLES}
        rng = self.rng
        serial = 0
        for kind in ("rawat_jalan", "igd", "rawat_inap"):
            for _ in range(episodes[kind]):
                serial += 1
                key = f"{DEMO_SOURCE_PREFIX}{day:%Y%m%d}:{serial}"
                payer = _weighted(rng, PAYER_MIX[kind])[0]
                if kind == "rawat_inap":
                    ward = rng.choices(self.dims.wards, weights=self.ward_weights)[0]
                    cbg = _weighted(rng, INPATIENT_CBG)
                    severity, factor, _ = _weighted(rng, SEVERITY_ICU if ward.kind == "icu" else SEVERITY)
                    lines, end, doctor_id = self.stay(day, payer, key, cbg, severity, ward)
                    links, episode = (None, ward.id, doctor_id), "rawat_inap"
                    code = f"{cbg[0]}-{severity}"
                    tariff = int(round(cbg[1] * factor * CLASS_FACTOR.get(ward.care_class, 1.0), -2))
                else:
                    lines, poli_id, doctor_id = self.visit(day, kind, payer, key)
                    end, links, episode = day, (poli_id, None, doctor_id), "rawat_jalan"
                    code, tariff, _ = _weighted(rng, OUTPATIENT_CBG if kind == "rawat_jalan" else EMERGENCY_CBG)
                if payer == "jkn":
                    if end <= self.end:
                        sep = f"{DEMO_SEP_PREFIX}{day:%y%m%d}{'I' if kind == 'rawat_inap' else 'J'}{serial:06d}"
                        hospital = sum(line[_AMOUNT] for line in lines)
                        self.claim(rows, episode, links, day, end, sep, hospital, code, tariff)
                else:
                    self.invoice(rows, lines, payer, end, f"{DEMO_INVOICE_PREFIX}{day:%y%m%d}-{serial:05d}")
                rows["charge_line"].extend(lines)
        for ward in self.dims.census_wards:
            rows["ward_census"].append(self.census(ward, day))
        return rows

    def census(self, ward: DemoWard, day: date) -> tuple:
        rng, beds = self.rng, ward.beds
        icu = ward.kind == "icu"
        bor = min(0.97, (0.74 if icu else 0.77) * season(day) ** 0.6 + rng.gauss(0, 0.04))
        out_of_service = 1 if beds >= 10 and rng.random() < 0.08 else 0
        occupied = max(0, min(beds - out_of_service, round(beds * bor)))
        cleaning = min(beds - out_of_service - occupied, rng.randint(0, 2))
        avlos = 5.0 if icu else 3.9
        leaving = sum(rng.random() < 1 / avlos for _ in range(occupied))
        deaths = sum(rng.random() < (0.12 if icu else 0.025) for _ in range(leaving))
        los = sum(max(1, round(rng.gammavariate(2.4, avlos / 2.4))) for _ in range(leaving))
        deaths_48h = sum(rng.random() < 0.65 for _ in range(deaths))
        admissions = max(0, leaving + rng.randint(-2, 2))
        available = beds - out_of_service - occupied - cleaning
        moves = (rng.randint(0, 1), rng.randint(0, 1))
        return (ward.id, day, beds, occupied, available, cleaning, out_of_service, admissions, *moves,
                leaving - deaths, deaths, los, deaths_48h, self.stamp)  # fmt: skip


def generate(
    site_id: int,
    start: date,
    end: date,
    *,
    lines_target: int,
    seed: int,
    dims: DemoDims,
    claims_target: int | None = None,
) -> Iterator[dict[str, list[tuple]]]:
    """The range's rows, a dict ``{table: [row tuple in COLUMNS[table] order]}`` per day. About ``lines_target``
    charge lines and ``claims_target`` JKN episodes (default 15 % of the lines) over ``start``..``end``; the same
    arguments give the same rows. Invoice and claim ids are local (1, 2, …): ``load`` shifts them."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    claims = claims_target if claims_target is not None else round(lines_target * 0.15)
    episodes_total = claims / 0.8
    generator = _Generator(site_id, end, seed, dims, lines_target / max(1.0, episodes_total))
    shares = dict(EPISODE_MIX)
    total_share = sum(shares.values())
    weights = {kind: [day_weight(d, kind) for d in days] for kind in shares}
    carry = dict.fromkeys(shares, 0.0)
    for n, day in enumerate(days):
        counts = {}
        for kind, share in shares.items():
            expected = episodes_total * share / total_share * weights[kind][n] / sum(weights[kind]) + carry[kind]
            counts[kind] = int(expected)
            carry[kind] = expected - counts[kind]
        yield generator.day(day, counts)


# ------------------------------------------------------------------------------------------------ loading


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _offsets(session: Session) -> dict[str, int]:
    return {
        table: session.scalar(select(func.coalesce(func.max(model.id), 0)))
        for table, model in (("invoice", Invoice), ("bpjs_claim", BpjsClaim))
    }


def _shift(table: str, rows: list[tuple], offsets: dict[str, int]) -> list[tuple]:
    columns = COLUMNS[table]
    moves = [(columns.index("id"), offsets[table])] if table in offsets else []
    moves += [(columns.index(col), offsets[target]) for (tbl, col), target in REFERENCES.items() if tbl == table]
    if not moves:
        return rows
    shifted = []
    for row in rows:
        row = list(row)
        for at, by in moves:
            if row[at] is not None:
                row[at] += by
        shifted.append(tuple(row))
    return shifted


def _chunks(
    batches: Iterable[dict[str, list[tuple]]], offsets: dict[str, int], result: LoadResult, size: int
) -> Iterator[dict[str, list[tuple]]]:
    """The batches regrouped into chunks of about ``size`` rows, ids shifted; counts and days go into ``result``."""
    buffers: dict[str, list[tuple]] = {table: [] for table in TABLES}
    waiting = 0
    day_at = COLUMNS["charge_line"].index("service_date")
    for batch in batches:
        for table in TABLES:
            rows = batch.get(table, [])
            result.rows[table] += len(rows)
            buffers[table].extend(_shift(table, rows, offsets))
            waiting += len(rows)
        days = [line[day_at] for line in batch.get("charge_line", ())]
        if days:
            result.first_day = min(days) if result.first_day is None else min(result.first_day, *days)
            result.last_day = max(days) if result.last_day is None else max(result.last_day, *days)
        if waiting >= size:
            yield buffers
            buffers, waiting = {table: [] for table in TABLES}, 0
    yield buffers


def _copy_texts(chunks: Iterator[dict[str, list[tuple]]], out: queue.Queue, stop: threading.Event) -> None:
    """Producer: each chunk as COPY text per table, put on ``out``; then ``None`` (or the error raised)."""

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    try:
        for chunk in chunks:
            put([(t, "".join("\t".join(map(_copy_value, r)) + "\n" for r in chunk[t])) for t in TABLES if chunk[t]])
    except BaseException as error:  # handed to the loading thread, which raises it
        put(error)
        return
    put(None)


def _load_postgres(session: Session, chunks: Iterator[dict[str, list[tuple]]]) -> None:
    """COPY the chunks; they are generated and formatted in a second thread meanwhile, so Python and the
    database server work at the same time."""
    from psycopg2 import sql

    texts: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    producer = threading.Thread(target=_copy_texts, args=(chunks, texts, stop), name="finance-demo-copy", daemon=True)
    producer.start()
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        while (item := texts.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            for table, text in item:
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table]))
                )
                cursor.copy_expert(statement.as_string(cursor.connection), io.StringIO(text), size=COPY_READ)
        for table in ("invoice", "bpjs_claim"):  # the next ids continue after the loaded ones
            last = func.coalesce(func.max(_MODELS[table].id), 1)
            session.execute(select(func.setval(func.pg_get_serial_sequence(table, "id"), last)))
    finally:
        stop.set()
        cursor.close()
        producer.join()


def _load_sqlite(session: Session, chunks: Iterator[dict[str, list[tuple]]]) -> None:
    for chunk in chunks:
        for table in TABLES:
            if chunk[table]:
                columns = COLUMNS[table]
                rows = [dict(zip(columns, row, strict=True)) for row in chunk[table]]
                session.execute(_MODELS[table].__table__.insert(), rows)


def load(
    session: Session, site_id: int, batches: Iterable[dict[str, list[tuple]]], *, chunk: int = 50_000
) -> LoadResult:
    """Write generated rows (PostgreSQL ``COPY``, SQLite ``executemany``) in the caller's transaction, then
    rebuild the ``charge_daily`` rollup over the lines' days. Returns the counts and the days covered."""
    result = LoadResult(rows=dict.fromkeys(TABLES, 0))
    chunks = _chunks(batches, _offsets(session), result, chunk)
    if session.get_bind().dialect.name == "postgresql":
        _load_postgres(session, chunks)
    else:
        _load_sqlite(session, chunks)
    if result.first_day is not None:
        result.rollup_rows = rebuild_daily(session, site_id, result.first_day, result.last_day)
    return result


# ------------------------------------------------------------------------------------------------ embedded demo


def last_demo_day(session: Session, site_id: int) -> date | None:
    """The last day with generated demo lines, or ``None``."""
    return session.scalar(
        select(func.max(ChargeLine.service_date)).where(
            ChargeLine.site_id == site_id,
            ChargeLine.source == "import",
            ChargeLine.source_id.startswith(DEMO_SOURCE_PREFIX),
        )
    )


def load_demo_slice(runtime: Runtime, site_id: int, today: date, *, days: int = SLICE_DAYS,
                    lines: int = SLICE_LINES) -> int:  # fmt: skip
    """The embedded demo's finance data: the last ``days`` days up to ``today`` (about ``lines`` charge lines)
    on the site's own wards, polis and doctors. Idempotent: when demo lines exist only the days after the last
    one are added (nothing on the same day). Returns the lines written."""
    with runtime.db.session(write_lock=True) as session:
        start = today - timedelta(days=days - 1)
        last = last_demo_day(session, site_id)
        if last is not None:
            start = max(start, last + timedelta(days=1))
        if start > today:
            return 0
        share = lines * ((today - start).days + 1) // days
        dims = existing_dims(session, site_id)
        seed = SLICE_SEED + start.toordinal()
        result = load(session, site_id, generate(site_id, start, today, lines_target=share, seed=seed, dims=dims))
    log.info("finance demo: %d charge lines and %d claims from %s", result.rows["charge_line"],
             result.rows["bpjs_claim"], start)  # fmt: skip
    return result.rows["charge_line"]


def start_demo_slice(runtime: Runtime) -> threading.Thread:
    """Load the demo slice in a background thread (the app serves meanwhile); errors are logged."""

    def run() -> None:
        try:
            with runtime.db.session() as session:
                site_id = session.scalar(select(Site.id).where(Site.code == runtime.settings.site_code))
                today = local_today(session, site_id) if site_id is not None else None
            if site_id is not None:
                load_demo_slice(runtime, site_id, today)
        except Exception:
            log.warning("finance demo: the demo slice could not be loaded", exc_info=True)

    thread = threading.Thread(target=run, name="finance-demo", daemon=True)
    thread.start()
    return thread
