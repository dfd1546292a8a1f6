"""Records in words: each feed's record as a line on a timeline, its codes turned into their meanings.

The words come from the feed contracts' code lists (:mod:`commonground.contracts.codes`), so a page says
"Domestic incident (domestic abuse; a child was present)" where the extract says ``domestic``/``domestic_abuse``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commonground.cases.person_view import EVENT_MOMENT, Event
from commonground.contracts import FEEDS, codes

FEED_AGENCY: dict[str, str] = {
    "police_incident_persons": "Police",
    "custody_records": "Police custody",
    "missing_episodes": "Police (missing persons)",
    "street_triage": "Street triage (mental health)",
    "ed_attendances": "Emergency department",
    "mental_health_contacts": "Mental-health services",
    "substance_treatment": "Drug and alcohol service",
    "childrens_social_care": "Children's social care",
    "custodial_sentences": "Prison service",
    "school_roll": "School",
}

_MEANINGS: dict[tuple[str, ...], dict[str, str]] = {
    tuple(value): value for name, value in vars(codes).items() if name.endswith("_MEANINGS") and isinstance(value, dict)
}


def _meanings_for(feed: str, column: str) -> dict[str, str] | None:
    contract = FEEDS.get(feed)
    if contract is None:
        return None
    for col in contract.columns:
        if col.name == column and col.values:
            return _MEANINGS.get(tuple(col.values))
    return None


def meaning(feed: str, column: str, value: Any) -> str:
    """A coded value in words (a list of codes joined with '; '); other values as they are."""
    if value is None or value == "":
        return ""
    if feed == "police_incident_persons" and column in {"category", "qualifiers"}:
        feed = "police_incidents"
    table = _meanings_for(feed, column)
    if isinstance(value, list):
        return "; ".join(table.get(str(v), str(v)) if table else str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return table.get(str(value), str(value)) if table else str(value)


def agency(feed: str) -> str:
    return FEED_AGENCY.get(feed, FEEDS[feed].title if feed in FEEDS else feed)


def _incident(d: dict[str, Any]) -> str:
    f = "police_incident_persons"
    what = meaning(f, "category", d.get("category")) or "Police incident"
    quals = meaning(f, "qualifiers", d.get("qualifiers"))
    role = meaning(f, "role", d.get("role")).split(" (")[0].lower()
    return f"{what}{f' ({quals.lower()})' if quals else ''}: recorded as {role}"


def _ed(d: dict[str, Any]) -> str:
    intent = meaning("ed_attendances", "injury_intent", d.get("injury_intent"))
    return f"Emergency-department attendance{f': {intent.lower()}' if intent else ''}"


def _mental_health(d: dict[str, Any]) -> str:
    f = "mental_health_contacts"
    section = meaning(f, "mha_section", d.get("mha_section"))
    return f"Seen by {meaning(f, 'service', d.get('service')).lower()}{f' ({section})' if section else ''}"


def _social_care(d: dict[str, Any]) -> str:
    plan = meaning("childrens_social_care", "cp_plan_category", d.get("cp_plan_category"))
    return "Referral to children's social care" + (f"; child protection plan: {plan.lower()}" if plan else "")


HEADLINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "police_incident_persons": _incident,
    "custody_records": lambda d: (
        "Arrested: "
        + (meaning("custody_records", "offence_group", d.get("offence_group")).lower() or "offence not recorded")
    ),
    "missing_episodes": lambda d: (
        "Reported missing ("
        + (meaning("missing_episodes", "risk_level", d.get("risk_level")).lower() or "risk not recorded")
        + ")"
    ),
    "street_triage": lambda d: (
        f"Street-triage contact: {meaning('street_triage', 'outcome', d.get('outcome')).lower()}"
    ),
    "ed_attendances": _ed,
    "mental_health_contacts": _mental_health,
    "substance_treatment": lambda d: (
        "Started drug and alcohol treatment: " + meaning("substance_treatment", "substance", d.get("substance")).lower()
    ),
    "childrens_social_care": _social_care,
    "custodial_sentences": lambda d: "Received into prison" + (" on remand" if d.get("remand") else " under sentence"),
    "school_roll": lambda d: (
        f"On the roll of school {d.get('school_urn')} ({meaning('school_roll', 'year_group', d.get('year_group'))})"
    ),
}
"""One line saying what happened, per feed."""


def headline(event: Event) -> str:
    """One line saying what happened."""
    make = HEADLINES.get(event.feed)
    return make(event.data) if make else agency(event.feed)


SKIP_DETAIL = {"occurred_at", "incident_id", "postcode"}


def _short(description: str) -> str:
    """A column's description cut to its first clause: 'Vulnerabilities recorded at booking-in'."""
    for stop in (". ", ";", ", '", " (", "."):
        description = description.split(stop)[0]
    return description


def details(event: Event) -> list[tuple[str, str]]:
    """The record's other fields, as (what, value in words), leaving out blanks and the headline's."""
    contract = FEEDS.get(event.feed)
    titles = {c.name: _short(c.description) for c in contract.columns} if contract else {}
    if event.feed == "police_incident_persons":
        titles.update({c.name: _short(c.description) for c in FEEDS["police_incidents"].columns})
    skip = SKIP_DETAIL | {EVENT_MOMENT.get(event.feed, "")}
    out = []
    for key, value in event.data.items():
        if key in skip or value in (None, "", []):
            continue
        out.append((titles.get(key, key.replace("_", " ")), meaning(event.feed, key, value)))
    return out
