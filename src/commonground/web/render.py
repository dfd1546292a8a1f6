"""Rendering a page: the layout's shared context (who is signed in, the navigation, the CSRF token) in one place.

Templates are autoescaped Jinja2. Nothing about a person is ever put in a URL except the pseudonymous person id;
short outcome messages travel as a code (``?done=referred``) that the page turns into words (the table of
codes is gathered from the page modules when the app is built: :func:`commonground.web.pages.done_messages`).
"""

from __future__ import annotations

import datetime as dt
import re
from contextvars import ContextVar
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from commonground.access.actions import ACTIONS
from commonground.access.purposes import Purpose
from commonground.access.roles import ROLE_GRANTS
from commonground.web.deps import Access, demo_clock_moved, settings_of
from commonground.web.idempotency import new_key
from commonground.web.nav import nav_for
from commonground.web.security import csrf_basis, csrf_token

UK = ZoneInfo("Europe/London")


def form_token(request: Request) -> str:
    basis = csrf_basis(request, request.app.state.settings) or ""
    return csrf_token(request.app.state.secret, basis)


_PAGE_TOKEN: ContextVar[str] = ContextVar("cg_page_form_token", default="")


def page_form_token() -> str:
    """The CSRF token of the page being rendered, for the ``csrf()`` macro: a macro imported from macros.html does
    not see the page's variables, so without this its forms went out with an empty token."""
    return _PAGE_TOKEN.get()


def page(
    access: Access,
    template: str,
    *,
    title: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the layout for the signed-in person (or nobody, on public pages)."""
    token = form_token(access.request)
    reset = _PAGE_TOKEN.set(token)
    try:
        body = _render(access, template, title=title, token=token, **context)
    finally:
        _PAGE_TOKEN.reset(reset)
    return HTMLResponse(body, status_code=status)


def _render(access: Access, template: str, *, title: str, token: str, **context: Any) -> str:
    request = access.request
    user = access.user
    done = request.query_params.get("done")
    body: str = request.app.state.templates.get_template(template).render(
        title=title,
        user=user,
        role_label=user.role.label if user else None,
        organisation=user.organisation if user else None,
        nav=nav_for(user.role) if user and not user.must_change_password else [],
        path=request.url.path,
        csrf_token=token,
        done=request.app.state.done_messages.get(done) if done else None,
        error=request.query_params.get("error"),
        granted=ROLE_GRANTS[user.role] if user else frozenset(),
        now=access.now,
        demo_now=access.now if demo_clock_moved(settings_of(request)) else None,
        **context,
    )
    return body


def redirect(url: str, *, done: str | None = None) -> RedirectResponse:
    """After a form: see-other to ``url`` (a path of ours), with a confirmation code."""
    if not url.startswith("/") or url.startswith("//"):
        url = "/"
    if done:  # the code goes in the query, before any #fragment (after it, the browser never sends it)
        path, hash_, fragment = url.partition("#")
        url = path + ("&" if "?" in path else "?") + f"done={done}" + hash_ + fragment
    return RedirectResponse(url, status_code=303)


def local(moment: dt.datetime | None) -> str:
    """A moment as practitioners read it: UK time, '3 Nov 2026, 08:30'."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(UK).strftime("%-d %b %Y, %H:%M")


def local_date(day: dt.date | dt.datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        return local(day).split(",")[0]
    return day.strftime("%-d %b %Y")


def due_words(due: dt.datetime, now: dt.datetime) -> tuple[bool, str]:
    """Whether a deadline has passed, and the time left in words: ``(False, "due in 3 hours")``, ``(True, "overdue
    by 2 days")``. Said apart from a work item's RAG rating, which is its priority, not the time left (#17)."""
    seconds = (due - now).total_seconds()
    words = _duration(abs(seconds))
    return (True, f"overdue by {words}") if seconds < 0 else (False, f"due in {words}")


def time_left(due: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """How urgent a deadline with no rating is (a school's notice), by the time left, and that time in words:
    ('red', 'overdue by 3 hours'). A work item's colour is its rating instead (:func:`due_words` for its time)."""
    seconds = (due - now).total_seconds()
    words = _duration(abs(seconds))
    if seconds < 0:
        return "overdue", f"overdue by {words}"
    if seconds <= 2 * 3600:
        return "red", f"{words} left"
    if seconds <= 8 * 3600:
        return "amber", f"{words} left"
    return "green", f"{words} left"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return f"{days} day{'s' if days != 1 else ''}"


def purpose_label(value: object) -> str:
    """A purpose as people read it ("Safeguarding adults"), from the purpose or its value; anything else as it is
    (an empty value as nothing)."""
    if value is None or value == "":
        return ""
    try:
        return Purpose(str(value)).label
    except ValueError:
        return str(value)


def action_label(name: object, *, capital: bool = True) -> str:
    """An action as people read it ("Find a person"), from its name; an unknown name as it is."""
    act = ACTIONS.get(str(name))
    if act is None:
        return str(name)
    return act.label[:1].upper() + act.label[1:] if capital else act.label


def _in_running_text(purpose: Purpose) -> str:
    label = purpose.label
    return label if purpose is Purpose.OPERATION_ENCOMPASS else label[:1].lower() + label[1:]


_NOT_GRANTED = re.compile(r"is not granted '([a-z-]+)'")
_QUOTED_ACTION = re.compile(r"'([a-z]+(?:-[a-z]+)+)'")
_ACTION_NAME = re.compile(r"(?<![\w-])([a-z]+(?:-[a-z]+)+)(?![\w-])")
_PURPOSE_VALUE = re.compile(r"(?<!\w)(" + "|".join(p.value for p in Purpose) + r")(?!\w)")


def in_words(text: object) -> str:
    """A message for people (a refusal's reason, say) with the action names and purpose values the resolver puts in
    it said in words: "is not granted 'find-person'" reads "may not find a person", "covers safeguarding_adults"
    reads "covers safeguarding adults"."""
    words = "" if text is None else str(text)
    words = _NOT_GRANTED.sub(
        lambda m: f"may not {ACTIONS[m[1]].label}" if m[1] in ACTIONS else m[0],
        words,
    )
    words = _QUOTED_ACTION.sub(lambda m: action_label(m[1], capital=False) if m[1] in ACTIONS else m[0], words)
    words = _ACTION_NAME.sub(lambda m: action_label(m[1], capital=False) if m[1] in ACTIONS else m[0], words)
    return _PURPOSE_VALUE.sub(lambda m: _in_running_text(Purpose(m[1])), words)


def template_globals() -> dict[str, Any]:
    return {
        "local": local,
        "local_date": local_date,
        "time_left": time_left,
        "due_words": due_words,
        "page_form_token": page_form_token,
        "form_idempotency_key": new_key,
        "purpose_label": purpose_label,
        "action_label": action_label,
        "in_words": in_words,
    }
