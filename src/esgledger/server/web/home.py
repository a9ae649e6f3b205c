"""The home page (dashboard) of the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from esgledger.access import Principal
from esgledger.server.deps import PAGES_TAG, PageAllowed, WorkspaceDep
from esgledger.server.web.pages import PageContext, render

__all__ = ["HomePage", "router"]

router = APIRouter(tags=[PAGES_TAG], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class HomePage(PageContext):
    """The dashboard of reporting year ``year``."""

    year: int


@router.get("/")
def home(
    request: Request,
    workspace: WorkspaceDep,
    principal: Annotated[Principal, PageAllowed("session:self")],
) -> Response:
    return render(request, "home.html", HomePage(year=workspace.reporting_year))
