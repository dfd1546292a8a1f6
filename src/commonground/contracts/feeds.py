"""The partner feeds commonground accepts, one contract each.

``docs/contracts.md`` is generated from these specs (``commonground contracts-doc``); a test
fails if it is stale. Code lists live in :mod:`commonground.contracts.codes`.
"""

from __future__ import annotations

from pathlib import Path

from commonground.contracts import codes
from commonground.contracts.spec import Column, ColumnType, FeedContract

T = ColumnType


def _record_id(what: str) -> Column:
    return Column(name="record_id", type=T.ID, description=f"The partner's own identifier of this {what}.")


DATE_OF_BIRTH = Column(name="date_of_birth", type=T.DATE, identity=True, description="Date of birth, YYYY-MM-DD.")
"""A date of birth every row must have: a blank or bad one sends the row to quarantine."""

DATE_OF_BIRTH_MAY_BE_UNKNOWN = DATE_OF_BIRTH.model_copy(
    update={
        "unknown_allowed": True,
        "description": "Date of birth, YYYY-MM-DD. Expected, but may be blank where the person would not or "
        "could not say: the row loads with a warning, and links on its other fields.",
    }
)
"""A date of birth the partner may not have (#15): a blank or bad one is blanked with a warning; the row loads."""

IDENTITY: tuple[Column, ...] = (
    Column(name="given_name", type=T.NAME, identity=True, description="First given name as recorded."),
    Column(name="family_name", type=T.NAME, identity=True, description="Family name (surname) as recorded."),
    DATE_OF_BIRTH,
    Column(
        name="sex",
        type=T.SEX,
        identity=True,
        description="F, M, X (indeterminate) or U (not known); U when the partner did not record it.",
    ),
    Column(
        name="postcode",
        type=T.POSTCODE,
        identity=True,
        nullable=True,
        description="Postcode of the person's address at the time; blank for no fixed abode.",
    ),
    Column(
        name="address",
        type=T.TEXT,
        identity=True,
        nullable=True,
        description="First line of the address, free text as recorded.",
    ),
    Column(
        name="nhs_number",
        type=T.NHS_NUMBER,
        identity=True,
        required=False,
        nullable=True,
        description="NHS number, 10 digits with a valid modulus-11 check digit. "
        "A number that fails the check is blanked with a warning, not quarantined.",
    ),
    Column(
        name="uprn",
        type=T.UPRN,
        identity=True,
        required=False,
        nullable=True,
        description="Unique Property Reference Number of the address, where the partner has it.",
    ),
)


def identity_block(*, date_of_birth_may_be_unknown: bool = False) -> tuple[Column, ...]:
    """The identity block, with a date of birth that may be blank (with a warning) or one every row must have."""
    if not date_of_birth_may_be_unknown:
        return IDENTITY
    return tuple(DATE_OF_BIRTH_MAY_BE_UNKNOWN if c.name == "date_of_birth" else c for c in IDENTITY)


def _person_feed(
    *,
    name: str,
    title: str,
    source: str,
    description: str,
    what: str,
    columns: tuple[Column, ...],
    date_of_birth_may_be_unknown: bool,
) -> FeedContract:
    return FeedContract(
        name=name,
        title=title,
        source=source,
        description=description,
        person_level=True,
        columns=(
            _record_id(what),
            *columns,
            *identity_block(date_of_birth_may_be_unknown=date_of_birth_may_be_unknown),
        ),
    )


POLICE_INCIDENTS = FeedContract(
    name="police_incidents",
    title="Police incidents",
    source="police",
    description="One row per incident the police attended or logged. The people involved are in "
    "police_incident_persons; this feed names no one.",
    person_level=False,
    unique=("record_id", "incident_id"),
    columns=(
        _record_id("incident row"),
        Column(name="incident_id", type=T.ID, description="The police incident reference (the URN on the log)."),
        Column(name="occurred_at", type=T.DATETIME, description="When the incident happened (local time)."),
        Column(name="postcode", type=T.POSTCODE, nullable=True, description="Postcode of the incident location."),
        Column(name="address", type=T.TEXT, nullable=True, description="First line of the incident location."),
        Column(
            name="uprn",
            type=T.UPRN,
            required=False,
            nullable=True,
            description="UPRN of the incident location where it is a dwelling.",
        ),
        Column(
            name="category",
            type=T.CODE,
            values=codes.INCIDENT_CATEGORIES,
            description="Opening or closing category of the incident.",
        ),
        Column(
            name="qualifiers",
            type=T.CODE_LIST,
            nullable=True,
            values=codes.INCIDENT_QUALIFIERS,
            description="NSIR-style qualifiers, ';'-separated.",
        ),
        Column(
            name="summary",
            type=T.TEXT,
            required=False,
            nullable=True,
            description="A brief account of the incident, as a police officer would write for a partner.",
        ),
        Column(
            name="officer_contact",
            type=T.TEXT,
            required=False,
            nullable=True,
            description="Who at the police partners may contact about the incident (role and number).",
        ),
    ),
)

