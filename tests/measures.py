"""Lines a test run prints at its end (conftest's terminal summary) for what it measured,
e.g. `make replica`'s `replica visible_ms=…`; figures for the README, never asserted."""

LINES: list[str] = []


def record(line: str) -> str:
    LINES.append(line)
    return line
