"""The bed page's header: the patient's age and day of stay by the site's calendar, not the server's."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

from sqlalchemy import select

from data.models import Admission, Bed, BedOccupancy, Patient
from tests.test_access_control import router_request

# 00:30 WIB on 8 December is still 7 December on a server that keeps UTC (a container's default).
NOW = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)


def test_the_header_counts_a_newborns_age_and_the_stay_by_the_sites_day(any_app, login, monkeypatch):
    with any_app.runtime.db.session() as s, s.begin():
        bed_id = s.scalar(select(Bed.id).where(Bed.code == "ICU-03"))
        admission = s.scalar(
            select(Admission)
            .join(BedOccupancy, BedOccupancy.admission_id == Admission.id)
            .where(BedOccupancy.bed_id == bed_id, BedOccupancy.until.is_(None))
        )
        admission.admitted_at = datetime(2026, 12, 6, 16, 45, tzinfo=UTC)  # 23:45 WIB on the 6th
        s.get(Patient, admission.patient_id).birth_date = date(2026, 11, 26)
    monkeypatch.setattr(sys.modules["pages.bed"], "utcnow", lambda: NOW)  # Dash imports it as the app starts

    answer = login("nurse").post("/_dash-update-component", json=router_request("/bed/ICU-03"))

    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert " · 12 hr" in text  # born on the 26th: 12 days old on the 8th (11 by the server's UTC day), not "0 th"
    assert "hari rawat ke-3" in text  # the 6th, 7th and 8th (the 2nd day by UTC's calendar)
