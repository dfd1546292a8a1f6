"""The kinds of partner organisation in a partnership."""

from __future__ import annotations

from enum import StrEnum


class OrganisationType(StrEnum):
    POLICE_FORCE = "police_force"
    NHS_TRUST = "nhs_trust"
    LOCAL_AUTHORITY_CHILDRENS = "local_authority_childrens"
    SCHOOL = "school"
    DRUG_ALCOHOL_SERVICE = "drug_alcohol_service"
    PUBLIC_HEALTH_TEAM = "public_health_team"

    @property
    def label(self) -> str:
        return ORGANISATION_TYPE_LABELS[self]


ORGANISATION_TYPE_LABELS: dict[OrganisationType, str] = {
    OrganisationType.POLICE_FORCE: "Police force",
    OrganisationType.NHS_TRUST: "NHS trust",
    OrganisationType.LOCAL_AUTHORITY_CHILDRENS: "Local authority children's services",
    OrganisationType.SCHOOL: "School",
    OrganisationType.DRUG_ALCOHOL_SERVICE: "Drug and alcohol service",
    OrganisationType.PUBLIC_HEALTH_TEAM: "Public health team",
}
