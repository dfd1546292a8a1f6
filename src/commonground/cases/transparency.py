"""The public record of the rules and the linkage (issue #16): an Algorithmic Transparency Recording Standard (ATRS)
record generated from what runs, so that it changes when a rule pack, the linkage model or an agreement changes.

The record follows the ATRS's two tiers (the Central Digital and Data Office's standard for public-sector
algorithmic tools): tier 1, a short description for the public; tier 2, the detail (owner and responsibility,
description and rationale, decision-making process, tool specification, data, risks and mitigations, impact
assessments). The software fills what it knows — the rules with their citations, owners, review dates and legal
bases; the linkage model and its threshold; the partners, feeds and purposes of the agreements in force; how a flag
reaches a person who acts — and names, as ``to_complete``, what only the partnership can write (its contact, its
senior responsible owner, its DPIA reference). ``TIER_1`` and ``TIER_2`` are the field lists a test checks.

Nothing in it is about a person: it is public, and served without signing in (``/transparency``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonground.access.agreements import in_force
from commonground.access.models import Agreement
from commonground.access.purposes import Purpose
from commonground.contracts import FEEDS
from commonground.linkage.spec import default_spec
from commonground.rules.packs import default_rules
from commonground.store.models import Organisation

TO_COMPLETE = "to complete by the partnership"
TIER_1 = ("name", "description", "website", "contact_email", "organisation", "function", "phase")
TIER_2 = (
    "owner_and_responsibility",
    "description_and_rationale",
    "decision_making_process",
    "tool_specification",
    "data_specification",
    "risks_and_mitigations",
    "impact_assessments",
)


def atrs_record(session: Session, *, now: dt.datetime) -> dict[str, Any]:
    """The record as data (JSON-ready), with a ``version`` that changes whenever what it describes changes."""
    rules = default_rules()
    spec = default_spec()
    agreements = [a for a in session.scalars(select(Agreement).order_by(Agreement.reference)) if in_force(a, at=now)]
    organisations = {o.id: o for o in session.scalars(select(Organisation))}
    rule_rows = [
        {
            "id": rule.id,
            "version": rule.version,
            "title": rule.title,
            "what_it_does": rule.description,
            "produces": rule.produces.value,
            "rests_on": rule.citation,
            "owner": rule.owner,
            "review_by": rule.review_by.isoformat(),
            "legal_basis": rule.legal_basis,
            "purpose": rule.purpose,
            "feeds": list(rule.feeds),
        }
        for rule in rules.rules
    ]
    threshold = getattr(spec, "threshold_match_probability", None)
    sharing = [
        {  # no agreement reference: an agreement's own page is its organisation's and the DPO's
            "organisation": organisations[a.organisation_id].name if a.organisation_id in organisations else "",
            "feeds": [FEEDS[f].title if f in FEEDS else f for f in a.feeds],
            "purposes": [Purpose(p).description for p in a.purposes],
            "lawful_basis": a.lawful_basis,
            "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        }
        for a in agreements
    ]
    body: dict[str, Any] = {
        "tier_1": {
            "name": "commonground: linked safeguarding records and early-help flags",
            "description": (
                "Partners' records of the same person and household (police, NHS, children's social care, schools, "
                "drug and alcohol services) are linked, and published rules raise flags where the records together "
                "show a child or adult may be at risk. Each flag goes to the partner who can act, with a deadline "
                "and the records that raised it; a practitioner decides what to do. No decision about a person is "
                "made by the tool."
            ),
            "website": TO_COMPLETE,
            "contact_email": TO_COMPLETE,
            "organisation": sorted({s["organisation"] for s in sharing}) or TO_COMPLETE,
            "function": "Safeguarding children and adults; early intervention; Operation Encompass notices",
            "phase": TO_COMPLETE,
        },
        "tier_2": {
            "owner_and_responsibility": {
                "senior_responsible_owner": TO_COMPLETE,
                "rule_owners": sorted({r["owner"] for r in rule_rows}),
                "supplier": "Open source (commonground); run by the partnership",
            },
            "description_and_rationale": {
                "scope": "People known to the partner agencies in the partnership's area",
                "benefit": (
                    "A partner sees what other partners' records together show, early, with the evidence; "
                    "statutory notices (Operation Encompass) reach schools before the next school day"
                ),
                "alternatives_considered": TO_COMPLETE,
            },
            "decision_making_process": {
                "how_flags_are_used": (
                    "A flag is a prompt for a practitioner, never a decision: it is routed to one organisation and "
                    "role with a RAG deadline, opened with a stated purpose under a data-sharing agreement, and "
                    "closed with what was done and a coded outcome"
                ),
                "human_review": (
                    "Every flag is read by a practitioner; records linked wrongly can be reported from the person's "
                    "page and are held apart until a second practitioner decides"
                ),
                "appeals_and_review": (
                    "A person can ask what is held about them (subject access) and object; rules are reviewed by "
                    "their owners by the dates below, and closed work shows how often each rule's flags led to a "
                    "real concern"
                ),
                "rules": rule_rows,
            },
            "tool_specification": {
                "linkage_model": {
                    "name": spec.name,
                    "version": spec.version,
                    "method": "Probabilistic record linkage (Fellegi-Sunter, Splink), trained without labels",
                    "description": spec.description,
                    "compares": [c.title for c in spec.comparisons],
                    "threshold_match_probability": threshold,
                },
                "rules_engine": (
                    "Declarative rule packs compiled to SQL; each flag kept with the records that raised it"
                ),
            },
            "data_specification": {
                "sharing_agreements_in_force": sharing,
                "feeds": sorted({f for rule in rules.rules for f in rule.feeds}),
            },
            "risks_and_mitigations": [
                "Records of two people linked as one: explained link by link, reportable, held apart until decided",
                "A rule that fires on the wrong people: sensitivity and PPV measured on synthetic areas and in "
                "practice from closed work; rules below a floor are marked for review",
                "Seeing more than needed: every read checked against the agreements, for a stated purpose, and "
                "audited; inferences are shown only from records the reader may open",
                "Unequal effect on groups: flag rates by sex, age, deprivation reported with small numbers hidden",
            ],
            "impact_assessments": {"dpia": TO_COMPLETE, "equality_impact_assessment": TO_COMPLETE},
        },
    }
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return {"standard": "Algorithmic Transparency Recording Standard", "version": fingerprint, **body}
