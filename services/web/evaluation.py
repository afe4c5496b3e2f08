"""The monitoring pages: the indicators dashboard (charts, each with its table and CSV) and the
printable JIT evaluation report. Both read ``GET /jits/{jit}/indicators`` with the viewer's own
token, so they show exactly what the API's scoping rule lets that viewer see."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from services.web.backend import Gateway, Reply
from services.web.charts import SUPPRESSED, chart, charts
from services.web.pages import _form, _session, render

router = APIRouter(prefix="/ui", include_in_schema=False)

SECTIONS: tuple[tuple[str, str], ...] = (
    ("composition", "1. Composition of the JIT"),
    ("cooperation", "2. Cooperation between the members"),
    ("information_exchange", "3. Information exchange and evidence"),
    ("operational_results", "4. Operational results"),
    ("victims", "5. Victims"),
    ("lessons", "6. Lessons learnt and recommendations"),
)
"""The report's parts, in the order of the JITs Network's evaluation form."""


def period_of(start: str, end: str) -> tuple[date, date]:
    """The days asked for (``to`` inclusive); default: the last 90 days up to today."""
    try:
        last = date.fromisoformat(end) if end else datetime.now(UTC).date()
    except ValueError:
        last = datetime.now(UTC).date()
    try:
        first = date.fromisoformat(start) if start else last - timedelta(days=89)
    except ValueError:
        first = last - timedelta(days=89)
    return (first, last) if first <= last else (last, first)


def bounds(first: date, last: date) -> dict[str, str]:
    """The API's ``[from, to)`` for whole days, ``to`` inclusive."""
    start = datetime.combine(first, time(0), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    return {"from": start.isoformat(), "to": end.isoformat()}


async def indicators_of(
    gateway: Gateway, jit: str, first: date, last: date, team: str = ""
) -> Reply:
    return await gateway.get(f"/jits/{jit}/indicators", team=team, **bounds(first, last))


@router.get("/jits/{jit}/indicators")
async def indicators_page(
    jit: str, request: Request, start: str = "", end: str = "", team: str = ""
) -> Response:
    """Charts of the JIT's indicators for a period, each with its data table and a CSV."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    first, last = period_of(start, end)
    reply = await indicators_of(gateway, jit, first, last, team)
    report = reply.body if reply.ok else None
    shown = charts(report) if report else []
    return render(
        request,
        "indicators.html",
        viewer,
        jit=jit,
        section="indicators",
        reply=reply,
        report=report,
        charts=shown,
        specs=json.dumps({c.key: c.spec() for c in shown}),
        first=first,
        last=last,
        team=team,
        query=f"start={first}&end={last}" + (f"&team={team}" if team else ""),
        suppressed_mark=SUPPRESSED,
    )


@router.get("/jits/{jit}/indicators/{key}.csv")
async def indicators_csv(
    jit: str, key: str, request: Request, start: str = "", end: str = "", team: str = ""
) -> Response:
    """One chart's data as CSV (the same rows as its table)."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    _, gateway = session
    first, last = period_of(start, end)
    reply = await indicators_of(gateway, jit, first, last, team)
    if not reply.ok:
        return PlainTextResponse(reply.error or "unavailable", status_code=reply.status)
    found = chart(reply.body, key)
    if found is None:
        return PlainTextResponse(f"no chart {key!r}", status_code=404)
    name = f"{jit}-{key}-{first}-{last}.csv"
    return Response(
        found.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/jits/{jit}/evaluation")
async def evaluation_report(jit: str, request: Request, start: str = "", end: str = "") -> Response:
    """The JIT evaluation report for a period: print it to PDF from the browser."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    viewer, gateway = session
    first, last = period_of(start, end)
    reply, notes = await asyncio.gather(
        indicators_of(gateway, jit, first, last),
        gateway.get(f"/jits/{jit}/evaluation/notes", **{"from": str(first), "to": str(last)}),
    )
    written = {n["section"]: n for n in notes.items()} if notes.ok else {}
    return render(
        request,
        "evaluation.html",
        viewer,
        jit=jit,
        section="evaluation",
        reply=reply,
        report=reply.body if reply.ok else None,
        notes=written,
        notes_available=notes.available,
        sections=SECTIONS,
        first=first,
        last=last,
        generated=datetime.now(UTC),
        coordinator="coordinator" in viewer.principal.roles,
        suppressed_mark=SUPPRESSED,
    )


@router.post("/jits/{jit}/evaluation/notes")
async def write_note(jit: str, request: Request) -> Response:
    """The coordinator's text for one part of the report (a command; the page reloads)."""
    session = _session(request, jit)
    if isinstance(session, Response):
        return session
    _, gateway = session
    form = await _form(request)
    first, last = period_of(form.get("start", ""), form.get("end", ""))
    section = form.get("section", "")
    reply = await gateway.call(
        "PUT",
        f"/jits/{jit}/evaluation/notes/{section}",
        json={"from": str(first), "to": str(last), "text": form.get("text", "")},
    )
    target = f"/ui/jits/{jit}/evaluation?start={first}&end={last}"
    if not reply.ok:
        return render(
            request,
            "message.html",
            session[0],
            jit=jit,
            title="The text was not saved",
            message=reply.error or "the gateway refused it",
            status_code=reply.status if reply.available else 501,
        )
    return RedirectResponse(f"{target}#{section}", status_code=303)


def figure(value: Any, suppressed: bool = False) -> str:
    """A number as the report prints it; a suppressed cell as ``< 5``."""
    if value is None:
        return SUPPRESSED if suppressed else "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    if isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)


def duration(value: Any) -> str:
    """Seconds as people read them: ``45 s``, ``12.5 min``, ``3.2 h``, ``2.0 d``."""
    if not isinstance(value, int | float):
        return "—"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    if value < 172800:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


def percent(value: Any) -> str:
    return f"{value * 100:.1f} %" if isinstance(value, int | float) else "—"


def install_filters() -> None:
    from services.web.pages import templates

    templates.env.filters["figure"] = figure
    templates.env.filters["elapsed"] = duration
    templates.env.filters["percent"] = percent


install_filters()
