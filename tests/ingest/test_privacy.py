"""No cell value of a synthetic identity reaches the JSON result, the reports, an error or a log."""

from __future__ import annotations

import json
import logging
import re

import pytest
from ingest_helpers import Area, csv_text

from commonground.contracts import FEEDS
from commonground.ingest import ingest_report, quarantine_rows, warning_rows

FEED = FEEDS["childrens_social_care"]
COLS = list(FEED.column_names)

# Distinctive synthetic identities: good ones, and broken ones that go to quarantine or warnings.
IDENTITIES = [
    {
        "given_name": "Quillonetta",
        "family_name": "Brackenthwaite",
        "date_of_birth": "2011-07-19",
        "postcode": "ZE2 9QX",
        "address": "17 Wolverhollow Lane",
        "nhs_number": "9434765919",
        "uprn": "908172635",
    },
    {
        "given_name": "Quill0netta",
        "family_name": "Brackenthwaite",
        "date_of_birth": "2011-02-30",
        "postcode": "QQ99 ZZZ",
        "address": "=Wolverhollow Lane",
        "nhs_number": "9434765918",
        "uprn": "9081x2635",
    },
    {
        "given_name": "Marigoldine",
        "family_name": "Fettercairnish",
        "date_of_birth": "2012-03-04",
        "postcode": "ZE3 8QY",
        "address": "@Thornquist Yard",
        "nhs_number": "4010232137",
        "uprn": "77665544",
    },
]
SECRETS = sorted({v for identity in IDENTITIES for v in identity.values()} | {"Wolverhollow", "Thornquist"})


def _row(i: int, identity: dict[str, str]) -> list[str]:
    base = {
        "record_id": f"REF{i}",
        "referral_date": "2020-01-02",
        "closure_date": "",
        "assessment_factors": "3b",
        "cp_plan_category": "",
        "looked_after": "no",
        "sex": "F",
        **identity,
    }
    return [base[c] for c in COLS]


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), secret


def test_no_value_escapes(area: Area, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    rows = [_row(i, identity) for i, identity in enumerate(IDENTITIES)]
    rows.append([*rows[0][:-1]])  # wrong number of cells
    area.write("childrens_social_care.csv", csv_text(COLS, rows))
    # A file whose first row is data, not a header: refused without echoing it.
    area.write("custody_records.csv", csv_text(list(IDENTITIES[0].values()), [list(IDENTITIES[2].values())]))
    # A header with an odd name among real columns: counted, not shown.
    area.write("missing_episodes.csv", csv_text([*FEEDS["missing_episodes"].column_names, "Quillonetta 2011"], []))
    result = area.ingest()
    assert result.totals()["rows_quarantined"] == 2 and result.totals()["warnings"] == 1
    assert [f.status for f in result.files] == ["loaded", "refused", "refused"]
    _no_secrets(result.to_json())
    _no_secrets(repr(result))
    _no_secrets(json.dumps(result.table()))
    _no_secrets(json.dumps([b.to_dict() for b in ingest_report(data_dir=area.data)], default=str))
    _no_secrets(json.dumps([q.to_dict() for q in quarantine_rows(data_dir=area.data, limit=1000)]))
    _no_secrets(json.dumps([w.to_dict() for w in warning_rows(data_dir=area.data, limit=1000)]))
    _no_secrets(repr(quarantine_rows(data_dir=area.data, limit=1000)))
    _no_secrets("".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records))
    captured = capsys.readouterr()
    _no_secrets(captured.out + captured.err)
    reasons = area.query("SELECT reason FROM quarantine UNION ALL SELECT reason FROM ingest_warnings")
    _no_secrets(json.dumps(reasons))
    # ...while the quarantine itself keeps the raw cells, so the rows can be fixed.
    raws = " ".join(raw for (raw,) in area.query("SELECT raw FROM quarantine"))
    assert "Quill0netta" in raws


def test_a_broken_parquet_file_message_is_generic(area: Area) -> None:
    area.write("schools.parquet", b"PAR1" + b"Quillonetta Brackenthwaite" + b"PAR1")
    result = area.ingest()
    _no_secrets(result.to_json())


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Quillonetta Smith;3b", "holds 1 value not in the allowed list"),
        ("3b;zz", "holds 1 value not in the allowed list"),
        ("17 Wolverhollow Lane;Quillonetta", "holds 2 values not in the allowed list"),
    ],
)
def test_code_list_reasons_never_repeat_the_cell(cell: str, expected: str) -> None:
    from commonground.contracts.values import ValueProblem, parse_cell

    column = FEED.column("assessment_factors")
    with pytest.raises(ValueProblem) as problem:
        parse_cell(cell, column)
    assert problem.value.reason == expected
    for word in re.split(r"[;\s]+", cell.lower()):
        assert word not in problem.value.reason.lower()


def test_a_name_in_a_code_list_cell_stays_out_of_the_reasons(area: Area) -> None:
    row = _row(9, IDENTITIES[0])
    row[COLS.index("assessment_factors")] = "3b;Quillonetta Brackenthwaite"
    area.write("childrens_social_care.csv", csv_text(COLS, [row]))
    area.ingest()
    (reason,) = area.query("SELECT reason FROM ingest_warnings")[0]
    assert reason == "holds 1 value not in the allowed list"
