"""What routes receive through FastAPI dependencies: the workspace and who is calling.

:func:`~lightkeeper.web.api.build_api` puts the :class:`Lightkeeper` on ``app.state``;
routes declare ``lk: LK`` and ``who: Who`` (any role) or ``_who: Reader`` (may read), so
a router module holds no state of its own and builds nothing at import.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Header, Request

from lightkeeper.app import Lightkeeper
from lightkeeper.auth import Principal
from lightkeeper.errors import Unauthenticated


def get_lk(request: Request) -> Lightkeeper:
    """The workspace the app was built for."""
    return cast(Lightkeeper, request.app.state.lk)


LK = Annotated[Lightkeeper, Depends(get_lk)]


def principal(
    lk: LK,
    authorization: Annotated[str | None, Header(description="Bearer API token")] = None,
) -> Principal:
    """The caller: a bearer token when one is sent (required with auth on), else the local
    user as admin."""
    token = None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "the Authorization header is not a bearer token",
                hint="send Authorization: Bearer TOKEN",
            )
    return lk.principal(token, use_settings_token=False)


Who = Annotated[Principal, Depends(principal)]


def reader(who: Who) -> Principal:
    """The caller, refused unless its role may read."""
    who.require("read")
    return who


Reader = Annotated[Principal, Depends(reader)]
