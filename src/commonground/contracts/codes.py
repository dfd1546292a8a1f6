"""Code lists used by the feed contracts, each value with its meaning in words.

Values are canonical lower case (the CIN factor codes keep their census form, lower-cased:
``3b``). The descriptions are printed in ``docs/contracts.md`` and used by the pages.
"""

from __future__ import annotations

INCIDENT_CATEGORY_MEANINGS: dict[str, str] = {
    "domestic": "Domestic incident",
    "violence": "Violence against the person",
    "concern_for_welfare": "Concern for safety or welfare",
    "mental_health": "Mental-health related",
    "missing_person": "Missing person",
    "antisocial_behaviour": "Anti-social behaviour",
    "public_order": "Public order",
    "theft": "Theft or burglary",
    "drugs": "Drugs",
    "road_traffic": "Road traffic",
    "other": "Other",
}

INCIDENT_QUALIFIER_MEANINGS: dict[str, str] = {
    "domestic_abuse": "Domestic abuse",
    "mental_health": "Mental health",
    "alcohol": "Alcohol involved",
    "drugs": "Drugs involved",
    "child_present": "A child was present",
    "missing_person": "Missing person",
    "self_harm": "Self-harm",
    "violence": "Violence",
    "weapon": "Weapon involved",
}

INCIDENT_ROLE_MEANINGS: dict[str, str] = {
    "victim": "Victim",
    "suspect": "Suspect",
    "subject": "Subject of the incident (for instance the person in crisis)",
    "witness": "Witness",
    "child_present": "Child present",
    "reporting_person": "Reporting person",
}

OFFENCE_GROUP_MEANINGS: dict[str, str] = {
    "violence": "Violence against the person",
    "sexual": "Sexual offences",
    "robbery": "Robbery",
    "theft": "Theft offences",
    "burglary": "Burglary",
    "criminal_damage": "Criminal damage and arson",
    "drugs_possession": "Possession of drugs",
    "drugs_supply": "Trafficking (supply) of drugs",
    "weapons": "Possession of weapons",
    "public_order": "Public order offences",
    "breach": "Breach of an order or licence",
    "other": "Miscellaneous crimes against society",
}

CUSTODY_VULNERABILITY_MEANINGS: dict[str, str] = {
    "mental_health": "Mental-health vulnerability",
    "substance": "Drug or alcohol dependency",
    "self_harm": "Self-harm or suicide risk",
    "learning_disability": "Learning disability",
}

RISK_LEVEL_MEANINGS: dict[str, str] = {"low": "Low risk", "medium": "Medium risk", "high": "High risk"}

TRIAGE_SETTING_MEANINGS: dict[str, str] = {
    "control_room": "Mental-health professional in the police control room",
    "vehicle": "Street-triage car",
    "phone": "Advice by telephone",
}

TRIAGE_OUTCOME_MEANINGS: dict[str, str] = {
    "no_further_action": "No further action",
    "crisis_team_referral": "Referred to the crisis team",
    "informal_admission": "Informal admission to hospital",
    "s136_detention": "Detained under section 136 of the Mental Health Act",
    "ed_conveyance": "Conveyed to the emergency department",
    "gp_referral": "Referred to the GP",
}

INJURY_INTENT_MEANINGS: dict[str, str] = {
    "assault": "Assault",
    "self_harm": "Self-harm",
    "accident": "Accident",
    "none": "Not an injury",
}

ASSAULT_LOCATION_TYPE_MEANINGS: dict[str, str] = {
    "home": "A home",
    "street": "Street or other public place",
    "licensed_premises": "Pub, bar or club",
    "school": "School or college",
    "workplace": "Workplace",
    "other": "Somewhere else",
}

WEAPON_MEANINGS: dict[str, str] = {
    "none": "No weapon (bodily force)",
    "knife": "Knife or other sharp object",
    "blunt": "Blunt object",
    "firearm": "Firearm",
    "glass": "Glass or bottle",
    "other": "Other",
}

MH_SERVICE_MEANINGS: dict[str, str] = {
    "crisis": "Crisis resolution and home treatment",
    "community": "Community mental-health team",
    "inpatient": "Inpatient admission",
    "camhs": "Children and young people's mental-health service",
    "liaison": "Liaison psychiatry (emergency department or custody)",
}

MHA_SECTION_MEANINGS: dict[str, str] = {
    "2": "Section 2 (admission for assessment)",
    "3": "Section 3 (admission for treatment)",
    "135": "Section 135 (warrant to enter premises)",
    "136": "Section 136 (removal from a public place to a place of safety)",
}

SUBSTANCE_MEANINGS: dict[str, str] = {
    "alcohol": "Alcohol",
    "opiates": "Opiates",
    "crack": "Crack cocaine",
    "cocaine": "Powder cocaine",
    "cannabis": "Cannabis",
    "other": "Other drugs",
}

