"""Property tests: whatever the table, nobody recovers a hidden figure from what is published.

Three attacks, each given the *exact* visible figures (a reader has only the rounded ones, so this is the
harder case): subtraction line by line (a total minus its visible parts, repeated with what it yields);
any sums and differences of the lines (linear algebra, by rank); and an LP solver bounding each hidden figure
with every line and counts at least 0, which must leave each hidden figure at least one either way to move.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonground.stats import NHS_ENGLAND, SmallNumbers, cell, protect, table_lines
from commonground.stats.suppression import Key

from .support import differencing_attack, grid, linear_attack, lp_range

DFE = SmallNumbers(suppress_up_to=5, round_to=1, symbol="c", name="DfE")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small_heavy = st.one_of(st.integers(0, 9), st.integers(0, 9), st.integers(0, 60))


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, list[int]], list[str]]:
    n_rows = draw(st.integers(1, 5))
    n_cols = draw(st.integers(1, 5))
    cols = [f"c{j}" for j in range(n_cols)]
    rows = {f"r{i}": draw(st.lists(small_heavy, min_size=n_cols, max_size=n_cols)) for i in range(n_rows)}
    return rows, cols


def _check(counts: dict[Key, int], lines: list, rule: SmallNumbers) -> None:  # type: ignore[type-arg]
    protected = protect(counts, lines, rule)
    hidden = set(protected.hidden)
    assert {k for k, v in counts.items() if rule.is_small(v)} <= hidden
    assert differencing_attack(counts, lines, hidden) == {}
    assert linear_attack(lines, hidden) == set()
    for key in protected.primary:
        low, high = lp_range(counts, lines, hidden, key)
        assert high - low >= 1 - 1e-6, (key, counts[key], low, high)


@SETTINGS
@given(tables(), st.sampled_from([DFE, NHS_ENGLAND]))
def test_no_hidden_figure_is_recovered_from_a_table_and_its_totals(
    table: tuple[dict[str, list[int]], list[str]], rule: SmallNumbers
) -> None:
    rows, cols = table
    counts, lines = grid(rows, cols)
    _check(counts, lines, rule)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(0, 2)), min_size=0, max_size=60),
    st.sampled_from([DFE, NHS_ENGLAND]),
)
def test_no_hidden_figure_is_recovered_from_two_tables_sharing_totals(
    people: list[tuple[int, int, int]], rule: SmallNumbers
) -> None:
    """People (area, sex, age band) counted into an area x sex and an area x age table, protected together."""
    areas, sexes, ages = ["a0", "a1", "a2"], ["F", "M"], ["y0", "y1", "y2"]
    counts: dict[Key, int] = {}
    for a in areas:
        for s in sexes:
            counts[cell("p", area=a, sex=s)] = sum(1 for p in people if areas[p[0]] == a and sexes[p[1]] == s)
        for y in ages:
            counts[cell("p", area=a, age=y)] = sum(1 for p in people if areas[p[0]] == a and ages[p[2]] == y)
        counts[cell("p", area=a)] = sum(1 for p in people if areas[p[0]] == a)
    for s in sexes:
        counts[cell("p", sex=s)] = sum(1 for p in people if sexes[p[1]] == s)
    for y in ages:
        counts[cell("p", age=y)] = sum(1 for p in people if ages[p[2]] == y)
    counts[cell("p")] = len(people)
    lines = table_lines("p", "area", areas, "sex", sexes) + table_lines("p", "area", areas, "age", ages)
    _check(counts, lines, rule)


@SETTINGS
@given(tables())
def test_published_figures_are_rounded_or_hidden_never_exact_small(
    table: tuple[dict[str, list[int]], list[str]],
) -> None:
    rows, cols = table
    counts, lines = grid(rows, cols)
    protected = protect(counts, lines, NHS_ENGLAND)
    for key, value in protected.values.items():
        if value is not None:
            assert value % 5 == 0 and abs(value - counts[key]) <= 2 and not NHS_ENGLAND.is_small(counts[key])
