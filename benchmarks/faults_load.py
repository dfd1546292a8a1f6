"""PostgreSQL stopped and started under load (#18): a private cluster (``initdb``), the hub served on it, clients
reading and writing while the cluster goes away and comes back."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from faults_area import seed_partnership_into
from faults_common import CLI, SECRET, cli_env, current_build, run_cli, wait_until_serving


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if found:
        return found[-1].parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own: ``initdb`` in a temporary folder, on a free port, sockets in that folder;
    as root the server runs as the ``postgres`` user. Never the shared server at 5432."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("no initdb on this machine (looked in /usr/lib/postgresql/*/bin and PATH)")
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="cg-faults-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "cluster"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, user="postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, text=True)

    def start(self) -> float:
        started = time.perf_counter()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=on"
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return time.perf_counter() - started

    def stop(self, mode: str = "immediate") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class LoadFigures:
    cycles: int
    requests: int
    statuses: Counter[str]
    writes_acknowledged: int
    writes_lost: int
    stored_unacknowledged: int
    recovery_seconds: list[float]
    served_after_each_restart: list[bool]
    problems: list[str]


@contextlib.contextmanager
def served_hub(data_dir: Path, url: str) -> Iterator[str]:
    """``commonground serve`` on the store at ``url``, in a process of its own; yields its address."""
    port = free_port()
    env = cli_env(COMMONGROUND_DATABASE_URL=url, COMMONGROUND_SECRET_KEY=SECRET)
    log = (data_dir / "serve.log").open("w")
    server = subprocess.Popen(
        [CLI, "--data-dir", str(data_dir), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, data_dir / "serve.log", seconds=60)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@dataclass(frozen=True)
class Writer:
    cookie: str
    csrf: str
    person_id: str
    purpose: str


def _writer(data_dir: Path, url: str, base: str) -> Writer:
    """A signed-in hub practitioner, and a person they may write a note about (one of the area's busiest)."""
    import httpx
    from sqlalchemy import select

    from commonground.access import accounts
    from commonground.access.models import User
    from commonground.access.roles import Role
    from commonground.store.db import make_engine, session_factory, utcnow
    from commonground.store.settings import HubSettings

    settings = HubSettings(data_dir=data_dir, database_url=url, secret_key=SECRET)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            users = db.scalars(select(User).where(User.role == Role.HUB_PRACTITIONER).order_by(User.id)).all()
            tokens = [accounts.start_session(db, user=u, method="test", settings=settings, now=utcnow()) for u in users]
            db.commit()
    finally:
        engine.dispose()
    build = current_build(data_dir)
    assert build is not None
    con = duckdb.connect(str(build / "build.duckdb"), read_only=True)
    try:
        people = [
            r[0] for r in con.execute("SELECT person_id FROM persons ORDER BY record_count DESC LIMIT 5").fetchall()
        ]
    finally:
        con.close()
    for token in tokens:
        cookie = f"__Host-cg_session={token}"
        csrf = httpx.get(f"{base}/api/me", headers={"Cookie": cookie}, timeout=10).json()["csrf_token"]
        for purpose in ("safeguarding_children", "safeguarding_adults"):
            for person in people:
                probe = httpx.post(
                    f"{base}/people/{person}/notes",
                    data={"csrf_token": csrf, "purpose": purpose, "text": "fault trial probe"},
                    headers={"Cookie": cookie, "Accept": "text/html"},
                    timeout=10,
                )
                if probe.status_code == 303:
                    return Writer(cookie, csrf, person, purpose)
    raise RuntimeError("no hub practitioner may write a note about the area's busiest people")


class Load:
    """Clients reading the queue and writing notes until told to stop; every answer is kept with its time."""

    def __init__(self, base: str, writer: Writer, clients: int) -> None:
        self.base, self.writer, self.clients = base, writer, clients
        self.answers: list[tuple[float, str, str]] = []  # (time, kind, status or error)
        self.acknowledged: set[str] = set()
        self.sent: set[str] = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _client(self, number: int) -> None:
        import httpx

        w = self.writer
        headers = {"Cookie": w.cookie, "Accept": "text/html"}
        queue = f"/api/work-items?purpose={w.purpose}"
        with httpx.Client(base_url=self.base, timeout=15) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                text = f"fault trial note {number}-{n}"
                kind, status = "write", ""
                try:
                    if n % 2:
                        kind = "read"
                        status = str(client.get(queue, headers={"Cookie": w.cookie}).status_code)
                    else:
                        with self.lock:
                            self.sent.add(text)
                        answer = client.post(
                            f"/people/{w.person_id}/notes",
                            data={"csrf_token": w.csrf, "purpose": w.purpose, "text": text},
                            headers=headers,
                        )
                        status = str(answer.status_code)
                        if answer.status_code == 303:
                            with self.lock:
                                self.acknowledged.add(text)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                with self.lock:
                    self.answers.append((time.monotonic(), kind, status))
                if status == "503":
                    time.sleep(0.1)

    def first_success_after(self, moment: float, kind: str = "write") -> float | None:
        with self.lock:
            times = [t for t, k, s in self.answers if t >= moment and k == kind and s in ("200", "303")]
        return min(times) - moment if times else None


def postgres_trials(
    data_dir: Path, *, cycles: int, clients: int = 6, down_seconds: float = 3.0, up_seconds: float = 4.0
) -> LoadFigures:
    """The hub served on a private PostgreSQL cluster; clients read and write while the cluster is stopped
    (``-m immediate``: no goodbye to its clients) and started again, ``cycles`` times, the service never restarted.
    ``data_dir`` holds a build with its rules run (the ``sync`` state)."""
    pg = PrivatePostgres()
    problems: list[str] = []
    try:
        pg.start()
        url = pg.create_database("commonground")
        run_cli(data_dir, "db", "upgrade", env=cli_env(COMMONGROUND_DATABASE_URL=url))
        seed_partnership_into(data_dir, url)
        run_cli(data_dir, "hub", "sync", env=cli_env(COMMONGROUND_DATABASE_URL=url))
        recovery: list[float] = []
        served: list[bool] = []
        with served_hub(data_dir, url) as base:
            writer = _writer(data_dir, url, base)
            with Load(base, writer, clients) as load:
                time.sleep(up_seconds)
                for _ in range(cycles):
                    pg.stop("immediate")
                    time.sleep(down_seconds)
                    pg.start()
                    started = time.monotonic()
                    time.sleep(up_seconds)
                    first = load.first_success_after(started)
                    served.append(first is not None)
                    recovery.append(first if first is not None else float("nan"))
        stored = _stored_notes(url)
    finally:
        pg.close()
    statuses = Counter(s for _, _, s in load.answers)
    lost = load.acknowledged - stored
    unacknowledged = (stored & load.sent) - load.acknowledged
    bad = {s: n for s, n in statuses.items() if s not in ("200", "303", "503")}
    if bad:
        problems.append(f"answers other than 200, 303 and 503: {bad}")
    if lost:
        problems.append(f"{len(lost)} acknowledged notes are not in the store")
    if not all(served):
        problems.append("the service did not answer a write after PostgreSQL came back")
    return LoadFigures(
        cycles,
        len(load.answers),
        statuses,
        len(load.acknowledged),
        len(lost),
        len(unacknowledged),
        recovery,
        served,
        problems,
    )


def _stored_notes(url: str) -> set[str]:
    from sqlalchemy import select

    from commonground.cases.notes import Note
    from commonground.store.db import make_engine, session_factory

    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            return set(db.scalars(select(Note.text)))
    finally:
        engine.dispose()