POLICE_INCIDENT_PERSONS = _person_feed(
    name="police_incident_persons",
    title="People in police incidents",
    source="police",
    description="One row per person named on a police incident, with their role in it.",
    what="person-on-incident row",
    date_of_birth_may_be_unknown=True,
    columns=(
        Column(name="incident_id", type=T.ID, description="The incident (police_incidents.incident_id)."),
        Column(name="role", type=T.CODE, values=codes.INCIDENT_ROLES, description="The person's role."),
    ),
)

CUSTODY_RECORDS = _person_feed(
    name="custody_records",
    title="Custody records",
    source="police",
    description="One row per detention in police custody.",
    what="custody record",
    date_of_birth_may_be_unknown=True,
    columns=(
        Column(name="arrested_at", type=T.DATETIME, description="When the person was arrested."),
        Column(
            name="offence_group",
            type=T.CODE,
            values=codes.OFFENCE_GROUPS,
            description="Home Office offence group of the main offence.",
        ),
        Column(
            name="vulnerabilities",
            type=T.CODE_LIST,
            nullable=True,
            values=codes.CUSTODY_VULNERABILITIES,
            description="Vulnerabilities recorded at booking-in, ';'-separated.",
        ),
        Column(
            name="released_at",
            type=T.DATETIME,
            required=False,
            nullable=True,
            description="When the person left custody.",
        ),
        Column(
            name="liaison_diversion_referral",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="Referred to the liaison and diversion service in custody.",
        ),
    ),
)

MISSING_EPISODES = _person_feed(
    name="missing_episodes",
    title="Missing episodes",
    source="police",
    description="One row per episode of a person reported missing.",
    what="missing episode",
    date_of_birth_may_be_unknown=True,
    columns=(
        Column(name="reported_at", type=T.DATETIME, description="When the person was reported missing."),
        Column(
            name="returned_at",
            type=T.DATETIME,
            nullable=True,
            description="When the person was found or returned; blank while still missing.",
        ),
        Column(name="risk_level", type=T.CODE, values=codes.RISK_LEVELS, description="Risk grading at report."),
        Column(
            name="return_interview",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="A return home interview was offered (children).",
        ),
    ),
)

STREET_TRIAGE = _person_feed(
    name="street_triage",
    title="Street triage and control-room mental-health contacts",
    source="police and mental-health trust",
    description="One row per contact by a mental-health professional working with the police "
    "(in the control room, in a car, or by phone).",
    what="triage contact",
    date_of_birth_may_be_unknown=True,
    columns=(
        Column(name="contacted_at", type=T.DATETIME, description="When the contact began."),
        Column(name="setting", type=T.CODE, values=codes.TRIAGE_SETTINGS, description="Where the advice was given."),
        Column(name="outcome", type=T.CODE, values=codes.TRIAGE_OUTCOMES, description="The outcome of the contact."),
        Column(
            name="incident_id",
            type=T.ID,
            required=False,
            nullable=True,
            description="The police incident the contact was about, if any.",
        ),
        Column(
            name="duration_minutes",
            type=T.INTEGER,
            required=False,
            nullable=True,
            description="Length of the contact in minutes.",
        ),
        Column(
            name="known_to_services",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="The person was already known to mental-health services.",
        ),
        Column(
            name="substances_involved",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="Alcohol or drugs were involved.",
        ),
        Column(
            name="s136_avoided",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="The professional judged that a s136 detention was avoided.",
        ),
        Column(
            name="police_attendance_avoided",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="Police attendance was avoided (Right Care, Right Person).",
        ),
    ),
)

