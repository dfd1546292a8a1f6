"""Literal tables with known answers: primary suppression, secondary suppression line by line, the case the line
rule misses (a hidden figure joining two groups of hidden figures), one-way tables, zeros, and linked tables."""

from __future__ import annotations

import pytest

from commonground.stats import Line, SmallNumbers, cell, determined, protect, table_lines
from commonground.stats.disclosure import NHS_ENGLAND
from commonground.stats.suppression import Key

from .support import differencing_attack, grid, linear_attack, lp_range, shown

DFE = SmallNumbers(suppress_up_to=5, round_to=1, symbol="c", name="DfE")
COLS3 = ("x", "y", "z")


def test_secondary_suppression_hides_a_second_figure_in_each_line() -> None:
    rows = {"A": [3, 20, 30], "B": [12, 15, 40], "C": [25, 22, 18]}
    counts, lines = grid(rows, COLS3)
    # Primary alone: row A and column x would each give the 3 away by subtraction.
    assert differencing_attack(counts, lines, {cell("p", area="A", group="x")}) == {cell("p", area="A", group="x"): 3}
    protected = protect(counts, lines, DFE)
    assert shown(protected, list(rows), COLS3) == [
        ["c", "c", "30", "53"],
        ["c", "c", "40", "67"],
        ["25", "22", "18", "65"],
        ["40", "57", "88", "185"],
    ]
    assert protected.primary == {cell("p", area="A", group="x")}
    assert protected.secondary == {
        cell("p", area="A", group="y"),  # the smallest other figure of row A
        cell("p", area="B", group="x"),  # ... and of column x
        cell("p", area="B", group="y"),  # row B then had one hidden figure
    }
    assert differencing_attack(counts, lines, set(protected.hidden)) == {}


def test_nhs_england_rounds_every_shown_figure_totals_included() -> None:
    rows = {"A": [3, 20, 30], "B": [12, 15, 40], "C": [25, 22, 18]}
    counts, lines = grid(rows, COLS3)
    protected = protect(counts, lines, NHS_ENGLAND)
    # The true totals are rounded on their own (53 -> 55, 67 -> 65): rows need not add up.
    assert shown(protected, list(rows), COLS3) == [
        ["*", "*", "30", "55"],
        ["*", "*", "40", "65"],
        ["25", "20", "20", "65"],
        ["40", "55", "90", "185"],
    ]


def test_a_figure_joining_two_hidden_groups_is_found_and_protected() -> None:
    """Every line has two hidden figures, so the line rule is satisfied, yet rows r1+r2 minus columns c1+c2 give
    (r1, c3) exactly. The exact check finds it and hides (r1, c4), the smallest figure beside it."""
    rule = SmallNumbers(suppress_up_to=6, round_to=1, name="1-6")
    rows = {
        "r1": [2, 3, 4, 20, 30],
        "r2": [5, 6, 25, 30, 40],
        "r3": [20, 25, 3, 4, 50],
        "r4": [30, 20, 5, 6, 45],
        "r5": [40, 35, 30, 25, 60],
    }
    cols = ("c1", "c2", "c3", "c4", "c5")
    counts, lines = grid(rows, cols)
    primary = {k for k, v in counts.items() if rule.is_small(v)}
    bridge = cell("p", area="r1", group="c3")
    assert differencing_attack(counts, lines, primary) == {}  # the line rule sees nothing wrong
    assert linear_attack(lines, primary) == {bridge}  # ... but sums and differences pin the bridge
    assert determined(lines, primary) == {bridge}
    protected = protect(counts, lines, rule)
    assert protected.primary == primary
    assert protected.secondary == {cell("p", area="r1", group="c4")}
    assert linear_attack(lines, set(protected.hidden)) == set()
    low, high = lp_range(counts, lines, set(protected.hidden), bridge)
    assert low < 4 < high


def test_a_one_way_table_hides_the_next_smallest_group() -> None:
    counts = {cell("p", g=g): v for g, v in (("a", 3), ("b", 40), ("c", 50))} | {cell("p"): 93}
    lines = [Line(cell("p"), tuple(cell("p", g=g) for g in "abc"))]
    protected = protect(counts, lines, NHS_ENGLAND)
    assert [protected.shown(cell("p", g=g)) for g in "abc"] + [protected.shown(cell("p"))] == ["*", "*", "50", "95"]


def test_zeros_are_never_chosen_to_hide() -> None:
    rows = {"A": [3, 0, 0, 30], "B": [20, 0, 9, 30], "C": [25, 0, 12, 18]}
    cols = ("w", "x", "y", "z")
    counts, lines = grid(rows, cols)
    protected = protect(counts, lines, DFE)
    assert all(counts[k] > 0 for k in protected.hidden)
    assert linear_attack(lines, set(protected.hidden)) == set()
    for key in protected.hidden:
        low, high = lp_range(counts, lines, set(protected.hidden), key)
        assert high - low >= 1


