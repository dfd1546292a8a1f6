"""Idempotency keys on the web: a write sent again with the same key is answered with the first answer.

An API client sends ``Idempotency-Key: <1 to 100 printable characters>`` with a POST, PUT, PATCH or DELETE; a
page's form sends one in the hidden field ``idempotency_key``, made when the form was rendered (:func:`new_key`).
``require`` (:mod:`commonground.web.deps`) claims the key of a signed-in person's write in the request's own
transaction (:mod:`commonground.store.idempotency`), so it is committed with what the write stored or not at all;
a key already claimed is answered from the store (:class:`Replay`) and the route does not run. After the answer,
:class:`IdempotencyAnswers` keeps it for the retry: a redirect (a page's form) or a JSON answer. A refusal or a
mistake (4xx) forgets the key, so the form corrected can be sent again; after a 5xx, or an answer that cannot be
kept, a retry is answered 409 ("already received") rather than done twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commonground.store.idempotency import (
    MAX_BODY,
    IdempotencyKey,
    claim_key,
    find_key,
    forget_key,
    keep_answer,
    valid_key,
)

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
STATE = "idempotency"

log = logging.getLogger("commonground.web")


def new_key() -> str:
    """A fresh key for a form, rendered into its hidden field."""
    return secrets.token_urlsafe(18)


class Replay(Exception):
    """The answer of a write already done with this key: the app's handler sends it again."""

    def __init__(self, status: int, *, location: str | None, media_type: str | None, body: str | None) -> None:
        super().__init__("replayed")
        self.status = status
        self.location = location
        self.media_type = media_type
        self.body = body


class KeyProblem(Exception):
    """A key that cannot be used: malformed (400), used for another request (422), or in flight (409)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def key_of(request: Request) -> str | None:
    """The request's idempotency key: the header, else a form's hidden field; None when it sends none."""
    key = request.headers.get(HEADER)
    if key is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(FORM_FIELD)
        key = value if isinstance(value, str) and value else None
    return key


async def claim(request: Request, db: Session, *, user_id: int, now: dt.datetime) -> None:
    """Claim the request's key, if it sends one, in the session's transaction; raise :class:`Replay` when the key
    was used before by the same account, :class:`KeyProblem` when it cannot be used."""
    key = await key_of(request)
    if key is None:
        return
    if not valid_key(key):
        raise KeyProblem(400, "an Idempotency-Key is 1 to 100 printable characters, without spaces")
    what = f"{request.method} {request.url.path}"
    found: IdempotencyKey | None = find_key(db, user_id=user_id, key=key)  # one keyed read, no lock
    if found is not None:
        if found.request != what[:300]:
            raise KeyProblem(422, "that Idempotency-Key was used for another request; send a new one")
        if found.status is None:
            raise KeyProblem(409, "that request was received already; reload to see whether it was done")
        raise Replay(found.status, location=found.location, media_type=found.media_type, body=found.body)
    claim_key(db, user_id=user_id, key=key, request=what, now=now)
    request.state.idempotency = (user_id, key)


class IdempotencyAnswers:
    """Keeps the answer of a write whose key was claimed, once it is sent, for a retry with the same key."""

    def __init__(self, app: ASGIApp, *, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        answer: dict[str, Any] = {"status": 500, "headers": {}, "body": bytearray(), "whole": True}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message["headers"]}
            elif message["type"] == "http.response.body" and answer["whole"]:
                answer["body"] += message.get("body", b"")
                if len(answer["body"]) > MAX_BODY:
                    answer["whole"], answer["body"] = False, bytearray()
            await send(message)

        await self.app(scope, receive, capture)
        claimed = scope.get("state", {}).get(STATE)
        if claimed is not None:
            try:
                await run_in_threadpool(self._keep, claimed, answer)
            except Exception:  # the answer is sent; a retry is then answered "already received"
                log.warning("the answer of an idempotent write could not be kept", exc_info=True)

    def _keep(self, claimed: tuple[int, str], answer: dict[str, Any]) -> None:
        user_id, key = claimed
        status: int = answer["status"]
        media_type = answer["headers"].get("content-type")
        with self.sessions() as db:
            if 400 <= status < 500:
                forget_key(db, user_id=user_id, key=key)
            elif 300 <= status < 400:
                location = answer["headers"].get("location")
                keep_answer(db, user_id=user_id, key=key, status=status, location=location, media_type=None, body=None)
            elif 200 <= status < 300 and answer["whole"] and (media_type or "").startswith("application/json"):
                body = bytes(answer["body"]).decode("utf-8")
                keep_answer(
                    db, user_id=user_id, key=key, status=status, location=None, media_type=media_type, body=body
                )
            else:
                return
            db.commit()
