"""Text people typed, made safe for where it goes: a spreadsheet cell that can never be
read as a formula, and names and free text without the invisible controls that reverse how
the text reads in a PDF or an email."""

import dataclasses
import re

# What a spreadsheet reads as the start of a formula, full-width forms included (Excel
# folds ＝ ＋ － ＠ to = + - @), and the controls that can hide one.
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
# The delimiters a spreadsheet may split a line on: a comma CSV opened in Swedish Excel is
# split on semicolons, so ";=1+1" in one field becomes a formula in the next cell.
SPLITTERS = ",;\t\r\n"
_INNER_FORMULA = re.compile(
    f"([{re.escape(SPLITTERS)}]\\s*)(?=[{re.escape(''.join(FORMULA_STARTS))}])"
)


def neutralise(value):
    """A text cell that no spreadsheet reads as a formula, however it splits the line: a
    leading formula character is kept as text with a leading apostrophe, and so is one that
    follows a delimiter inside the text. Numbers, dates and None stay as they are."""
    if not isinstance(value, str) or not value:
        return value
    text = _INNER_FORMULA.sub(r"\1'", value)
    if text.lstrip(" ")[:1] in FORMULA_STARTS:
        text = "'" + text
    return text


# Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069)
# and the marks (U+200E, U+200F, U+061C): in a name they make "Anna" show as "annA".
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def without_bidi_controls(value):
    """`value` (a string, or a dict, list, tuple or dataclass holding them, as a template
    context does) with the bidirectional controls removed; everything else unchanged."""
    if isinstance(value, str):
        return _BIDI_CONTROLS.sub("", value)
    if isinstance(value, dict):
        return {key: without_bidi_controls(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_bidi_controls(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: without_bidi_controls(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    return value
