"""Every model module of the operational store, for Alembic and for tests that need the whole schema.

This is the one place below the web that imports every layer (access, cases, what works): only the migrations
and the tests import it, so the store's own code stays at the bottom. A new module with tables is added here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from commonground.access import models as access_models
from commonground.cases import (
    link_reviews,
    notes,
    notice_corrections,
    notices,
    outbox,
    referrals,
    rule_packs,
    triage,
    withdrawals,
    work_items,
)
from commonground.store import idempotency
from commonground.store import models as store_models
from commonground.store.db import Base
from commonground.whatworks import models as whatworks_models

MODEL_MODULES = (
    store_models,
    access_models,
    idempotency,
    work_items,
    link_reviews,
    notes,
    notices,
    notice_corrections,
    withdrawals,
    outbox,
    referrals,
    rule_packs,
    triage,
    whatworks_models,
)


def all_metadata() -> MetaData:
    """The metadata of the whole operational store (every module of :data:`MODEL_MODULES` is imported)."""
    return Base.metadata