ED_ATTENDANCES = _person_feed(
    name="ed_attendances",
    title="Emergency-department attendances",
    source="acute trust (ECDS, with the ISTV items for assaults)",
    description="One row per attendance at the emergency department. The assault items "
    "(assault_at, location, weapon) are filled only when injury_intent is assault.",
    what="attendance",
    date_of_birth_may_be_unknown=True,
    columns=(
        Column(name="arrived_at", type=T.DATETIME, description="Arrival time at the department."),
        Column(
            name="injury_intent",
            type=T.CODE,
            values=codes.INJURY_INTENTS,
            description="ECDS injury intent; 'none' when the attendance was not for an injury.",
        ),
        Column(name="alcohol_involved", type=T.BOOL, nullable=True, description="Alcohol involved."),
        Column(name="drugs_involved", type=T.BOOL, nullable=True, description="Drugs involved."),
        Column(name="assault_at", type=T.DATETIME, nullable=True, description="When the assault happened."),
        Column(
            name="assault_location_type",
            type=T.CODE,
            nullable=True,
            values=codes.ASSAULT_LOCATION_TYPES,
            description="The kind of place the assault happened.",
        ),
        Column(
            name="assault_location",
            type=T.TEXT,
            nullable=True,
            description="The precise place of the assault, as the patient described it.",
        ),
        Column(
            name="weapon",
            type=T.CODE,
            nullable=True,
            values=codes.WEAPONS,
            description="The method or weapon of the assault.",
        ),
    ),
)

MENTAL_HEALTH_CONTACTS = _person_feed(
    name="mental_health_contacts",
    title="Mental-health service contacts",
    source="mental-health trust",
    description="One row per contact with a mental-health service, with any Mental Health Act section in force.",
    what="contact",
    date_of_birth_may_be_unknown=False,
    columns=(
        Column(name="contact_date", type=T.DATE, description="Date of the contact."),
        Column(name="service", type=T.CODE, values=codes.MH_SERVICES, description="The service seen."),
        Column(
            name="mha_section",
            type=T.CODE,
            nullable=True,
            values=codes.MHA_SECTIONS,
            description="Mental Health Act section in force (2, 3, 135, 136); blank for none.",
        ),
    ),
)

SUBSTANCE_TREATMENT = _person_feed(
    name="substance_treatment",
    title="Drug and alcohol treatment episodes",
    source="drug and alcohol service",
    description="One row per treatment episode.",
    what="treatment episode",
    date_of_birth_may_be_unknown=False,
    columns=(
        Column(name="start_date", type=T.DATE, description="Date treatment started."),
        Column(name="end_date", type=T.DATE, nullable=True, description="Date treatment ended; blank if ongoing."),
        Column(name="substance", type=T.CODE, values=codes.SUBSTANCES, description="The main problem substance."),
        Column(
            name="lives_with_children",
            type=T.BOOL,
            nullable=True,
            description="The person lives with children under 18 (NDTMS parental status).",
        ),
    ),
)

CHILDRENS_SOCIAL_CARE = _person_feed(
    name="childrens_social_care",
    title="Children's social care",
    source="local authority",
    description="One row per referral of a child to children's social care, with what the assessment found.",
    what="referral",
    date_of_birth_may_be_unknown=False,
    columns=(
        Column(name="referral_date", type=T.DATE, description="Date of the referral."),
        Column(name="closure_date", type=T.DATE, nullable=True, description="Date the case closed; blank if open."),
        Column(
            name="assessment_factors",
            type=T.CODE_LIST,
            nullable=True,
            values=codes.CIN_FACTOR_CODES,
            description="Children in Need census factors identified at assessment, ';'-separated codes "
            "(see the code list below).",
        ),
        Column(
            name="cp_plan_category",
            type=T.CODE,
            nullable=True,
            values=codes.CP_PLAN_CATEGORIES,
            description="Category of abuse of a child-protection plan; blank for no plan.",
        ),
        Column(name="looked_after", type=T.BOOL, nullable=True, description="The child became looked after."),
    ),
)

CUSTODIAL_SENTENCES = _person_feed(
    name="custodial_sentences",
    title="Custodial sentences",
    source="prisons and probation",
    description="One row per period in prison under sentence or on remand.",
    what="custody period",
    date_of_birth_may_be_unknown=False,
    columns=(
        Column(name="received_at", type=T.DATE, description="Date received into prison."),
        Column(name="released_at", type=T.DATE, nullable=True, description="Date released; blank if still held."),
        Column(
            name="remand",
            type=T.BOOL,
            required=False,
            nullable=True,
            description="Held on remand rather than under sentence.",
        ),
    ),
)

