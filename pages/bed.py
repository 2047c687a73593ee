"""Bed detail: live numerics, trends 1 h – 7 d, NEWS2 over time, alarm history, limits, the nurse's observation
form and the patient's SpO2 scale."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.bed_tile import bed_tile
from components.chart_theme import blank_figure
from components.graph_config import graph_config
from components.limits_editor import limits_editor
from components.local_time import local_when
from components.obstetric_card import obstetric_card
from components.spo2_scale_card import spo2_scale_card
from components.trend_figures import NEWS2_HEIGHT, TREND_HEIGHT
from components.ward_live import alarm_list, connection_state, live_grid
from data.admissions import current_admission
from data.alarm_limits import limits_view
from data.cuff_readings import CuffReading, carried_cuff_readings
from data.models import Admission
from data.patients import read_patient
from data.runtime import current_runtime
from data.schedules import site_zone
from data.spo2_scale import ScaleOrder, last_order
from data.trends import RANGES
from data.wards import BedView, bed_by_code
from domain.age_range import age_shown
from domain.clock import utcnow
from domain.length_of_stay import day_of_stay
from domain.news2 import OBSTETRIC_ROLES
from domain.spo2_scale import may_prescribe
from i18n.web import t

dash.register_page(
    __name__,
    path_template="/bed/<bed>",
    path="/bed",
    name_key="nav_bed",
    title="Bed · Pantau",
    roles=["nurse", "doctor", "admin"],
    order=11,
    nav=False,
)


class Ids:
    """Component ids shared with callbacks/bed.py."""

    CODE = "bed-code"
    ADMISSION = "bed-admission"  # the stay the page was drawn for: nothing on it is saved for the next patient
    VERSION = "bed-version"
    RANGE = "bed-range"
    TREND = "bed-trend"
    NEWS2 = "bed-news2"
    ALARM_HISTORY = "bed-alarm-history"
    OBS_SUBMIT = "obs-submit"
    OBS_FEEDBACK = "obs-feedback"

    @staticmethod
    def obs_field(name: str) -> str:
        """The input of an observation field (``on_oxygen``, ``consciousness``, ``hr`` …)."""
        return f"obs-{name}"

    @staticmethod
    def obs_field_error(name: str) -> str:
        """The message beside an observation field."""
        return f"obs-{name}-error"


ACVPU_KEYS = ("A", "C", "V", "P", "U")
MANUAL_FIELDS = (
    ("rr", "vital_rr", "/min"),
    ("spo2", "vital_spo2", "%"),
    ("hr", "vital_hr", "/min"),
    ("sbp", "trend_sbp", "mmHg"),
    ("dbp", "trend_dbp", "mmHg"),
    ("temp", "vital_temp", "°C"),
)


def _age(born: date, today: date) -> str:
    """The patient's age on the site's calendar day: days, then months, then years (a neonate is not "0 th")."""
    n, unit = age_shown(born, today)
    keys = {"days": "bed_age_days", "months": "bed_age_months", "years": "bed_age", "unknown": "bed_age_unknown"}
    return t(keys[unit], n=n)


def _admitted(admission: Admission | None, now: datetime, zone: ZoneInfo) -> html.Span | None:
    """When the patient was admitted and which day of the stay this is (day 1 = the day of admission)."""
    if admission is None:
        return None
    day = day_of_stay(admission.admitted_at, now, zone)
    return html.Span(
        f" · {t('bed_admitted', when=local_when(admission.admitted_at), day=day)}",
        id="bed-admitted",
        className="text-body-secondary",
    )


def _procedures_link(admission: Admission | None) -> dbc.Button | None:
    """Procedures and supporting services of this stay (pages/procedures.py)."""
    if admission is None:
        return None
    return dbc.Button(
        t("proc_link"), href=f"/tindakan?admission={admission.id}", color="link", size="sm", id="bed-procedures-link"
    )


def _header(bed: BedView, admission: Admission | None) -> html.Div:
    procedures = None
    if bed.patient_id is None:
        who = html.Span(t("ward_bed_empty"), className="text-body-secondary")
    else:
        with current_runtime().db.session() as session:
            zone, now = site_zone(session, current_user.site_id), utcnow()
            record = read_patient(
                session,
                current_runtime().cipher,
                bed.patient_id,
                actor_id=current_user.id,
                actor_name=current_user.username,
                purpose="bed_detail",
                fields=(),  # the header shows name, RM, sex and age: no identifier
            )
        who = html.Span(
            [
                html.Strong(record.name, id="bed-patient-name"),
                f" · {record.mrn} · {record.sex} · {_age(record.birth_date, now.astimezone(zone).date())}",
                _admitted(admission, now, zone),
            ]
        )
        procedures = _procedures_link(admission)
    return html.Div(
        [
            html.H1(bed.code, className="h4 mb-0 me-3"),
            who,
            procedures,
            dbc.Button(
                t("bed_back_to_ward"), href=f"/bangsal/{bed.ward}", color="link", size="sm", className="ms-auto"
            ),
        ],
        className="d-flex align-items-center gap-2 mb-2",
    )


def _live(bed: BedView, carried: CuffReading | None) -> html.Div:
    # The same push client as the ward screen, limited to this one bed (assets/ward.js).
    return html.Div(
        [
            live_grid([bed_tile(bed, carried=carried)], bed.ward, single_bed=True),
            html.H2(t("ward_alarms"), className="h6 mt-2"),
            alarm_list(),
            connection_state(),
        ]
    )


def _observation_form(bed: BedView) -> dbc.Card:
    """The nurse's observation set; disabled, with the reason shown, while no patient is in the bed."""
    manual = [
        dbc.Col(
            [
                dbc.Label(f"{t(label)} ({unit})", html_for=Ids.obs_field(name), className="small mb-0"),
                dbc.Input(id=Ids.obs_field(name), inputMode="decimal", maxLength=8, size="sm"),
                dbc.FormFeedback(id=Ids.obs_field_error(name), type="invalid"),
            ],
            xs=4,
        )
        for name, label, unit in MANUAL_FIELDS
    ]
    empty = bed.patient_id is None
    note = dbc.Alert(t("obs_empty_bed"), color="secondary", className="py-2", id="obs-empty-bed") if empty else None
    return dbc.Card(
        [
            dbc.CardHeader(t("obs_title")),
            dbc.CardBody(
                html.Fieldset(
                    [
                        note,
                        dbc.Label(t("obs_oxygen"), className="small mb-0"),
                        dbc.RadioItems(
                            id=Ids.obs_field("on_oxygen"),
                            options=[
                                {"label": t("obs_air"), "value": "no"},
                                {"label": t("obs_oxygen_yes"), "value": "yes"},
                            ],
                            inline=True,
                        ),
                        html.Div(id=Ids.obs_field_error("on_oxygen"), className="invalid-feedback d-block"),
                        dbc.Label(t("obs_acvpu"), className="small mb-0 mt-2"),
                        dbc.RadioItems(
                            id=Ids.obs_field("consciousness"),
                            inline=True,
                            options=[{"label": t(f"acvpu_{k}"), "value": k} for k in ACVPU_KEYS],
                        ),
                        html.Div(id=Ids.obs_field_error("consciousness"), className="invalid-feedback d-block"),
                        dbc.Row(manual, className="g-2 mt-1"),
                        dbc.Button(t("obs_submit"), id=Ids.OBS_SUBMIT, color="primary", className="mt-3"),
                        html.Div(id=Ids.OBS_FEEDBACK, className="mt-2"),
                    ],
                    disabled=empty,
                    id="obs-form",
                )
            ),
        ]
    )


