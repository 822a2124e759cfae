"""The register extract's meetings sections (issue 8): everything held about the person's
meetings, as the asking staff member's organisation may see it.

Personas: alice the nurse (home health care: initiated both meetings), bob the home-help
coordinator (a partner: sees the shared meeting only), charlie the outsider (404)."""

import json

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import Meeting
from participants.extract import person_extract

from ..conftest import advance_meeting
from ..summary_fixtures import make_held_meeting

pytestmark = pytest.mark.django_db
S = Meeting.State
HOME_HELP_TOPIC = "Hemtjänstens eget ämne: ekonomin"


@pytest.fixture
def meetings(marea, meeting_in):
    held = make_held_meeting(marea, meeting_in)
    services.private_topic_add(
        actor=marea.coordinator, meeting=held, organisation=marea.home_help,
        raised_by="relative", text=HOME_HELP_TOPIC,
    )  # fmt: skip
    declined = advance_meeting(marea, S.DECLINED)  # never shared: home health care's alone
    return held, declined


def extract_as(login, user, person) -> dict:
    response = login(user).get(reverse("person_extract_json", kwargs={"pk": person.pk}))
    assert response.status_code == 200
    return json.loads(response.content)["sections"]


def test_the_initiating_organisation_gets_both_meetings_and_its_own_private_topics(
    marea, meetings, login
):
    held, declined = meetings
    sections = extract_as(login, marea.nurse, marea.person)
    keys = list(sections)
    assert keys.index("meetings") > keys.index("access_log")  # after the person's own sections
    assert keys.index("meeting_decisions") < keys.index("followup_decisions")
    assert sections["meetings_scope"]["organisations"] == marea.health_care.name
    assert {m["meeting_id"] for m in sections["meetings"]} == {held.pk, declined.pk}
    meeting = next(m for m in sections["meetings"] if m["meeting_id"] == held.pk)
    assert meeting["reason_text"] == "Har gått ner 4 kg på en månad."
    assert {c["wants_meeting"] for c in sections["meeting_consents"]} == {True, False}
    who = {p["who"] for p in sections["meeting_participants"]}
    assert marea.relative.name in who and any(marea.health_care.name in w for w in who)
    assert sections["meeting_contributions"][0]["what_matters"].startswith("Att mamma får bo")
    assert any("Hjärtsvikt" in n["text"] for n in sections["meeting_notes"])
    assert len(sections["meeting_decisions"]) == 3
    assert {a["agreement_kind"] for a in sections["meeting_agreements"]}
    # topics outside the group: its own organisation's only, never another's
    assert [t["topic"] for t in sections["meeting_private_topics"]] == ["HEMLIGT ÄMNE: alkohol"]
    assert HOME_HELP_TOPIC not in json.dumps(sections, ensure_ascii=False)


def test_a_partner_gets_only_what_it_may_see(marea, meetings, login):
    held, declined = meetings
    sections = extract_as(login, marea.coordinator, marea.person)
    text = json.dumps(sections, ensure_ascii=False)
    assert sections["meetings_scope"]["organisations"] == marea.home_help.name
    assert [m["meeting_id"] for m in sections["meetings"]] == [held.pk]
    assert {c["meeting_id"] for c in sections["meeting_consents"]} == {held.pk}
    assert [t["topic"] for t in sections["meeting_private_topics"]] == [HOME_HELP_TOPIC]
    assert "HEMLIGT ÄMNE" not in text
    # the change history of the meeting it may not see is left out too
    history = [(c["object"], c["object_id"]) for c in sections["change_history"]]
    assert str(held.pk) in {object_id for _o, object_id in history}
    meeting_label = next(o for o, i in history if i == str(held.pk))
    assert (meeting_label, str(declined.pk)) not in history
    # without a viewer (the operator, the controller as a whole) nothing is narrowed, but
    # topics outside the group stay with the one organisation that holds each
    everything = person_extract(marea.person)["sections"]
    assert {m["meeting_id"] for m in everything["meetings"]} == {held.pk, declined.pk}
    assert everything["meeting_private_topics"] == []
    # the page shows the same sections; an outsider gets 404
    page = login(marea.coordinator).get(reverse("person_extract", kwargs={"pk": marea.person.pk}))
    assert HOME_HELP_TOPIC in page.content.decode()
    assert "HEMLIGT ÄMNE" not in page.content.decode()
    url = reverse("person_extract_json", kwargs={"pk": marea.person.pk})
    assert login(marea.outsider).get(url).status_code == 404
