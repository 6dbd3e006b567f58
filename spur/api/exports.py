"""File downloads outside GraphQL: the payroll CSV for HR admins.

Authenticated as the GraphQL endpoint is, by an `Authorization: Bearer`
access token; refusals are JSON bodies with the same stable codes.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spur.api.auth import bearer_token, load_viewer
from spur.api.context import Viewer
from spur.api.errors import BadUserInput, ErrorCode, Unauthenticated
from spur.api.services import Services
from spur.resolvers.payroll import payroll_csv

logger = logging.getLogger(__name__)


async def payroll_export(request: Request) -> Response:
    """`GET /exports/payroll/{YYYY-MM}.csv`: one row per member with cash.

    401 without a valid token, 403 for any role but HR admin, 400 for a
    malformed month.
    """
    viewer = await _viewer(request)
    if isinstance(viewer, Response):
        return viewer
    if not viewer.is_hr_admin:
        return _refusal(403, ErrorCode.FORBIDDEN, "Only HR admins export payroll.")

    month = request.path_params["month"]
    try:
        text = await payroll_csv(viewer, month)
    except BadUserInput as error:
        return _refusal(400, error.code, error.message)

    logger.info("member %s exported payroll %s", viewer.member_id, month)
    return Response(
        text,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="payroll-{month}.csv"',
            "Cache-Control": "no-store",
        },
    )


async def _viewer(request: Request) -> Viewer | Response:
    """The viewer of the request's access token, or the 401 to answer."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return _refusal(401, ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
    services: Services = request.app.state.services
    try:
        return await load_viewer(services.tokens.decode_access(token))
    except Unauthenticated as error:
        return _refusal(401, error.code, error.message)


def _refusal(status: int, code: ErrorCode, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": str(code), "message": message}},
        status_code=status,
        headers=headers,
    )
