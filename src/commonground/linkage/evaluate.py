"""How good are the clusters? Pairwise and cluster measures against a truth, and threshold sweeps.

Pairwise measures count pairs of records: a predicted pair is two records in the same predicted
cluster, a true pair two records of the same true entity. Nothing enumerates pairs: every count
comes from cluster sizes, since a group of n records holds n(n-1)/2 pairs. True positives are
summed over the cells of the (predicted cluster x true entity) cross-tabulation.

The sweep clusters again at every threshold: scipy's connected components of the pairs at or above
it (what Splink's ``cluster_pairwise_predictions_at_threshold`` computes, and what a build does,
:mod:`.components`), a few seconds a threshold at 1,000,000 people.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from commonground.linkage.components import component_labels


class PairwiseScores(BaseModel):
    model_config = ConfigDict(frozen=True)

    true_positives: int
    predicted_pairs: int
    true_pairs: int

    @property
    def false_positives(self) -> int:
        return self.predicted_pairs - self.true_positives

    @property
    def false_negatives(self) -> int:
        return self.true_pairs - self.true_positives

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


class ClusterScores(BaseModel):
    """Measures of whole clusters. A false merge (one cluster holding two people) is the
    costliest error here: it shows one person's history beside another's."""

    model_config = ConfigDict(frozen=True)

    records: int
    predicted_clusters: int
    true_entities: int
    exact_clusters: int
    """True entities reproduced exactly: one predicted cluster, holding nobody else."""
    split_entities: int
    """True entities spread over more than one predicted cluster."""
    merged_clusters: int
    """Predicted clusters holding records of more than one true entity."""
    bcubed_precision: float
    bcubed_recall: float

    @property
    def exact_cluster_share(self) -> float:
        return self.exact_clusters / self.true_entities if self.true_entities else 1.0


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _codes(labels: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    """Dense integer codes for labels, compared as text (so 7 and "7" are the same label)."""
    text = np.array([str(label) for label in labels], dtype=object)
    return np.unique(text, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _crosstab(
    predicted: Sequence[Hashable] | np.ndarray, truth: Sequence[Hashable] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Codes and counts: (pred code per cell, truth code per cell, cell size, pred sizes, truth sizes)."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and true labels must be given for the same records")
    p, t = _codes(predicted), _codes(truth)
    n_t = int(t.max()) + 1 if len(t) else 1
    cells, cell_sizes = np.unique(p * n_t + t, return_counts=True)
    pred_sizes = np.bincount(p) if len(p) else np.zeros(0, np.int64)
    truth_sizes = np.bincount(t) if len(t) else np.zeros(0, np.int64)
    return cells // n_t, cells % n_t, cell_sizes, pred_sizes, truth_sizes


def pairwise_scores(
    predicted: Sequence[Hashable] | np.ndarray, truth: Sequence[Hashable] | np.ndarray
) -> PairwiseScores:
    """Pairwise precision, recall and F1 of predicted cluster labels against true entity labels,
    given for the same records in the same order."""
    _, _, cell_sizes, pred_sizes, truth_sizes = _crosstab(predicted, truth)
    return PairwiseScores(
        true_positives=_pairs(cell_sizes), predicted_pairs=_pairs(pred_sizes), true_pairs=_pairs(truth_sizes)
    )


def cluster_scores(predicted: Sequence[Hashable] | np.ndarray, truth: Sequence[Hashable] | np.ndarray) -> ClusterScores:
    cell_p, cell_t, cell_sizes, pred_sizes, truth_sizes = _crosstab(predicted, truth)
    n = int(cell_sizes.sum())
    cells_per_pred = np.bincount(cell_p, minlength=len(pred_sizes))
    cells_per_truth = np.bincount(cell_t, minlength=len(truth_sizes))
    exact = (cell_sizes == pred_sizes[cell_p]) & (cell_sizes == truth_sizes[cell_t])
    sq = cell_sizes.astype(np.float64) ** 2
    return ClusterScores(
        records=n,
        predicted_clusters=len(pred_sizes),
        true_entities=len(truth_sizes),
        exact_clusters=int(exact.sum()),
        split_entities=int((cells_per_truth > 1).sum()),
        merged_clusters=int((cells_per_pred > 1).sum()),
        bcubed_precision=float((sq / pred_sizes[cell_p]).sum() / n) if n else 1.0,
        bcubed_recall=float((sq / truth_sizes[cell_t]).sum() / n) if n else 1.0,
    )


class SweepPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    threshold_match_weight: float
    scores: PairwiseScores

    @property
    def precision(self) -> float:
        return self.scores.precision

    @property
    def recall(self) -> float:
        return self.scores.recall

    @property
    def f1(self) -> float:
        return self.scores.f1


def threshold_sweep(
    *,
    record_ids: Sequence[Hashable],
    truth: Sequence[Hashable],
    edges: Iterable[tuple[Hashable, Hashable, float]],
    thresholds: Iterable[float],
) -> list[SweepPoint]:
    """Pairwise scores of connected-component clusters at each match-weight threshold.

    ``record_ids`` and ``truth`` list every record and its true entity (records in no edge are
    clusters of one); ``edges`` are scored pairs ``(id_l, id_r, match_weight)``. A pair joins
    when its weight is at or above the threshold, as in Splink's clustering.
    """
    index = {rid: i for i, rid in enumerate(record_ids)}
    if len(index) != len(record_ids):
        raise ValueError("record ids must be unique")
    left: list[int] = []
    right: list[int] = []
    weights: list[float] = []
    for a, b, w in edges:
        left.append(index[a])
        right.append(index[b])
        weights.append(float(w))
    return threshold_sweep_arrays(
        left=np.array(left, dtype=np.int64),
        right=np.array(right, dtype=np.int64),
        weights=np.array(weights, dtype=np.float64),
        truth_codes=_codes(truth),
        thresholds=thresholds,
    )


def threshold_sweep_arrays(
    *,
    left: np.ndarray,
    right: np.ndarray,
    weights: np.ndarray,
    truth_codes: np.ndarray,
    thresholds: Iterable[float],
) -> list[SweepPoint]:
    """:func:`threshold_sweep` on arrays, for areas too big for Python objects (1,000,000 people):
    records are ``0 .. len(truth_codes) - 1`` and ``truth_codes`` their true entities as integers;
    edge ``i`` joins ``left[i]`` and ``right[i]`` with ``weights[i]``. At each threshold the
    clusters are scipy's connected components of the edges at or above it."""
    records = len(truth_codes)
    truth_codes = np.asarray(truth_codes, dtype=np.int64)
    true_pairs = _pairs(np.bincount(truth_codes)) if records else 0
    entities = int(truth_codes.max()) + 1 if records else 1
    points = []
    for threshold in sorted(set(thresholds)):
        kept = weights >= threshold
        labels = component_labels(left[kept], right[kept], nodes=records)[1].astype(np.int64)
        cell_sizes = np.unique(labels * entities + truth_codes, return_counts=True)[1]
        points.append(
            SweepPoint(
                threshold_match_weight=threshold,
                scores=PairwiseScores(
                    true_positives=_pairs(cell_sizes),
                    predicted_pairs=_pairs(np.bincount(labels)) if records else 0,
                    true_pairs=true_pairs,
                ),
            )
        )
    return points


