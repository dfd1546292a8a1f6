"""The linkage model as data: comparisons, their levels, blocking rules and training settings.

A :class:`LinkageModelSpec` is validated when it is built, round-trips to YAML and JSON, and
says nothing about any SQL engine: :mod:`commonground.linkage.compile` turns it into Splink
settings for a given backend only at the end. Every comparison level carries a plain-English
label, so an explanation can read "date of birth: day and month swapped (+6.2)".

The model kept in the repository is ``model.yaml`` beside this module (:func:`default_spec`).
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# The columns of a prepared linkage record (see :mod:`commonground.linkage.prepare`).
# A spec may compare and block on these and nothing else.
PREPARED_COLUMNS: frozenset[str] = frozenset(
    {
        "given_name_key",
        "family_name_key",
        "given_name_alternatives",
        "family_name_alternatives",
        "names_sorted",
        "date_of_birth",
        "date_of_birth_date",
        "sex",
        "postcode",
        "address",
        "nhs_number",
        "uprn",
    }
)
ARRAY_COLUMNS: frozenset[str] = frozenset({"given_name_alternatives", "family_name_alternatives"})
DATE_COLUMNS: frozenset[str] = frozenset({"date_of_birth_date"})
"""Real dates (DATE type; missing where the text is not a real date). Only date_within reads them."""


class Part(StrEnum):
    """A named piece of a column, compared instead of the whole value. Defined once, in
    ``compile.PARTS``, in a form every backend understands."""

    POSTCODE_SECTOR = "postcode_sector"  # 'AB1 2CD' -> 'AB1 2'
    POSTCODE_DISTRICT = "postcode_district"  # 'AB1 2CD' -> 'AB1'
    POSTCODE_AREA = "postcode_area"  # 'AB1 2CD' -> 'AB'
    YEAR = "year"  # '1987-03-14' -> '1987'
    YEAR_MONTH = "year_month"  # '1987-03-14' -> '1987-03'
    MONTH_DAY = "month_day"  # '1987-03-14' -> '03-14'
    HOUSE_NUMBER = "house_number"  # '12A HIGH STREET' -> '12A'
    INITIAL = "initial"  # 'MICHAELA' -> 'M'


class SpecError(ValueError):
    """A linkage spec that cannot be used, with the reason in plain words."""


class _Level(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1, max_length=120)
    """Plain English, completing "<comparison title>: ...", e.g. "day and month swapped"."""


class MissingLevel(_Level):
    """Nothing to compare: the value is missing on one side or both. Weight 0."""

    kind: Literal["missing"] = "missing"
    columns: tuple[str, ...] = ()
    """Missing in every one of these columns (on either side). Defaults to the comparison's column."""


class ExactLevel(_Level):
    """The values (or the named part of them) are equal."""

    kind: Literal["exact"] = "exact"
    column: str | None = None
    part: Part | None = None
    term_frequency: bool = False
    """Adjust the weight for how common the value is (a match on a rare name counts for more)."""

    @model_validator(mode="after")
    def _tf_on_whole_values(self) -> Self:
        if self.term_frequency and self.part is not None:
            raise ValueError("term-frequency adjustment needs the whole value, not a part of it")
        return self


class JaroWinklerLevel(_Level):
    """Jaro-Winkler similarity at or above a threshold (good for names: rewards a shared start)."""

    kind: Literal["jaro_winkler"] = "jaro_winkler"
    threshold: float = Field(gt=0, lt=1)
    column: str | None = None
    part: Part | None = None


class EditDistanceLevel(_Level):
    """At most ``max_edits`` characters inserted, deleted or replaced; with ``transpositions``,
    swapping two adjacent characters counts as one edit (Damerau-Levenshtein)."""

    kind: Literal["edit_distance"] = "edit_distance"
    max_edits: int = Field(ge=1, le=3)
    transpositions: bool = True
    column: str | None = None
    part: Part | None = None


class SwappedLevel(_Level):
    """This column on one side equals ``other_column`` on the other: with ``both_ways``, in both
    directions (given and family names recorded the wrong way round); otherwise in either
    direction (one name written in the other's field)."""

    kind: Literal["swapped"] = "swapped"
    other_column: str
    both_ways: bool = True


