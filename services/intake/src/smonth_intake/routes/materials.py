"""/v1/materials: good practices, videos and pictures, each with its file."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import forms, handlers
from smonth_intake.blobs import BlobStore
from smonth_intake.config import IntakeSettings
from smonth_intake.models import MaterialSubmission
from smonth_intake.routes import Accept, IdempotencyKey, request_body, resource_router, with_file
from smonth_shared.auth import Principal, forbid_other_unit, requires
from smonth_shared.openapi import problem_responses


def router(
    accept: Accept, deps: Callable[[], handlers.Deps], settings: IntakeSettings, store: BlobStore
) -> APIRouter:
    api = resource_router()
    unit_or_admin = requires(accept.runtime.verifier, "unit", "admin")

    @api.post("/materials", status_code=202, tags=["units"],
              responses=problem_responses(400, 409, 413, 415),
              max_body_size=forms.upload_limit(settings.max_upload_bytes),
              summary="Send a good practice, a video or a picture (multipart form)",
              openapi_extra=request_body(("multipart/form-data",
                                          with_file(MaterialSubmission.model_json_schema()))))  # fmt: skip
    async def submit_material(
        request: Request, principal: Annotated[Principal, Depends(unit_or_admin)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        limit = settings.max_upload_bytes
        async with forms.submission(request, MaterialSubmission, file_limit=limit) as (
            material, upload,
        ):  # fmt: skip
            # Checked before the file is kept, so that nobody fills the store for another unit.
            forbid_other_unit(principal, material.unit)
            file = upload and await forms.keep_file(store, upload, material.kind, limit)
        body = {**material.model_dump(mode="json"), "file": file and file.sha256}
        return await accept(
            request, principal.sub, idempotency_key, lambda: body,
            lambda conn: handlers.submit_material(
                conn, deps(), material, file=file, principal=principal),
        )  # fmt: skip

    return api
