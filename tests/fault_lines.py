"""The lines `make faults` prints, one per fault of the matrix (test_fault_matrix.py):
`fault <name> sent=<n> expected=<n> duplicates=<n> max_request_ms=<n> ok`, with `ok` only
when the figures meet the goal: every expected message sent, none twice, every request
answered as it should (for a hung Redis: 50 signed-in page views, all 200), and none slower
than the fault's limit: 3 s, except while a killed web process is replaced (gunicorn starts
a new one: 10 s)."""

from dataclasses import dataclass

GOAL_MS = 3000


@dataclass
class FaultLine:
    name: str
    sent: int
    expected: int
    duplicates: int
    max_request_ms: int
    requests_ok: bool = True  # e.g. all 50 signed-in views answered 200
    goal_ms: int = GOAL_MS

    @property
    def ok(self) -> bool:
        return (
            self.expected > 0
            and self.sent == self.expected
            and self.duplicates == 0
            and self.max_request_ms < self.goal_ms
            and self.requests_ok
        )

    def __str__(self) -> str:
        line = (
            f"fault {self.name} sent={self.sent} expected={self.expected} "
            f"duplicates={self.duplicates} max_request_ms={self.max_request_ms}"
        )
        return f"{line} ok" if self.ok else line


LINES: list[FaultLine] = []


def record(line: FaultLine) -> FaultLine:
    LINES.append(line)
    return line
