"""Reviewed pairs are labels (issue #15): the model's accuracy against people's decisions, and m from labels.

Every decided link review becomes labelled pairs of records in the next build (``review_labels``,
:mod:`.review_band`): "the same person" or not, with the model's weight for the pair and whether the model alone
linked it. :func:`label_accuracy` counts them against the threshold: how many decisions agreed with the model,
and the model's precision and recall on the decided pairs.

Read them with care: the labels are not a sample of all pairs. Pairs from the review band are, by construction,
below the threshold (the model did not link any of them), and a practitioner's doubt is raised about links the
model made. So recall on the labels measures the band, not the area, and precision the doubted links; the
synthetic area's truth (``commonground evaluate``) stays the measure of the model.

Splink can learn from labels: ``estimate_m_from_pairwise_labels`` sets each comparison level's m (how often true
matches fall in it) to its share among pairs labelled "the same person". :func:`m_from_labels` does that for a
trained model when there are at least :data:`MIN_MATCH_LABELS` such pairs; with fewer, m from a handful of pairs
would be noisier than EM's. It is not applied by default: the band's accepted pairs are the hard cases (they
disagree more than most true matches), so their m would understate agreement; it is for labels drawn as a
sample of matches, e.g. a clerical review of random linked pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from pydantic import BaseModel, ConfigDict
from splink import Linker
from splink.internals.splink_dataframe import SplinkDataFrame

from commonground.linkage.builds import Build
from commonground.linkage.parameters import ModelParameters
from commonground.linkage.review_band import LABELS
from commonground.linkage.training import SPLINK_LOG_LEVEL, TrainedModel, _fill_unseen_u

MIN_MATCH_LABELS = 50
"""At least this many pairs decided "the same person" before m is estimated from them."""


class LabelAccuracy(BaseModel):
    """The model's verdicts on people's decided pairs, at the build's threshold."""

    model_config = ConfigDict(frozen=True)

    true_positives: int
    """Decided the same person; linked by the model."""
    false_positives: int
    """Decided not the same person; linked by the model."""
    false_negatives: int
    """Decided the same person; not linked by the model."""
    true_negatives: int

    @property
    def decided(self) -> int:
        return self.true_positives + self.false_positives + self.false_negatives + self.true_negatives

    @property
    def agreed(self) -> int:
        return self.true_positives + self.true_negatives

    @property
    def precision(self) -> float | None:
        linked = self.true_positives + self.false_positives
        return self.true_positives / linked if linked else None

    @property
    def recall(self) -> float | None:
        same = self.true_positives + self.false_negatives
        return self.true_positives / same if same else None

    def as_text(self) -> str:
        def share(value: float | None) -> str:
            return "-" if value is None else f"{value:.4f}"

        return "\n".join(
            [
                f"{'decided pairs':<34} {self.decided:>8,}",
                f"{'  the same person':<34} {self.true_positives + self.false_negatives:>8,}",
                f"{'  not the same person':<34} {self.false_positives + self.true_negatives:>8,}",
                f"{'agreed with the model':<34} {self.agreed:>8,}",
                f"{'linked by the model, people agreed':<34} {self.true_positives:>8,}",
                f"{'linked by the model, people did not':<34} {self.false_positives:>8,}",
                f"{'not linked, people said the same':<34} {self.false_negatives:>8,}",
                f"{'precision on the decided pairs':<34} {share(self.precision):>8}",
                f"{'recall on the decided pairs':<34} {share(self.recall):>8}",
            ]
        )


def label_accuracy(build: Build) -> LabelAccuracy | None:
    """Count the build's labelled pairs by decision and by the model's verdict; None for a build written before
    the review band."""
    with build.connect() as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if LABELS not in tables:
            return None
        row = con.execute(
            "SELECT COUNT(*) FILTER (WHERE same_person AND linked_by_model), "
            "COUNT(*) FILTER (WHERE NOT same_person AND linked_by_model), "
            "COUNT(*) FILTER (WHERE same_person AND NOT linked_by_model), "
            f"COUNT(*) FILTER (WHERE NOT same_person AND NOT linked_by_model) FROM {LABELS}"
        ).fetchall()[0]
    return LabelAccuracy(
        true_positives=int(row[0]), false_positives=int(row[1]), false_negatives=int(row[2]), true_negatives=int(row[3])
    )


def m_from_labels(
    model: TrainedModel,
    *,
    prepared: SplinkDataFrame,
    matches: Sequence[tuple[str, str]],
    min_labels: int = MIN_MATCH_LABELS,
) -> TrainedModel | None:
    """The model with every comparison level's m estimated from ``matches`` (pairs of ``unique_id`` decided "the
    same person") by Splink's ``estimate_m_from_pairwise_labels``, u and the prior unchanged; None when there are
    fewer than ``min_labels`` pairs. A level no labelled pair falls in keeps the m it had (Splink's own rule)."""
    pairs = sorted({(min(a, b), max(a, b)) for a, b in matches if a != b})
    if len(pairs) < min_labels:
        return None
    linker = Linker(prepared, model.splink_model, log_level=SPLINK_LOG_LEVEL)
    table = pa.table(
        {
            "source_dataset_l": pa.array([prepared.templated_name] * len(pairs), pa.string()),
            "unique_id_l": pa.array([a for a, _ in pairs], pa.string()),
            "source_dataset_r": pa.array([prepared.templated_name] * len(pairs), pa.string()),
            "unique_id_r": pa.array([b for _, b in pairs], pa.string()),
        }
    )
    labels = linker.table_management.register_table(table, "__cg_match_labels", overwrite=True)
    linker.training.estimate_m_from_pairwise_labels(labels)  # type: ignore[no-untyped-call]
    splink_model = _fill_unseen_u(linker.misc.save_model_to_json())
    return model.model_copy(
        update={"splink_model": splink_model, "parameters": ModelParameters.from_splink_settings(splink_model)}
    )