def _graph(graph_id: str, height: int) -> dcc.Graph:
    """A chart drawn by callbacks/bed.py in the theme's colours; blank until then."""
    return dcc.Graph(id=graph_id, figure=blank_figure(height), config=graph_config())


def _limits(bed: BedView) -> dbc.Card:
    with current_runtime().db.session() as session:
        return limits_editor(*limits_view(session, bed.id), occupied=bed.patient_id is not None)


def _spo2_scale(bed: BedView, admission: Admission | None, order: ScaleOrder | None) -> dbc.Card:
    """The patient's SpO2 scale (``components.spo2_scale_card``); a doctor may change it."""
    scale = bed.spo2_scale if admission else None
    return spo2_scale_card(scale, order, may_choose=may_prescribe(current_user.roles))


def _obstetric(admission: Admission | None) -> dbc.Card | None:
    """A woman's pregnancy or the weeks after birth (``components.obstetric_card``); none for a man or an empty
    bed."""
    if admission is None or admission.patient.sex != "P":
        return None
    return obstetric_card(admission.obstetric, may_record=bool(current_user.roles & OBSTETRIC_ROLES))


def layout(bed: str | None = None, **_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        found = bed_by_code(session, current_user.site_id, bed or "")
        occupied = found is not None and found.patient_id is not None
        carried = carried_cuff_readings(session, [found.id], utcnow()) if occupied else {}
        admission = current_admission(session, found.id) if occupied else None
        order = last_order(session, admission.id) if admission else None
        obstetric = _obstetric(admission)
    if found is None:
        return dbc.Alert(t("bed_unknown"), color="warning", id="bed-unknown")
    admission_id = admission.id if admission else None
    return html.Div(
        [
            dcc.Store(id=Ids.CODE, data=found.code),
            dcc.Store(id=Ids.ADMISSION, data=admission_id),
            dcc.Store(id=Ids.VERSION, data=0),
            _header(found, admission),
            dbc.Row(
                [
                    dbc.Col(_live(found, carried.get(found.id)), lg=4),
                    dbc.Col([_observation_form(found), _spo2_scale(found, admission, order), obstetric], lg=4),
                    dbc.Col(
                        dbc.Card([dbc.CardHeader("NEWS2"), _graph(Ids.NEWS2, NEWS2_HEIGHT)]),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        dbc.RadioItems(
                            id=Ids.RANGE,
                            value="1h",
                            inline=True,
                            options=[{"label": t(f"range_{k}"), "value": k} for k in RANGES],
                        )
                    ),
                    _graph(Ids.TREND, TREND_HEIGHT),
                ],
                className="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(dbc.Card([dbc.CardHeader(t("bed_alarm_history")), html.Div(id=Ids.ALARM_HISTORY)]), lg=7),
                    dbc.Col(_limits(found), lg=5),
                ],
                className="g-3",
            ),
        ]
    )
