"""Recall by kind of error (#15): among the true pairs with at least one record carrying an error, the share the
clusters keep together, from a literal truth table and the truth files a harsh synthetic area writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from commonground.linkage.evaluate import recall_by_error
from commonground.linkage.reports import error_masks, read_identity_errors

# record, true person, predicted cluster
RECORDS = [
    ("r1", "A", "x"),
    ("r2", "A", "x"),
    ("r3", "A", "y"),  # a nickname: missed
    ("r4", "B", "z"),
    ("r5", "B", "z"),
    ("r6", "C", "w"),  # a person of one record: no pair
]
ERRORS = """feed,record_id,kind,category
f,r3,nickname,nickname
f,r1,move,move
f,r4,address_missing,move
f,r6,dob_day,date_slip
"""


def test_recall_by_error_on_a_literal_truth(tmp_path: Path) -> None:
    (tmp_path / "identity_errors.csv").write_text(ERRORS, encoding="utf-8")
    errors = read_identity_errors(tmp_path)
    assert errors is not None
    masks = error_masks([("f", r) for r, _, _ in RECORDS], errors)
    assert list(masks) == [
        "date_slip",
        "date_slip/dob_day",
        "move",
        "move/address_missing",
        "move/move",
        "nickname",
        "nickname/nickname",
    ]
    found = {
        e.kind: (e.records, e.true_pairs, e.found)
        for e in recall_by_error([c for _, _, c in RECORDS], [t for _, t, _ in RECORDS], masks)
    }
    assert found["nickname"] == (1, 2, 0)  # r1-r3 and r2-r3, both missed
    assert found["move"] == (2, 3, 2)  # r1-r2, r1-r3 (missed), r4-r5
    assert found["move/address_missing"] == (1, 1, 1)
    assert found["date_slip"] == (1, 0, 0)
    recall = {e.kind: e.recall for e in recall_by_error(["x", "x", "y"], ["A", "A", "A"], {"k": masks["move"][:3]})}
    assert recall == {"k": pytest.approx(0.5)}


def test_no_errors_file_means_no_table(tmp_path: Path) -> None:
    assert read_identity_errors(tmp_path) is None
