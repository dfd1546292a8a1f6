"""The purposes for which partners share and open identifiable records. An agreement lists the purposes it
allows; whoever opens a person's record says which of them they are acting for, and the audit log keeps it."""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    SAFEGUARDING_CHILDREN = "safeguarding_children"
    SAFEGUARDING_ADULTS = "safeguarding_adults"
    OPERATION_ENCOMPASS = "operation_encompass"
    MENTAL_HEALTH_CRISIS_CARE = "mental_health_crisis_care"
    CRIME_PREVENTION = "crime_prevention"
    DIRECT_CARE = "direct_care"

    @property
    def description(self) -> str:
        return PURPOSE_DESCRIPTIONS[self]

    @property
    def label(self) -> str:
        """The purpose in a few words, as pages show it ("Safeguarding adults"); the value is for forms and data."""
        return PURPOSE_LABELS[self]


PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.SAFEGUARDING_CHILDREN: "Safeguarding children",
    Purpose.SAFEGUARDING_ADULTS: "Safeguarding adults",
    Purpose.OPERATION_ENCOMPASS: "Operation Encompass",
    Purpose.MENTAL_HEALTH_CRISIS_CARE: "Mental-health crisis care",
    Purpose.CRIME_PREVENTION: "Crime prevention",
    Purpose.DIRECT_CARE: "Direct care",
}


PURPOSE_DESCRIPTIONS: dict[Purpose, str] = {
    Purpose.SAFEGUARDING_CHILDREN: "Protecting a child from harm (Children Act 2004 s11; Children Act 1989 s17, s47)",
    Purpose.SAFEGUARDING_ADULTS: "Protecting an adult at risk (Care Act 2014 s42)",
    Purpose.OPERATION_ENCOMPASS: "Telling a child's school of a domestic-abuse incident before the next school day",
    Purpose.MENTAL_HEALTH_CRISIS_CARE: "Advice and care for a person in mental-health crisis (street triage)",
    Purpose.CRIME_PREVENTION: "Preventing crime and disorder (Crime and Disorder Act 1998 s115)",
    Purpose.DIRECT_CARE: "Care of the individual by a health or care professional (Caldicott principles)",
}
