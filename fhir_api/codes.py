"""The code systems and identifier systems the FHIR API uses (listed in the README).

SNOMED CT, LOINC and HL7's own systems where a code exists; otherwise a code system of the
product's own, a URL under SITE_URL (`own()`), whose codes are the product's choices.
"""

from django.conf import settings

FHIR_VERSION = "4.0.1"
CONTENT_TYPE = "application/fhir+json"

# Identifiers (HL7 Sweden base profiles).
PERSONNUMMER = "urn:oid:1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER = "urn:oid:1.2.752.129.2.1.3.3"
HSA_ID = "urn:oid:1.2.752.29.4.19"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def own(name: str) -> str:
    """A code system (or extension) of the product's own."""
    return f"{settings.SITE_URL}/fhir/CodeSystem/{name}"


def extension(name: str) -> str:
    return f"{settings.SITE_URL}/fhir/StructureDefinition/{name}"


# The product's own code systems, by name: what each holds (the README lists them).
OWN_SYSTEMS = {
    "care-plan-category": "sip: a coordinated individual plan (samordnad individuell plan)",
    "decision-category": "meetings.choices.DecisionCategory",
    "person-answer": "meetings.choices.PersonAnswer (extension person-answer)",
    "decision-status": "followup.models.DecisionStatus (Task.businessStatus)",
    "agreement-kind": "meetings.choices.AgreementKind (CarePlan.note prefix)",
    "staff-role": "participants.models.Role (PractitionerRole.code, CareTeam.participant.role)",
    "organisation-kind": "participants.models.Organisation.Kind (Organization.type)",
    "task-kind": "decision, checkpoint (Task.code besides task-code#fulfill)",
    "checkpoint-kind": "followup.models.Checkpoint.Kind",
    "outcome-measure": "eq5d-3l-index, eq5d-vas, stai6-sum, eq5d-3l-profile (Observation)",
    "attendance-mode": "meetings.models.Participant.Mode (extension attendance-mode)",
    "consent-provision": "meeting, share-information (Consent.provision.code)",
}


def coding(system: str, code: str, display: str = "") -> dict:
    result = {"system": system, "code": code}
    if display:
        result["display"] = str(display)
    return result


def concept(system: str, code: str, display: str = "") -> dict:
    result = {"coding": [coding(system, code, display)]}
    if display:
        result["text"] = str(display)
    return result
