"""Change history on the meeting page and the decision's follow-up page (meetings.history).

The tags take the meeting or decision the view already found through the selectors, so
history is only ever shown for objects the user may see."""

from django import template

from .. import history

register = template.Library()


@register.simple_tag
def meeting_change_history(meeting):
    return history.meeting_history(meeting)


@register.simple_tag
def decision_change_history(decision):
    return history.decision_history(decision)
