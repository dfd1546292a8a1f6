"""People's word on links, which a build honours over the model (issue #15).

The hub's link reviews (``commonground.cases.link_reviews``) say that some records linked as one person are not
all that person. ``commonground hub export-link-reviews`` writes them here, under the data directory, as record
ids only:

- ``held_apart``: groups of records (``feed:record_id``) held apart from every record outside the group, while
  their review is open and for good once decided "not the same person". The build cuts every accepted link with
  one end in the group and the other outside it, so no path joins the group to anyone else: a rejected pair never
  re-forms, whatever the model scores.
- ``kept_together``: groups decided "the same person", with the records they were kept ``with``: the build adds
  a link between them, so they stay one person whatever the model scores (a later review may still hold some
  apart; being kept together is applied last, and wins for the records it names).
- ``pairs_apart``: two records (a pair from the model's review band, :mod:`.review_band`) decided "not the same
  person": never in one cluster. Only those two are kept from each other, each keeps its other links; when other
  links would still join them the build drops, within that one cluster, the weakest links that would (a greedy
  clustering strongest link first, :func:`commonground.linkage.components.honour`).

Records a build does not hold (retracted, not yet ingested) are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from commonground.errors import UserError

CONSTRAINTS_FILE = "analytical/link_constraints.json"
"""Under the data directory: what the hub writes and the link build reads."""


class HeldApart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review: int
    records: tuple[str, ...] = Field(min_length=1)
    decided: str


class KeptTogether(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    review: int
    records: tuple[str, ...] = Field(min_length=1)
    with_: tuple[str, ...] = Field(default=(), alias="with")


class PairApart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review: int
    records: tuple[str, str]


class LinkConstraints(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    held_apart: tuple[HeldApart, ...] = ()
    kept_together: tuple[KeptTogether, ...] = ()
    pairs_apart: tuple[PairApart, ...] = ()

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=1, sort_keys=True)


def load_constraints(data_dir: Path) -> LinkConstraints:
    """The constraints the hub last wrote (none when it has written none); a damaged file is a clear error."""
    path = data_dir / CONSTRAINTS_FILE
    if not path.exists():
        return LinkConstraints()
    try:
        return LinkConstraints.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError) as error:
        raise UserError(
            f"{path}: not a link constraints file written by `commonground hub export-link-reviews` "
            f"({error.__class__.__name__}); write it again"
        ) from None
