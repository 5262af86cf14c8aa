"""Work results (催记): an agency's contacts imported in bulk from its own dialler and spreadsheets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Router
from ninja.files import UploadedFile

from fieldcollect.api.schemas import ERRORS, ResultsImportOut
from fieldcollect.cases.results_import import MAX_BYTES, ImportErrorCode, importing_agency, results_import
from fieldcollect.core.errors import ApplicationError
from fieldcollect.core.models import User

router = Router(tags=["results"])


@router.post(
    "/import", response={200: ResultsImportOut, **ERRORS}, summary="Import work results (CSV or XLSX)"
)
def import_results(request: HttpRequest, file: File[UploadedFile]) -> dict[str, Any]:
    """Import the caller's agency's work results from a CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file
    with exactly the columns ``agency_ref``, ``case_id``, ``collector_id``, ``at``, ``channel``, ``party``,
    ``outcome``, ``connected``, ``conversation``, ``promise_amount_fen``, ``promise_due``, ``notes``.
    Each good row is recorded once (a second import of a row with the same ``agency_ref`` is a
    duplicate); each bad row is refused with its row, column and reason; a contact that broke a
    compliance rule at its time is recorded and counted in ``breaches``. Agency managers only."""
    user: User = request.auth  # type: ignore[attr-defined]
    agency = importing_agency(user)
    if file.size is not None and file.size > MAX_BYTES:
        raise ApplicationError(
            _("The file is too large (at most %(mb)d MB).") % {"mb": MAX_BYTES // 2**20},
            code=ImportErrorCode.TOO_LARGE,
        )
    data = file.read()
    return results_import(
        agency=agency, data=data, filename=file.name or "upload.csv", acting_user=user
    ).as_dict()