SCHOOL_ROLL = _person_feed(
    name="school_roll",
    title="School roll",
    source="schools and the local authority",
    description="One row per pupil on a school's roll. A child educated at home has no row.",
    what="pupil enrolment",
    date_of_birth_may_be_unknown=False,
    columns=(
        Column(name="school_urn", type=T.URN, description="The school's URN (schools.school_urn)."),
        Column(
            name="year_group",
            type=T.CODE,
            required=False,
            nullable=True,
            values=codes.YEAR_GROUPS,
            description="National curriculum year group (R, 1 to 13).",
        ),
        Column(name="enrolled_on", type=T.DATE, required=False, nullable=True, description="Date of admission."),
        Column(name="left_on", type=T.DATE, required=False, nullable=True, description="Date left the roll."),
    ),
)

SCHOOLS = FeedContract(
    name="schools",
    title="Schools",
    source="local authority (reference data)",
    description="One row per school, with its designated safeguarding lead. Names no pupil.",
    person_level=False,
    unique=("record_id", "school_urn"),
    columns=(
        _record_id("school row"),
        Column(name="school_urn", type=T.URN, description="The school's Unique Reference Number."),
        Column(name="name", type=T.TEXT, description="The school's name."),
        Column(
            name="phase",
            type=T.CODE,
            required=False,
            nullable=True,
            values=codes.SCHOOL_PHASES,
            description="Primary, secondary, all-through or special.",
        ),
        Column(name="postcode", type=T.POSTCODE, required=False, nullable=True, description="The school's postcode."),
        Column(name="dsl_name", type=T.TEXT, description="Name of the designated safeguarding lead."),
        Column(name="dsl_email", type=T.EMAIL, description="Secure email address of the designated safeguarding lead."),
    ),
)

POSTCODE_AREAS = FeedContract(
    name="postcode_areas",
    title="Postcode areas",
    source="public reference data (a postcode directory with the index of deprivation)",
    description="One row per postcode: the small area it lies in and that area's deprivation decile. "
    "Used for area statistics and fairness reports; no rule may use deprivation as a condition.",
    person_level=False,
    unique=("record_id", "postcode"),
    columns=(
        _record_id("postcode row"),
        Column(name="postcode", type=T.POSTCODE, description="The postcode."),
        Column(name="area_code", type=T.ID, description="The small area (LSOA-like) the postcode lies in."),
        Column(
            name="deprivation_decile",
            type=T.CODE,
            values=codes.DECILES,
            description="Index of multiple deprivation decile of the area: 1 most deprived, 10 least.",
        ),
    ),
)

FEEDS: dict[str, FeedContract] = {
    f.name: f
    for f in (
        POLICE_INCIDENTS,
        POLICE_INCIDENT_PERSONS,
        CUSTODY_RECORDS,
        MISSING_EPISODES,
        STREET_TRIAGE,
        ED_ATTENDANCES,
        MENTAL_HEALTH_CONTACTS,
        SUBSTANCE_TREATMENT,
        CHILDRENS_SOCIAL_CARE,
        CUSTODIAL_SENTENCES,
        SCHOOL_ROLL,
        SCHOOLS,
        POSTCODE_AREAS,
    )
}

DATE_OF_BIRTH_CHOICES: dict[str, str] = {
    "police_incident_persons": "victims, witnesses and people in crisis are named at the scene, "
    "often by someone else, and some will not or cannot say",
    "custody_records": "a detained person may refuse to give details or be unable to (drunk, "
    "injured, in crisis), and the detention happened all the same",
    "missing_episodes": "the person is absent, and whoever reports them (a friend, a hostel) may not know it",
    "street_triage": "advice is often given by phone or at the roadside about someone who will not or cannot say",
    "ed_attendances": "a patient may arrive unconscious or unidentified and is registered as unknown",
    "mental_health_contacts": "a mental-health trust registers a patient before a contact is recorded",
    "substance_treatment": "a treatment episode is reported with the person's date of birth (NDTMS)",
    "childrens_social_care": "the child's date of birth (or expected date of birth) is recorded on every referral",
    "custodial_sentences": "a person is received into prison only with a verified identity",
    "school_roll": "a school always holds a pupil's date of birth",
}
"""For each person-level feed, whether a row may have a blank date of birth, and why (docs/contracts.md)."""

FEED_SUFFIXES = (".csv", ".parquet")


def feed_for_filename(path: Path | str) -> FeedContract | None:
    """The contract a file is named after (``police_incidents.csv``), or ``None``."""
    p = Path(path)
    if p.suffix.lower() not in FEED_SUFFIXES:
        return None
    return FEEDS.get(p.stem)