# Children in Need census: factors identified at the end of assessment. The order follows the
# Department for Education's census guide (1 alcohol, 2 drugs, 3 domestic abuse, 4 mental
# health, each concerning A the child, B a parent or carer, C another person in the household).
CIN_FACTOR_MEANINGS: dict[str, str] = {
    "1a": "Alcohol misuse: concerns about the child",
    "1b": "Alcohol misuse: concerns about a parent or carer",
    "1c": "Alcohol misuse: concerns about another person living in the household",
    "2a": "Drug misuse: concerns about the child",
    "2b": "Drug misuse: concerns about a parent or carer",
    "2c": "Drug misuse: concerns about another person living in the household",
    "3a": "Domestic abuse: concerns about the child being the subject",
    "3b": "Domestic abuse: concerns about a parent or carer being the subject",
    "3c": "Domestic abuse: concerns about another person living in the household being the subject",
    "4a": "Mental health: concerns about the child",
    "4b": "Mental health: concerns about a parent or carer",
    "4c": "Mental health: concerns about another person living in the household",
    "5a": "Learning disability: concerns about the child",
    "5b": "Learning disability: concerns about a parent or carer",
    "5c": "Learning disability: concerns about another person living in the household",
    "6a": "Physical disability or illness: concerns about the child",
    "6b": "Physical disability or illness: concerns about a parent or carer",
    "6c": "Physical disability or illness: concerns about another person living in the household",
    "7a": "Young carer",
    "8b": "Privately fostered: other",
    "8c": "Privately fostered: going to or from the UK",
    "8d": "Privately fostered: the parent is studying",
    "8e": "Privately fostered: the parent's work",
    "8f": "Privately fostered: the parent has separated or divorced",
    "9a": "Unaccompanied asylum-seeking child",
    "10a": "Going or being missing",
    "11a": "Child sexual exploitation",
    "12a": "Trafficking",
    "13a": "Gangs",
    "14a": "Socially unacceptable behaviour",
    "15a": "Self-harm",
    "16a": "Neglect",
    "17a": "Emotional abuse",
    "18a": "Physical abuse",
    "19a": "Sexual abuse",
    "20": "Female genital mutilation",
    "21": "No factors identified",
    "22a": "Abuse linked to faith or belief",
    "23a": "Child criminal exploitation",
    "24a": "Homelessness",
}

CP_PLAN_CATEGORY_MEANINGS: dict[str, str] = {
    "neglect": "Neglect",
    "physical": "Physical abuse",
    "emotional": "Emotional abuse",
    "sexual": "Sexual abuse",
    "multiple": "Multiple categories",
}

SCHOOL_PHASE_MEANINGS: dict[str, str] = {
    "primary": "Primary",
    "secondary": "Secondary",
    "all_through": "All-through",
    "special": "Special school",
}

YEAR_GROUP_MEANINGS: dict[str, str] = {"r": "Reception", **{str(y): f"Year {y}" for y in range(1, 14)}}

DECILE_MEANINGS: dict[str, str] = {str(d): f"Decile {d}" for d in range(1, 11)}

INCIDENT_CATEGORIES = tuple(INCIDENT_CATEGORY_MEANINGS)
INCIDENT_QUALIFIERS = tuple(INCIDENT_QUALIFIER_MEANINGS)
INCIDENT_ROLES = tuple(INCIDENT_ROLE_MEANINGS)
OFFENCE_GROUPS = tuple(OFFENCE_GROUP_MEANINGS)
CUSTODY_VULNERABILITIES = tuple(CUSTODY_VULNERABILITY_MEANINGS)
RISK_LEVELS = tuple(RISK_LEVEL_MEANINGS)
TRIAGE_SETTINGS = tuple(TRIAGE_SETTING_MEANINGS)
TRIAGE_OUTCOMES = tuple(TRIAGE_OUTCOME_MEANINGS)
INJURY_INTENTS = tuple(INJURY_INTENT_MEANINGS)
ASSAULT_LOCATION_TYPES = tuple(ASSAULT_LOCATION_TYPE_MEANINGS)
WEAPONS = tuple(WEAPON_MEANINGS)
MH_SERVICES = tuple(MH_SERVICE_MEANINGS)
MHA_SECTIONS = tuple(MHA_SECTION_MEANINGS)
SUBSTANCES = tuple(SUBSTANCE_MEANINGS)
CIN_FACTOR_CODES = tuple(CIN_FACTOR_MEANINGS)
CP_PLAN_CATEGORIES = tuple(CP_PLAN_CATEGORY_MEANINGS)
SCHOOL_PHASES = tuple(SCHOOL_PHASE_MEANINGS)
YEAR_GROUPS = tuple(YEAR_GROUP_MEANINGS)
DECILES = tuple(DECILE_MEANINGS)

MEANINGS: dict[tuple[str, ...], dict[str, str]] = {
    tuple(m): m
    for m in (
        INCIDENT_CATEGORY_MEANINGS,
        INCIDENT_QUALIFIER_MEANINGS,
        INCIDENT_ROLE_MEANINGS,
        OFFENCE_GROUP_MEANINGS,
        CUSTODY_VULNERABILITY_MEANINGS,
        RISK_LEVEL_MEANINGS,
        TRIAGE_SETTING_MEANINGS,
        TRIAGE_OUTCOME_MEANINGS,
        INJURY_INTENT_MEANINGS,
        ASSAULT_LOCATION_TYPE_MEANINGS,
        WEAPON_MEANINGS,
        MH_SERVICE_MEANINGS,
        MHA_SECTION_MEANINGS,
        SUBSTANCE_MEANINGS,
        CIN_FACTOR_MEANINGS,
        CP_PLAN_CATEGORY_MEANINGS,
        SCHOOL_PHASE_MEANINGS,
        YEAR_GROUP_MEANINGS,
        DECILE_MEANINGS,
    )
}
"""The meanings of each code list, found by its tuple of values (as a column holds it)."""
