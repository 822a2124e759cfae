"""The FHIR R4 read API (the app is `fhir_api`: `fhir` is the namespace of the fhir.resources
package, which the tests validate with): metadata, read, version read, search and history.

Each view finds its rows through the access rule (fhir_api.resources sources, built on the
selectors of the pages) and writes the look to the access log as a page does: a read is one
row naming the person, a search one list row with a row per person shown. A system client
is named in those rows (participants.audit reads `request.system_client`).
"""

import functools
import hashlib
import json
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.cache import never_cache

from participants import audit
from participants.models import AccessLog, Person

from . import codes as c
from .auth import AuthError, SystemPrincipal, api_base, principal_for, token_url
from .params import FhirError, date_q, paging, tokens
from .resources import TYPES, ResourceType, clean, consent_versions, context_for, instant

GENERIC_PARAMS = {"_id", "_lastUpdated", "_count", "_offset", "_sort", "_format"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}


def fhir_response(data: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{c.CONTENT_TYPE}; fhirVersion=4.0; charset=utf-8",
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def operation_outcome(status: int, message: str, code: str = "invalid") -> HttpResponse:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = f'Bearer realm="fhir", token_uri="{token_url()}"'
    return fhir_response(outcome, status, headers)


def api_view(view):
    """GET only; the caller signed in (or `public`); bad input an OperationOutcome."""

    @never_cache
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return operation_outcome(405, "This API only reads (GET).", "not-supported")
        if request.GET.get("_format", "json") not in JSON_FORMATS:
            return operation_outcome(406, "Only JSON (application/fhir+json).", "not-supported")
        if any("\x00" in part for key, values in request.GET.lists() for part in [key, *values]):
            # PostgreSQL cannot hold a NUL in a string: refused here, not by the database.
            return operation_outcome(400, "A parameter holds a NUL character.")
        try:
            return view(request, *args, **kwargs)
        except AuthError as error:
            code = "login" if error.status == 401 else "forbidden"
            return operation_outcome(error.status, error.message, code)
        except FhirError as error:
            return operation_outcome(error.status, error.message, error.code)

    return wrapper


def _resource_type(principal, name: str) -> ResourceType:
    rtype = TYPES.get(name)
    if rtype is None:
        raise FhirError(404, f"{name} is not a resource type this server has.", "not-supported")
    if isinstance(principal, SystemPrincipal) and not principal.may_read(name):
        raise FhirError(403, f"The access token has no scope to read {name}.", "forbidden")
    return rtype


def _version_id(resource: dict) -> str:
    body = json.dumps(resource, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def finish(resource: dict, obj) -> dict:
    """The resource without empty values, with meta.versionId (a digest of its content,
    unless it carries a version of its own) and meta.lastUpdated."""
    meta = resource.pop("meta", None)
    resource = clean(resource)
    if meta is None:
        meta = {"versionId": _version_id(resource)}
        updated = getattr(obj, "last_updated", None)
        if updated is not None:
            meta["lastUpdated"] = instant(updated)
    return {
        "resourceType": resource.pop("resourceType"),
        "id": resource.pop("id"),
        "meta": meta,
    } | (resource)


def _etag(resource: dict) -> str:
    return f'W/"{resource["meta"]["versionId"]}"'


def _log_read(request, rtype, source, obj, *, denied: bool = False) -> None:
    person_id = source.person_of(obj)
    if not rtype.logged or person_id is None:
        return
    audit.log_access(
        request,
        person=Person(pk=person_id),
        action=AccessLog.Action.VIEW,
        obj=obj,
        object_type=f"fhir.{rtype.name.lower()}",
        outcome=AccessLog.Outcome.DENIED if denied else AccessLog.Outcome.ALLOWED,
    )


def _find(request, principal, rtype: ResourceType, ident: str):
    """(source, object) of the id if the caller may see it; 404 otherwise, the same as for
    an id that does not exist (a refused look at something that exists is logged)."""
    source, raw = rtype.source_for(ident)
    if not raw.isdigit() or len(raw) > 18:
        raise FhirError(404, f"{rtype.name}/{ident} is not known.", "not-found")
    found = list(source.visible(principal).filter(pk=int(raw))[:1])
    if not found:
        if rtype.logged and source.everything is not None:
            existing = source.everything().filter(pk=int(raw)).first()
            if existing is not None:
                _log_read(request, rtype, source, existing, denied=True)
        raise FhirError(404, f"{rtype.name}/{ident} is not known.", "not-found")
    return source, found[0]


def _not_modified(request, etag: str) -> bool:
    wanted = request.headers.get("If-None-Match", "")
    return bool(wanted) and etag in {tag.strip() for tag in wanted.split(",")}


@api_view
def read(request, resource_type: str, ident: str):
    principal = principal_for(request)
    rtype = _resource_type(principal, resource_type)
    source, obj = _find(request, principal, rtype, ident)
    resource = finish(source.render([obj], context_for(principal))[0], obj)
    _log_read(request, rtype, source, obj)
    etag = _etag(resource)
    if _not_modified(request, etag):
        return HttpResponse(status=304, headers={"ETag": etag})
    headers = {"ETag": etag}
    updated = getattr(obj, "last_updated", None)
    if updated is not None:
        headers["Last-Modified"] = http_date(updated.timestamp())  # RFC 9110, not ISO 8601
    return fhir_response(resource, headers=headers)


def _link(resource_type: str, params, **changes) -> str:
    query = [
        (key, value) for key, values in params.lists() if key not in changes for value in values
    ]
    query += [(key, str(value)) for key, value in changes.items() if value is not None]
    return f"{api_base()}/{resource_type}?{urlencode(query)}"


@api_view
def search(request, resource_type: str):
    principal = principal_for(request)
    rtype = _resource_type(principal, resource_type)
    params = request.GET
    allowed = GENERIC_PARAMS | set(rtype.param_names)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise FhirError(
            400,
            f"Unknown search parameter {', '.join(unknown)} for {rtype.name}: "
            f"this server refuses what it does not know (see /metadata).",
            "not-supported",
        )
    count, offset = paging(params)
    by_update = _sort(params, rtype)
    ctx = context_for(principal)
    keys = []
    sources = []
    for index, source in enumerate(rtype.sources):
        rows = _filtered(source, principal, params, rtype, ctx)
        if rows is None:
            continue
        sources.append(source)
        if by_update:
            found = rows.order_by("last_updated", "pk").values_list("last_updated", "pk")
            keys += [
                (when or timezone.now(), index, pk) for when, pk in found[: offset + count + 1]
            ]
        else:
            keys += [
                (index, pk)
                for pk in rows.order_by("pk").values_list("pk", flat=True)[: offset + count + 1]
            ]
    keys.sort()
    window = keys[offset : offset + count + 1]
    has_next, window = len(window) > count, window[:count]
    page = [(key[-2], key[-1]) for key in window]
    objects = {}
    for index, source in enumerate(rtype.sources):
        ids = [pk for i, pk in page if i == index]
        if ids:
            rows = list(source.visible(principal).filter(pk__in=ids))
            for obj, resource in zip(rows, source.render(rows, ctx), strict=True):
                objects[(index, obj.pk)] = (source, obj, finish(resource, obj))
    entries, person_ids = [], []
    for key in page:
        if key not in objects:
            continue  # changed between the two reads
        source, obj, resource = objects[key]
        person_id = source.person_of(obj)
        if person_id is not None:
            person_ids.append(person_id)
        entries.append(
            {
                "fullUrl": f"{api_base()}/{rtype.name}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
        )
    if rtype.logged:
        audit.log_list(
            request,
            person_ids=person_ids,
            list_name=AccessLog.ListName.RECORD_SYSTEM,
            object_type=f"fhir.{rtype.name.lower()}",
        )
    links = [{"relation": "self", "url": _link(rtype.name, params)}]
    if has_next:
        links.append({"relation": "next", "url": _link(rtype.name, params, _offset=offset + count)})
    if offset:
        previous = max(offset - count, 0)
        links.append({"relation": "previous", "url": _link(rtype.name, params, _offset=previous)})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(timezone.now()),
        "link": links,
        "entry": entries,
    }
    return fhir_response(clean(bundle))


def _sort(params, rtype: ResourceType) -> bool:
    value = params.get("_sort", "_id")
    if value not in ("_id", "_lastUpdated"):
        raise FhirError(400, "_sort: _id or _lastUpdated (oldest first).", "not-supported")
    if value == "_lastUpdated" and not rtype.last_updated:
        raise FhirError(400, f"{rtype.name} has no _lastUpdated here.", "not-supported")
    return value == "_lastUpdated"


def _filtered(source, principal, params, rtype, ctx):
    """The source's visible rows narrowed by the parameters, or None if it cannot match."""
    rows = source.visible(principal)
    for name in params:
        if name in ("_count", "_offset", "_sort", "_format"):
            continue
        values = params.getlist(name)
        if name == "_id":
            ids = set()
            for value in values:
                for ident in tokens(value):
                    try:
                        found, raw = rtype.source_for(ident)
                    except FhirError:
                        continue
                    if found is source and raw.isdigit() and len(raw) <= 18:
                        ids.add(int(raw))
            if not ids:
                return None
            rows = rows.filter(pk__in=ids)
        elif name == "_lastUpdated":
            if not rtype.last_updated:
                raise FhirError(400, f"{rtype.name} has no _lastUpdated here.", "not-supported")
            rows = rows.filter(date_q(name, values, "last_updated"))
        elif name in source.params:
            q = source.params[name](values, ctx)
            if q is None:
                return None
            rows = rows.filter(q)
        else:
            return None
    return rows


@api_view
def history(request, resource_type: str, ident: str, version: str | None = None):
    principal = principal_for(request)
    rtype = _resource_type(principal, resource_type)
    if not rtype.history:
        raise FhirError(404, f"{rtype.name} keeps no history here.", "not-supported")
    source, obj = _find(request, principal, rtype, ident)
    ctx = context_for(principal)
    if rtype.name == "Consent":
        versions = [
            (v, at, clean(res) | {"meta": {"versionId": v, "lastUpdated": instant(at)}})
            for v, at, res in consent_versions(obj)
        ]
        versions = [(v, at, finish(res, obj)) for v, at, res in versions]
    else:
        # A plan's earlier versions are not kept: its history is the version in force.
        resource = finish(source.render([obj], ctx)[0], obj)
        versions = [(resource["meta"]["versionId"], obj.last_updated, resource)]
    _log_read(request, rtype, source, obj)
    if version is not None:
        for number, _at, resource in versions:
            if number == version:
                return fhir_response(resource, headers={"ETag": _etag(resource)})
        raise FhirError(404, f"{rtype.name}/{ident} has no version {version}.", "not-found")
    entries = []
    for index, (_number, at, resource) in enumerate(reversed(versions)):
        first = index == len(versions) - 1
        entries.append(
            {
                "fullUrl": f"{api_base()}/{rtype.name}/{resource['id']}",
                "resource": resource,
                "request": {
                    "method": "POST" if first else "PUT",
                    "url": rtype.name if first else f"{rtype.name}/{resource['id']}",
                },
                "response": {
                    "status": "201" if first else "200",
                    "lastModified": instant(at),
                },
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "link": [{"relation": "self", "url": f"{api_base()}/{rtype.name}/{ident}/_history"}],
        "total": len(entries),
        "entry": entries,
    }
    return fhir_response(clean(bundle))


@api_view
def metadata(request):
    from .capability import capability_statement

    return fhir_response(capability_statement())
