"""Under each field where a date is typed day first (components/typed_date.py) or a time on the 24-hour clock
(components/typed_time.py), the value as read, in words: said in the browser as it is typed, no request to the
server."""

from __future__ import annotations

from dash import Input, Output

from callbacks.registry import clientside_callback
from components.claims import Ids as ClaimIds
from components.patient_record import Ids as RecordIds
from components.typed_date import TYPED_DATE_WORDS
from components.typed_field import words_id
from components.typed_time import TYPED_TIME_WORDS
from pages.admin_schedule import Ids as ScheduleIds
from pages.admin_tariffs import Ids as TariffIds
from pages.doctor_leave import Ids as LeaveIds
from pages.inpatient import Ids as InpatientIds
from pages.patients import Ids as PatientsIds
from pages.registration import Ids as RegistrationIds

TYPED_DATE_FIELDS = (
    RegistrationIds.SEARCH_BIRTH,
    RegistrationIds.new_field("birth"),
    PatientsIds.SEARCH_BIRTH,
    RecordIds.field("birth_date"),
    InpatientIds.SEARCH_BIRTH,
    InpatientIds.DIED_DATE,
    LeaveIds.field("first_day"),
    LeaveIds.field("last_day"),
    ScheduleIds.field("valid_from"),
    ScheduleIds.field("valid_until"),
    ScheduleIds.HOLIDAY_DAY,
    TariffIds.FILTER_AT,
    TariffIds.FORM.field("valid_from"),
    TariffIds.FORM.field("valid_until"),
    ClaimIds.FROM,
    ClaimIds.UNTIL,
    ClaimIds.MOVE_ON,
)

TYPED_TIME_FIELDS = (
    InpatientIds.DIED_TIME,
    ScheduleIds.field("start"),
    ScheduleIds.field("end"),
)

for fields, words in ((TYPED_DATE_FIELDS, TYPED_DATE_WORDS), (TYPED_TIME_FIELDS, TYPED_TIME_WORDS)):
    for field in fields:
        clientside_callback(words, Output(words_id(field), "children"), Input(field, "value"))