class AlternativeLevel(_Level):
    """The two values share a known alternative (a nickname or short form: BILL and WILLIAM).
    ``column`` holds each record's alternatives as an array (built by the prepare step)."""

    kind: Literal["alternative"] = "alternative"
    column: str = "given_name_alternatives"


class SwappedAlternativeLevel(_Level):
    """Given and family names swapped, and one of them also a known alternative of the other
    record's (BROWN BOBBY against ROBERT BROWN): this column on one side equals ``other_column``
    on the other, and ``other_alternatives`` on the first side shares an alternative with
    ``alternatives`` on the second (either way round)."""

    kind: Literal["swapped_alternative"] = "swapped_alternative"
    other_column: str
    alternatives: str = "given_name_alternatives"
    other_alternatives: str = "family_name_alternatives"


class DayMonthSwappedLevel(_Level):
    """Same year; the day on one side is the month on the other and vice versa (ISO dates)."""

    kind: Literal["day_month_swapped"] = "day_month_swapped"


class DateWithinLevel(_Level):
    """Both are real dates no more than ``amount`` ``unit``s apart. ``column`` is a date column."""

    kind: Literal["date_within"] = "date_within"
    column: str = "date_of_birth_date"
    amount: int = Field(ge=1)
    unit: Literal["day", "month", "year"]


class YearSlipLevel(_Level):
    """The same day and month, and the years at most ``years`` apart (a year keyed wrongly:
    1987-03-14 against 1988-03-14). ``column`` is a date column; the day and month are read from
    the comparison's ISO text column."""

    kind: Literal["year_slip"] = "year_slip"
    column: str = "date_of_birth_date"
    years: int = Field(default=1, ge=1, le=5)


class ElseLevel(_Level):
    """Everything else: the values are present and disagree."""

    kind: Literal["else"] = "else"


LevelSpec = Annotated[
    MissingLevel
    | ExactLevel
    | JaroWinklerLevel
    | EditDistanceLevel
    | SwappedLevel
    | AlternativeLevel
    | SwappedAlternativeLevel
    | DayMonthSwappedLevel
    | DateWithinLevel
    | YearSlipLevel
    | ElseLevel,
    Field(discriminator="kind"),
]


def _level_columns(level: LevelSpec, default: str) -> list[str]:
    match level:
        case MissingLevel():
            return list(level.columns) or [default]
        case SwappedLevel():
            return [default, level.other_column]
        case SwappedAlternativeLevel():
            return [default, level.other_column, level.alternatives, level.other_alternatives]
        case YearSlipLevel():
            return [default, level.column]
        case ExactLevel() | JaroWinklerLevel() | EditDistanceLevel() | AlternativeLevel() | DateWithinLevel():
            return [level.column or default]
        case _:
            return [default]


def _level_reads_right_types(level: LevelSpec, default: str) -> bool:
    """Arrays only where a level compares alternatives; real dates only where it measures a
    distance in time; text everywhere else."""

    def kind(col: str) -> str:
        return "array" if col in ARRAY_COLUMNS else "date" if col in DATE_COLUMNS else "text"

    match level:
        case MissingLevel():
            return True
        case AlternativeLevel():
            return kind(level.column) == "array"
        case DateWithinLevel():
            return kind(level.column) == "date"
        case YearSlipLevel():
            return kind(level.column) == "date" and kind(default) == "text"
        case SwappedAlternativeLevel():
            return [kind(c) for c in _level_columns(level, default)] == ["text", "text", "array", "array"]
        case _:
            return all(kind(c) == "text" for c in _level_columns(level, default))


