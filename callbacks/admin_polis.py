"""Admin polis: the setup form of ``/admin/poli`` through ``data.setup_polis``."""

from __future__ import annotations

from collections.abc import Sequence

from dash.development.base_component import Component

from callbacks.setup_crud import SetupCrud, register_setup_crud
from components.setup_form import rows_table
from data import setup_polis
from i18n.web import t
from pages.admin_polis import Ids

PAGE = "pages.admin_polis"
FORM_FIELDS = ("code", "name", "queue_prefix", "bpjs_code", "board_group", "default_service_minutes")


def _table(rows: Sequence[setup_polis.PoliRow]) -> Component:
    return rows_table(
        "setup-poli-grid",
        [
            t("setup_code"),
            t("setup_name"),
            t("setup_queue_prefix"),
            t("setup_bpjs_poli"),
            t("setup_board_group"),
            t("setup_service_minutes"),
            t("setup_state"),
        ],
        [
            (
                p.code,
                p.name,
                p.queue_prefix,
                p.bpjs_code or "—",
                p.board_group,
                p.default_service_minutes,
                t("setup_active") if p.active else t("setup_retired_state"),
            )
            for p in rows
        ],
        [not p.active for p in rows],
    )


register_setup_crud(
    SetupCrud(
        page=PAGE,
        ids=Ids.POLI,
        fields=FORM_FIELDS,
        refresh=Ids.REFRESH,
        rows=setup_polis.list_polis,
        label=lambda p: f"{p.code} — {p.name}",
        values=lambda p: {
            "code": p.code,
            "name": p.name,
            "queue_prefix": p.queue_prefix,
            "bpjs_code": p.bpjs_code or "",
            "board_group": p.board_group,
            "default_service_minutes": str(p.default_service_minutes),
        },
        table=_table,
        create=setup_polis.create_poli,
        update=setup_polis.update_poli,
        retire=setup_polis.retire_poli,
        locked_on_edit=("code",),
    )
)
