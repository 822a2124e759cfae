"""The CapabilityStatement at /fhir/R4/metadata: what the API reads and searches."""

from django.conf import settings

from . import codes as c
from .auth import api_base, token_url
from .resources import TYPES

COMMON = {
    "_id": ("token", "the resource id (several: comma)"),
    "_count": ("number", "page size, 1-100 (default 20)"),
    "_offset": ("number", "where the page starts (the next link carries it)"),
    "_sort": ("string", "_id (default) or _lastUpdated, oldest first: a stable change feed"),
}


def capability_statement() -> dict:
    resources = []
    for rtype in TYPES.values():
        params = []
        for name in rtype.param_names:
            kind = (
                "reference"
                if name
                in (
                    "patient",
                    "subject",
                    "owner",
                    "actor",
                    "based-on",
                    "practitioner",
                    "organization",
                )
                else "token"
            )
            if name == "date":
                kind = "date"
            if name == "name":
                kind = "string"
            params.append(
                {"name": name, "type": kind, "documentation": rtype.documentation.get(name, name)}
            )
        for name, (kind, doc) in COMMON.items():
            params.append({"name": name, "type": kind, "documentation": doc})
        if rtype.last_updated:
            params.append(
                {"name": "_lastUpdated", "type": "date", "documentation": "gt, ge, lt, le, eq"}
            )
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if rtype.history:
            interactions += [{"code": "vread"}, {"code": "history-instance"}]
        resources.append(
            {
                "type": rtype.name,
                "interaction": interactions,
                "versioning": "versioned" if rtype.history else "versioned-update",
                "readHistory": rtype.history,
                "conditionalRead": "not-match",
                "searchParam": params,
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-03",
        "publisher": "VOM",
        "kind": "instance",
        "software": {"name": "VOM"},
        "implementation": {"description": "VOM FHIR R4 read API", "url": api_base()},
        "fhirVersion": c.FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read only. Unknown search parameters are refused with 400 and an "
                    "OperationOutcome (strict handling). What the caller may not see answers "
                    "404, the same as what does not exist. Every read is in the access log."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        c.concept(
                            "http://terminology.hl7.org/CodeSystem/restful-security-service",
                            "SMART-on-FHIR",
                            "SMART on FHIR",
                        )
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": token_url()}],
                        }
                    ],
                    "description": (
                        "Staff: the browser session. Record systems: OAuth 2.0 client "
                        "credentials (SMART Backend Services; private_key_jwt or a client "
                        f"secret) at {token_url()}, scopes system/<Type>.read."
                    ),
                },
                "resource": resources,
            }
        ],
        "url": f"{settings.SITE_URL}/fhir/R4/metadata",
    }