def test_a_figure_shown_in_two_tables_is_hidden_in_both() -> None:
    """Area totals appear in an area x sex table and an area x age table: they are one figure, shown (or hidden)
    the same way in both, and the two tables together pin nothing."""
    micro = {  # area -> sex -> age band -> people
        "A": {"F": [1, 2], "M": [2, 1]},
        "B": {"F": [10, 12], "M": [9, 14]},
        "C": {"F": [20, 25], "M": [22, 18]},
    }
    counts: dict[Key, int] = {}
    for area, by_sex in micro.items():
        for sex, ages in by_sex.items():
            counts[cell("p", area=area, sex=sex)] = sum(ages)
        for j, band in enumerate(("young", "old")):
            counts[cell("p", area=area, age=band)] = sum(ages[j] for ages in by_sex.values())
        counts[cell("p", area=area)] = sum(sum(a) for a in by_sex.values())
    for sex in ("F", "M"):
        counts[cell("p", sex=sex)] = sum(sum(micro[a][sex]) for a in micro)
    for j, band in enumerate(("young", "old")):
        counts[cell("p", age=band)] = sum(micro[a][s][j] for a in micro for s in ("F", "M"))
    counts[cell("p")] = sum(sum(sum(a) for a in s.values()) for s in micro.values())
    lines = table_lines("p", "area", list(micro), "sex", ["F", "M"]) + table_lines(
        "p", "area", list(micro), "age", ["young", "old"]
    )
    protected = protect(counts, lines, DFE)
    assert protected.primary == {cell("p", area="A", sex=s) for s in "FM"} | {
        cell("p", area="A", age=a) for a in ("young", "old")
    }
    # Area B's figures hide A's in both tables' columns; every total stays visible.
    assert protected.secondary == {cell("p", area="B", sex=s) for s in "FM"} | {
        cell("p", area="B", age=a) for a in ("young", "old")
    }
    assert all(protected.values[cell("p", area=a)] is not None for a in micro)
    assert linear_attack(lines, set(protected.hidden)) == set()
    assert differencing_attack(counts, lines, set(protected.hidden)) == {}


@pytest.mark.parametrize(
    ("rule", "count", "published"), [(NHS_ENGLAND, 7, None), (NHS_ENGLAND, 8, 10), (DFE, 5, None), (DFE, 6, 6)]
)
def test_the_rule_of_a_figure_decides_its_primary_suppression(
    rule: SmallNumbers, count: int, published: int | None
) -> None:
    counts = {cell("p", g="a"): count, cell("p", g="b"): 100, cell("p"): count + 100}
    protected = protect(counts, [Line(cell("p"), (cell("p", g="a"), cell("p", g="b")))], rule)
    assert protected.values[cell("p", g="a")] == published


def test_a_decile_and_its_areas_are_protected_together() -> None:
    """People by area and by deprivation decile differ by the other areas of the decile: area A's 3 people are
    the decile's 43 minus area B's 40 unless the equation between the two files is a line too."""
    from commonground.stats.run import _linking_lines

    counts = {
        cell("p", area="A"): 3,
        cell("p", area="B"): 40,
        cell("p", area="C"): 50,
        cell("p", area="unknown"): 9,
        cell("p", decile="1"): 43,
        cell("p", decile="2"): 50,
        cell("p", decile="unknown"): 9,
        cell("p"): 102,
    }
    lines = [
        Line(cell("p"), tuple(cell("p", area=a) for a in ("A", "B", "C", "unknown"))),
        Line(cell("p"), tuple(cell("p", decile=d) for d in ("1", "2", "unknown"))),
    ]
    alone = protect(counts, lines, DFE)
    assert differencing_attack(counts, lines, set(alone.hidden)) == {}  # each file alone looks safe ...
    linking = _linking_lines(counts, {"area_decile": {"A": "1", "B": "1", "C": "2"}})
    assert Line(cell("p", decile="1"), (cell("p", area="A"), cell("p", area="B"))) in linking
    both = lines + linking
    # ... together they are not: decile 1 minus area B gives A, and the unknown decile is the unknown area.
    assert differencing_attack(counts, both, set(alone.hidden)) == {
        cell("p", area="A"): 3,
        cell("p", area="unknown"): 9,
    }
    protected = protect(counts, both, DFE)
    assert linear_attack(both, set(protected.hidden)) == set()
    assert differencing_attack(counts, both, set(protected.hidden)) == {}
