"""Under each field where a date is typed day first (components/typed_date.py), the date as read, in words: said
in the browser as it is typed, no request to the server."""

from __future__ import annotations

from dash import Input, Output

from callbacks.registry import clientside_callback
from components.patient_record import Ids as RecordIds
from components.typed_date import TYPED_DATE_WORDS, words_id
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
)

for field in TYPED_DATE_FIELDS:
    clientside_callback(TYPED_DATE_WORDS, Output(words_id(field), "children"), Input(field, "value"))
