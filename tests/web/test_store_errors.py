"""A busy store is answered 503 with ``Retry-After`` (try again); any other error of the store is a fault of the
service, answered 500 and never "busy" (#18: a store older than the code, ``no such column``, was told to users as
"too many people are using the service")."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from commonground.web.app import store_busy


def _operational(words: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception(words))


def test_locks_timeouts_and_a_restarting_database_are_busy() -> None:
    for words in (
        "database is locked",
        "canceling statement due to lock timeout",
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused',
        "FATAL: the database system is starting up",
        "server closed the connection unexpectedly",
    ):
        assert store_busy(_operational(words)), words
    assert store_busy(PoolTimeout("QueuePool limit of size 5 overflow 10 reached"))


def test_a_schema_fault_is_not_busy() -> None:
    assert not store_busy(_operational("no such column: work_items.rating"))
    assert not store_busy(_operational('relation "record_shares" does not exist'))


def test_the_answers(app: FastAPI) -> None:
    @app.get("/api/_test/locked")
    def locked() -> None:
        raise _operational("database is locked")

    @app.get("/api/_test/schema")
    def schema() -> None:
        raise _operational("no such column: work_items.rating")

    client = TestClient(app, raise_server_exceptions=False)
    busy = client.get("/api/_test/locked")
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    fault = client.get("/api/_test/schema")
    assert fault.status_code == 500 and "Retry-After" not in fault.headers
    assert "busy" not in fault.text
