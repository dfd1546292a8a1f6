"""The fixed vocabularies of the library: the EIF evidence levels and the EMMIE dimensions of the College of
Policing Crime Reduction Toolkit (described in words), and the lists entries are filtered by.

Sources: Early Intervention Foundation, "EIF evidence standards" and "How to read the Guidebook"
(guidebook.eif.org.uk); College of Policing, "About the Crime Reduction Toolkit and EMMIE"
(whatworks.college.police.uk/toolkit); Johnson, Tilley and Bowers (2015), "Introducing EMMIE: an evidence rating
scale to encourage mixed-method crime prevention synthesis reviews", Journal of Experimental Criminology 11(3).
"""

from __future__ import annotations

EIF_LEVELS: dict[str, str] = {
    "4+": "Level 4+: long-term positive impact shown in several rigorous evaluations, exceeding the level 4 threshold",
    "4": "Level 4: long-term positive impact (a year or more) shown in several rigorous evaluations",
    "3+": "Level 3+: short-term positive impact from at least one rigorous evaluation, exceeding the level 3 threshold",
    "3": "Level 3: short-term positive impact from at least one rigorous evaluation, where causality can be judged",
    "2+": "Level 2+: preliminary evidence of improving an outcome, exceeding the level 2 threshold",
    "2": "Level 2: preliminary evidence of improving an outcome, but a causal impact cannot yet be assumed",
    "NL2": "NL2 (not level 2): the most robust evaluation does not meet the level 2 threshold",
    "NE": "NE: found not to be effective in at least one rigorously conducted (level 3 quality) study",
    "not_rated": "Not rated: nobody has assessed the evidence on this scale (the EIF has not rated it)",
}
"""The Early Intervention Foundation's evidence levels: confidence that a programme causes an outcome, never the size
of the effect. A '+' means the programme exceeds the basic threshold for its level (EIF Guidebook, 2017)."""

EIF_SHORT: dict[str, str] = {k: ("Not rated" if k == "not_rated" else k) for k in EIF_LEVELS}

EMMIE_DIMENSIONS: dict[str, str] = {
    "effect": "Effect: did it reduce the problem (or increase it), and by how much",
    "mechanism": "Mechanism: how it is meant to work, and whether the evidence shows it working that way",
    "moderators": "Moderators: where, when and for whom it works best or not at all",
    "implementation": "Implementation: what it takes to put in place, and what got in the way",
    "economic_cost": "Economic cost: what it costs, directly and indirectly, and any benefit measured",
}
"""The five dimensions of EMMIE, the framework the College of Policing Crime Reduction Toolkit uses to present
evidence from systematic reviews; each carries the evidence and, separately, the quality of that evidence."""

EMMIE_QUALITY: dict[str, str] = {
    "strong": "Strong: several good-quality studies agree",
    "moderate": "Moderate: some good-quality evidence, with gaps",
    "limited": "Limited: few studies or weak designs",
    "none": "No evidence: the studies say nothing about this",
    "not_rated": "Not rated",
}

EFFECT_DIRECTIONS: dict[str, str] = {
    "improved": "Improved",
    "worse": "Made worse",
    "no_difference": "No clear difference",
    "mixed": "Mixed",
    "unknown": "Not known",
}

PROBLEMS: dict[str, str] = {
    "mental_health_crisis": "Mental-health crisis and police contact",
    "offending_health_needs": "Health and vulnerability needs of people in the justice system",
    "domestic_abuse_children": "Children exposed to domestic abuse",
    "childhood_adversity": "Childhood adversity and trauma",
    "violence": "Violence and violent injury",
    "substance_misuse": "Drug and alcohol misuse linked to offending",
    "safeguarding": "Safeguarding referrals and information sharing",
    "missing": "Missing episodes and exploitation",
    "other": "Other",
}

AGE_BANDS: dict[str, str] = {
    "children": "Children (under 12)",
    "young_people": "Young people (12 to 17)",
    "young_adults": "Young adults (18 to 25)",
    "adults": "Adults",
    "all_ages": "All ages",
}

SETTINGS: dict[str, str] = {
    "control_room": "Police control room",
    "street": "On the street or at the scene",
    "custody": "Police custody and courts",
    "school": "School",
    "emergency_department": "Emergency department",
    "community": "Community",
    "multi_agency_hub": "Multi-agency hub",
}

NEED_LEVELS: dict[str, str] = {
    "universal": "Universal (everyone)",
    "targeted": "Targeted (people at risk)",
    "specialist": "Specialist (people in crisis or with complex needs)",
}

STUDY_DESIGNS: dict[str, str] = {
    "systematic_review": "Systematic review",
    "rct": "Randomised controlled trial",
    "quasi_experimental": "Quasi-experimental, with a comparison group",
    "time_series": "Interrupted time series",
    "before_after": "Before and after, no comparison group",
    "process": "Process or implementation evaluation",
    "descriptive": "Descriptive or guidance",
}