class ComparisonSpec(BaseModel):
    """One comparison: how two records' values of one attribute are sorted into levels,
    from the strongest agreement down to "different"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The output name (Splink's ``output_column_name``): gamma_<name>, mw_<name>."""
    title: str = Field(min_length=1)
    """Plain English, e.g. "date of birth"."""
    column: str
    levels: tuple[LevelSpec, ...]

    @model_validator(mode="after")
    def _check_levels(self) -> Self:
        where = f"comparison {self.name!r}"
        if len(self.levels) < 3:
            raise ValueError(f"{where}: needs a missing level, at least one agreement level and an else level")
        if not isinstance(self.levels[0], MissingLevel):
            raise ValueError(f"{where}: the first level must be the missing-value level (kind: missing)")
        if not isinstance(self.levels[-1], ElseLevel):
            raise ValueError(f"{where}: the last level must be the else level (kind: else)")
        kinds = [lv.kind for lv in self.levels]
        if kinds.count("missing") != 1 or kinds.count("else") != 1:
            raise ValueError(f"{where}: exactly one missing level and one else level")
        labels = [lv.label for lv in self.levels]
        repeated = sorted({lb for lb in labels if labels.count(lb) > 1})
        if repeated:
            raise ValueError(f"{where}: each level needs its own label; repeated: {repeated}")
        for level in self.levels:
            for col in _level_columns(level, self.column):
                if col not in PREPARED_COLUMNS:
                    raise ValueError(f"{where}: unknown column {col!r} (known: {sorted(PREPARED_COLUMNS)})")
            if not _level_reads_right_types(level, self.column):
                raise ValueError(f"{where}: level {level.label!r} cannot compare the columns it names")
        return self

    def columns(self) -> set[str]:
        """Every prepared column this comparison reads."""
        return {c for level in self.levels for c in _level_columns(level, self.column)}


