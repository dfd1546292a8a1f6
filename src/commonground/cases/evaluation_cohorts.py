"""Cohorts for evaluating a local intervention taken from the hub's own casework: the people referred to one partner
whose referrals were closed with an outcome in a date range, each from the day the referral was sent. Only
pseudonymous person ids and dates leave here, for :mod:`commonground.whatworks.evaluations`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from commonground.access.actions import SubjectKind
from commonground.access.context import Context
from commonground.access.resolver import Subject
from commonground.cases.referrals import Referral, ReferralStatus

UK = ZoneInfo("Europe/London")


def closed_referral_pairs(
    ctx: Context, *, organisation_id: int, closed_from: dt.date, closed_to: dt.date
) -> list[tuple[str, dt.date]]:
    """(person id, UK day sent) of the referrals to one partner closed with an outcome between two UK days
    (inclusive)."""
    ctx.require("run-evaluation", Subject(kind=SubjectKind.EVALUATION))
    start = dt.datetime.combine(closed_from, dt.time.min, tzinfo=UK)
    end = dt.datetime.combine(closed_to + dt.timedelta(days=1), dt.time.min, tzinfo=UK)
    rows = ctx.db.execute(
        select(Referral.person_id, Referral.created_at).where(
            Referral.to_organisation_id == organisation_id,
            Referral.status == ReferralStatus.CLOSED,
            Referral.outcome.is_not(None),
            Referral.closed_at >= start,
            Referral.closed_at < end,
        )
    ).all()
    return [(str(person_id), _uk_day(created)) for person_id, created in rows]


def _uk_day(moment: dt.datetime) -> dt.date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(UK).date()
