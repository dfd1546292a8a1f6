"""`hub sync` offers the build's review band (#15): every candidate pair the link build wrote becomes a link review
of source "band", audited as offered, and a second sync offers none again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonground.access.audit import verify_audit
from commonground.access.models import AuditEvent
from commonground.cases.demo import seed_partnership
from commonground.cases.link_reviews import LinkReview, LinkReviewSource
from commonground.cases.sync import sync_current_build
from commonground.linkage.builds import require_current_build

MORNING = dt.datetime(2026, 11, 1, 7, 0)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from commonground.ingest import ingest_directory
    from commonground.linkage.pipeline import build_from_store
    from commonground.rules import run_rules
    from commonground.synth import generate

    root = tmp_path_factory.mktemp("band-area")
    generate(people=2000, seed=5, out=root / "area", noise="harsh")
    ingest_directory(source=root / "area", data_dir=root / "data")
    build = build_from_store(data_dir=root / "data")
    run_rules(build_dir=build.path, as_of=MORNING)
    return root / "data"


def test_sync_offers_each_band_pair_once(data_dir: Path, sessions: sessionmaker[Session]) -> None:
    build = require_current_build(data_dir)
    con = duckdb.connect(str(build.path / "build.duckdb"), read_only=True)
    try:
        pairs = {
            tuple(sorted(r)) for r in con.execute("SELECT unique_id_l, unique_id_r FROM review_candidates").fetchall()
        }
    finally:
        con.close()
    assert pairs  # a harsh area has pairs in the band
    with sessions() as db:
        seed_partnership(db, build_path=build.path, password="correct horse battery staple")
        first = sync_current_build(db, data_dir=data_dir)
        db.commit()
    assert first.link_reviews_offered == len(pairs)
    with sessions() as db:
        reviews = list(db.scalars(select(LinkReview)))
        assert {tuple(r.records) for r in reviews} == pairs
        assert {r.source for r in reviews} == {LinkReviewSource.BAND}
        assert all(r.match_probability is not None and r.comparison_levels for r in reviews)
        offered = db.scalars(select(AuditEvent).where(AuditEvent.action == "offer-link-review")).all()
        assert len(offered) == len(pairs)
        again = sync_current_build(db, data_dir=data_dir)
        db.commit()
        assert again.link_reviews_offered == 0
        assert verify_audit(db).ok