class BlockingKey(BaseModel):
    """One equality in a blocking rule: the column (or a named part of it) is equal on both sides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    part: Part | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_bare_name(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_column(self) -> Self:
        if self.column not in PREPARED_COLUMNS or self.column in ARRAY_COLUMNS:
            raise ValueError(f"cannot block on {self.column!r} (an unknown or array column)")
        return self


BlockingRuleSpec = tuple[BlockingKey, ...]
"""Records are compared when every key is equal (and not missing) on both sides."""


class TrainingSpec(BaseModel):
    """How the model is estimated without labels (Splink's unsupervised route)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deterministic_rules: tuple[BlockingRuleSpec, ...] = Field(min_length=1)
    """Rules that admit almost no false matches; their yield sets the prior (lambda)."""
    deterministic_recall: float = Field(gt=0, le=1)
    """The share of all true matches those rules are believed to find."""
    u_max_pairs: float = Field(default=1e7, ge=1e3)
    """Random pairs sampled to estimate u (how often non-matches agree by chance)."""
    seed: int = 42
    max_records: int | None = Field(default=None, ge=1000)
    """Train on at most this many records (a deterministic sample of a larger input); None: all."""
    em_blocking_rules: tuple[BlockingRuleSpec, ...] = Field(min_length=1)
    """One EM session per rule estimates m for every comparison the rule does not block on."""


class SmallAreaBlocking(BaseModel):
    """Blocking rules used only while the input is small: rules keyed on one common value (one
    date of birth, one full name) catch records that differ in several fields at once, but their
    candidate pairs grow with the square of the records, so past ``max_records`` they are left out
    and only the model's linear ``blocking_rules`` apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_records: int = Field(ge=1)
    rules: tuple[BlockingRuleSpec, ...] = Field(min_length=1)


class LinkageModelSpec(BaseModel):
    """The whole person-linkage model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str = ""
    comparisons: tuple[ComparisonSpec, ...] = Field(min_length=1)
    blocking_rules: tuple[BlockingRuleSpec, ...] = Field(min_length=1)
    """Candidate pairs for prediction: a pair is scored if any rule admits it."""
    small_area_blocking: SmallAreaBlocking | None = None
    training: TrainingSpec
    threshold_match_probability: float | None = Field(default=None, gt=0, lt=1)
    """The default threshold: a pair is linked when its match probability is at least this,
    with the prior that fits the number of records linked (:mod:`.threshold`). Chosen from
    evaluation (docs/linkage.md). Give this or ``threshold_match_weight``, not both."""
    threshold_match_weight: float | None = None
    """The threshold as a match weight (log2 of the odds, prior included): what models before
    version 3 kept. Used when no probability is given."""
    keep_pairs_above_match_weight: float = -10.0
    """Predict keeps pairs at or above this weight, so thresholds can be swept and explained."""
    review_band_lower_probability: float | None = Field(default=None, gt=0, lt=1)
    """The review band's floor: a pair whose match probability is at least this but below the threshold is
    not linked but offered to people to decide (:mod:`.review_band`). None in models saved before the band:
    :data:`commonground.linkage.threshold.DEFAULT_REVIEW_BAND_LOWER` then."""

    @property
    def default_threshold_match_weight(self) -> float:
        """The threshold as a match weight: log2(p / (1 - p)) of the threshold probability."""
        if self.threshold_match_probability is not None:
            p = self.threshold_match_probability
            return math.log2(p / (1 - p))
        assert self.threshold_match_weight is not None  # the validator asks for one of the two
        return self.threshold_match_weight

    def blocking_rules_for(self, record_count: int) -> tuple[BlockingRuleSpec, ...]:
        """The rules that make candidate pairs for an input of ``record_count`` records."""
        extra = self.small_area_blocking
        if extra is None or record_count > extra.max_records:
            return self.blocking_rules
        return self.blocking_rules + tuple(r for r in extra.rules if r not in self.blocking_rules)

    @model_validator(mode="after")
    def _check_model(self) -> Self:
        names = [c.name for c in self.comparisons]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"comparisons named twice: {repeated}")
        if (self.threshold_match_probability is None) == (self.threshold_match_weight is None):
            raise ValueError("give one threshold: threshold_match_probability or threshold_match_weight")
        if self.keep_pairs_above_match_weight > self.default_threshold_match_weight:
            raise ValueError("keep_pairs_above_match_weight must not be above the threshold")
        lower = self.review_band_lower_probability
        if lower is not None and math.log2(lower / (1 - lower)) >= self.default_threshold_match_weight:
            raise ValueError("review_band_lower_probability must be below the threshold")
        for rule in self.training.em_blocking_rules:
            if not rule:
                raise ValueError("an EM blocking rule needs at least one key")
        untrained = [
            c.name
            for c in self.comparisons
            if not any(not ({k.column for k in rule} & c.columns()) for rule in self.training.em_blocking_rules)
        ]
        if untrained:
            raise ValueError(
                f"comparisons {untrained} use a column of every EM blocking rule, so no EM session "
                "can estimate their m probabilities: add a rule that does not block on them"
            )
        return self

    # --- round trips -------------------------------------------------------------------
    def to_yaml(self) -> str:
        return yaml.safe_dump(
            self.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True, width=110
        )

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False)

    @classmethod
    def from_yaml(cls, text: str) -> LinkageModelSpec:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise SpecError(f"the linkage spec is not valid YAML: {err}") from None
        return cls.from_data(data)

    @classmethod
    def from_json(cls, text: str) -> LinkageModelSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpecError(f"the linkage spec is not valid JSON: {err}") from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> LinkageModelSpec:
        """Validate plain data, turning pydantic's report into one readable :class:`SpecError`."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = []
            for e in err.errors():
                where = ".".join(str(p) for p in e["loc"]) or "spec"
                problems.append(f"  - {where}: {e['msg']}")
            raise SpecError("the linkage spec is not valid:\n" + "\n".join(problems)) from None

    def comparison(self, name: str) -> ComparisonSpec:
        for c in self.comparisons:
            if c.name == name:
                return c
        raise KeyError(f"the model has no comparison {name!r}")


def load_spec(path: Path) -> LinkageModelSpec:
    """Read a spec from a .yaml/.yml or .json file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return LinkageModelSpec.from_json(text)
    return LinkageModelSpec.from_yaml(text)


def default_spec() -> LinkageModelSpec:
    """The person-linkage model kept in the repository (``linkage/model.yaml``)."""
    text = resources.files("commonground.linkage").joinpath("model.yaml").read_text(encoding="utf-8")
    return LinkageModelSpec.from_yaml(text)
