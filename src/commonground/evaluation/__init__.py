"""Evaluation of early interventions: a matched comparison from the linked records, and its effect.

```python
from commonground.evaluation import evaluate_intervention, read_cohort_csv, cohort_from_pairs

result = evaluate_intervention(build_dir=build.path, cohort=read_cohort_csv(path), outcome="mental_health_crisis")
print(render_text(result))            # the report, small numbers suppressed
```

See docs/evaluation.md for the method, its caveats and what the tests prove.
"""

from __future__ import annotations

from commonground.evaluation.cohort import Cohort, cohort_from_pairs, read_cohort_csv, read_person_ids
from commonground.evaluation.evaluate import Balance, EvaluationResult, evaluate_intervention
from commonground.evaluation.outcomes import OutcomeSpec, default_outcomes, load_outcomes
from commonground.stats.disclosure import NHS_ENGLAND, SmallNumbers

__all__ = [
    "NHS_ENGLAND",
    "Balance",
    "Cohort",
    "EvaluationResult",
    "OutcomeSpec",
    "SmallNumbers",
    "cohort_from_pairs",
    "default_outcomes",
    "evaluate_intervention",
    "load_outcomes",
    "read_cohort_csv",
    "read_person_ids",
]