def choose_threshold(points: Sequence[SweepPoint], *, min_precision: float | None = None) -> SweepPoint:
    """The threshold to use: with ``min_precision``, the lowest threshold (most recall) whose
    precision reaches it; otherwise (or if none does) the best F1, the higher threshold on a tie."""
    if not points:
        raise ValueError("no sweep points to choose from")
    if min_precision is not None:
        good = [p for p in points if p.precision >= min_precision]
        if good:
            return min(good, key=lambda p: p.threshold_match_weight)
    return max(points, key=lambda p: (round(p.f1, 12), p.threshold_match_weight))


def sweep_table(points: Sequence[SweepPoint]) -> str:
    lines = ["threshold  precision  recall   F1      false+  false-"]
    for p in points:
        lines.append(
            f"{p.threshold_match_weight:9.2f}  {p.precision:9.4f}  {p.recall:6.4f}  {p.f1:6.4f}"
            f"  {p.scores.false_positives:6d}  {p.scores.false_negatives:6d}"
        )
    return "\n".join(lines)


def labels_for(record_ids: Sequence[Hashable], mapping: Mapping[Hashable, Hashable]) -> list[Hashable]:
    """Labels for ``record_ids`` from ``mapping``; a record absent from it is an entity of its own."""
    return [mapping.get(rid, ("__alone__", rid)) for rid in record_ids]


class ErrorRecall(BaseModel):
    """Recall among the true pairs that involve a record carrying one kind of error (issue #15)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    records: int
    """Records carrying the error."""
    true_pairs: int
    """True pairs (two records of one person) of which at least one record carries the error."""
    found: int
    """Of those, the pairs the clusters put together."""

    @property
    def recall(self) -> float:
        return self.found / self.true_pairs if self.true_pairs else 1.0


def _pairs_touching(sizes: np.ndarray, marked: np.ndarray) -> int:
    """Pairs within groups of ``sizes`` records, ``marked`` of them carrying the error, with at least one marked:
    all pairs less those among the unmarked."""
    return _pairs(sizes) - _pairs(sizes - marked)


def recall_by_error(
    predicted: Sequence[Hashable] | np.ndarray,
    truth: Sequence[Hashable] | np.ndarray,
    errors: Mapping[str, np.ndarray],
) -> list[ErrorRecall]:
    """For each kind of error (a boolean mask over the same records as ``predicted`` and ``truth``): the true pairs
    with at least one record carrying it, and how many of them the predicted clusters keep together. From counts
    per true entity and per (predicted cluster x true entity) cell, as the pairwise measures are: a group of n
    records, m of them carrying the error, holds n(n-1)/2 - (n-m)(n-m-1)/2 such pairs."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and true labels must be given for the same records")
    p, t = _codes(predicted), _codes(truth)
    n_t = int(t.max()) + 1 if len(t) else 1
    cell = p * n_t + t
    _, cell_index = np.unique(cell, return_inverse=True)
    cell_index = cell_index.reshape(-1)
    cell_sizes = np.bincount(cell_index) if len(cell_index) else np.zeros(0, np.int64)
    truth_sizes = np.bincount(t) if len(t) else np.zeros(0, np.int64)
    out = []
    for kind, mask in errors.items():
        marked = np.asarray(mask, dtype=bool)
        if len(marked) != len(t):
            raise ValueError(f"the mask for {kind!r} is not over the same records")
        in_truth = np.bincount(t, weights=marked, minlength=len(truth_sizes)).astype(np.int64)
        in_cell = np.bincount(cell_index, weights=marked, minlength=len(cell_sizes)).astype(np.int64)
        out.append(
            ErrorRecall(
                kind=kind,
                records=int(marked.sum()),
                true_pairs=_pairs_touching(truth_sizes, in_truth),
                found=_pairs_touching(cell_sizes, in_cell),
            )
        )
    return out
