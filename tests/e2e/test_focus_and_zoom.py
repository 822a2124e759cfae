"""What a keyboard user and someone reading at 400 % zoom meet (WCAG 2.1 AA, issue 16 item
17): the focus ring is visible against the unfocused state with at least 3:1, and the meeting
page with its agreements (badges that did not wrap) fits 320 CSS px."""

import pytest

from meetings.demo import load_meetings
from meetings.models import Meeting
from participants.demo import DEMO_PASSWORD, load_area

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The ratio of two colours' relative luminance (WCAG 2.1, 1.4.11 non-text contrast).
CONTRAST = """
([a, b]) => {
  const lum = (c) => {
    const [r, g, bl] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
"""


def test_the_focus_ring_of_fields_and_buttons_stands_out(journey):
    load_area(persons=2)
    user = journey("focus-ring", width=768)
    page = user.page
    user.goto("/accounts/login/")
    for selector in ("input[name=username]", "input[name=password]", "main button[type=submit]"):
        page.focus(selector)
        # keyboard focus (focus-visible), as when tabbing into the field
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        style = page.eval_on_selector(
            selector,
            """el => { const s = getComputedStyle(el);
                 return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                         color: s.outlineColor,
                         background: getComputedStyle(document.body).backgroundColor}; }""",
        )
        assert page.evaluate("document.activeElement.matches(arguments[0])".replace(
            "arguments[0]", repr(selector))), selector  # fmt: skip
        assert style["style"] != "none" and style["width"] >= 2, (selector, style)
        ratio = page.evaluate(CONTRAST, [style["color"], style["background"]])
        assert ratio >= 3, (selector, style, ratio)


def test_the_meeting_page_with_agreements_fits_320_px(journey):
    load_meetings(load_area(persons=12))
    meeting = Meeting.objects.filter(agreements__isnull=False).distinct().first()
    assert meeting is not None and meeting.agreements.exists()
    nurse = journey("zoom-320", width=320)
    nurse.login("sjukskoterska", DEMO_PASSWORD)
    nurse.goto(f"/meetings/{meeting.pk}/")
    assert nurse.page.locator("text=Vid akut försämring").count() >= 1  # the agreements shown
    nurse.fits()
    nurse.page.screenshot(path=str(nurse.dir / "meeting-320.png"), full_page=True)
