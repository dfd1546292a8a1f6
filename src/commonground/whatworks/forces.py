"""The reference list of the landscape review: the 43 territorial police forces of England and Wales, each with its
region (the nine English regions and Wales), and the standard choice lists of the survey."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Force:
    code: str
    name: str
    region: str


_BY_REGION: dict[str, tuple[tuple[str, str], ...]] = {
    "North East": (("CLE", "Cleveland Police"), ("DUR", "Durham Constabulary"), ("NBR", "Northumbria Police")),
    "North West": (
        ("CHE", "Cheshire Constabulary"),
        ("CUM", "Cumbria Constabulary"),
        ("GMP", "Greater Manchester Police"),
        ("LAN", "Lancashire Constabulary"),
        ("MER", "Merseyside Police"),
    ),
    "Yorkshire and the Humber": (
        ("HUM", "Humberside Police"),
        ("NYP", "North Yorkshire Police"),
        ("SYP", "South Yorkshire Police"),
        ("WYP", "West Yorkshire Police"),
    ),
    "East Midlands": (
        ("DER", "Derbyshire Constabulary"),
        ("LEI", "Leicestershire Police"),
        ("LIN", "Lincolnshire Police"),
        ("NTH", "Northamptonshire Police"),
        ("NOT", "Nottinghamshire Police"),
    ),
    "West Midlands": (
        ("STA", "Staffordshire Police"),
        ("WAR", "Warwickshire Police"),
        ("WMC", "West Mercia Police"),
        ("WMP", "West Midlands Police"),
    ),
    "East of England": (
        ("BED", "Bedfordshire Police"),
        ("CAM", "Cambridgeshire Constabulary"),
        ("ESS", "Essex Police"),
        ("HER", "Hertfordshire Constabulary"),
        ("NOR", "Norfolk Constabulary"),
        ("SUF", "Suffolk Constabulary"),
    ),
    "London": (("COL", "City of London Police"), ("MPS", "Metropolitan Police Service")),
    "South East": (
        ("HAM", "Hampshire and Isle of Wight Constabulary"),
        ("KEN", "Kent Police"),
        ("SUR", "Surrey Police"),
        ("SUS", "Sussex Police"),
        ("TVP", "Thames Valley Police"),
    ),
    "South West": (
        ("ASP", "Avon and Somerset Police"),
        ("DCP", "Devon and Cornwall Police"),
        ("DOR", "Dorset Police"),
        ("GLO", "Gloucestershire Constabulary"),
        ("WIL", "Wiltshire Police"),
    ),
    "Wales": (
        ("DPP", "Dyfed-Powys Police"),
        ("GWE", "Gwent Police"),
        ("NWP", "North Wales Police"),
        ("SWP", "South Wales Police"),
    ),
}

FORCES: tuple[Force, ...] = tuple(
    Force(code=code, name=name, region=region) for region, forces in _BY_REGION.items() for code, name in forces
)
FORCES_BY_CODE: dict[str, Force] = {force.code: force for force in FORCES}
REGIONS: tuple[str, ...] = tuple(_BY_REGION)

PRACTICES: tuple[str, ...] = (
    "Mental-health professionals in the police control room",
    "Street triage (mental-health professional with officers)",
    "Liaison and diversion in custody",
    "Operation Encompass (notices to schools)",
    "ACE-informed or trauma-informed policing",
    "Cardiff model (sharing emergency-department violence data)",
    "Drug and alcohol arrest referral or treatment pathway",
    "Multi-Agency Safeguarding Hub",
    "Right Care Right Person",
)

PARTNERS: tuple[str, ...] = (
    "NHS mental-health trust",
    "Acute hospital or emergency department",
    "Ambulance service",
    "Local authority children's services",
    "Local authority adult services",
    "Schools",
    "Drug and alcohol services",
    "Public health team",
    "Voluntary sector",
)

SINCE: tuple[str, ...] = ("Before 2015", "2015 to 2019", "2020 to 2022", "2023 or later", "We do not run any")

BARRIERS: tuple[str, ...] = (
    "Information sharing and data protection",
    "IT systems that do not talk to each other",
    "Funding (short-term or none)",
    "Organisational culture",
    "Lack of national ownership",
    "Staffing and recruitment",
    "Lack of evidence of what works",
    "Leadership commitment",
)

ORGANISATION_KINDS: dict[str, str] = {
    "police_force": "Police force",
    "health": "Health",
    "local_authority": "Local authority",
    "other": "Other partner",
}
