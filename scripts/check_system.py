"""Say clearly what this machine lacks before anything fails with a traceback."""

import ctypes.util
import sys

PACKAGES = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    "harfbuzz-subset": "libharfbuzz-subset0",
}


def main() -> int:
    problems = []
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under the system Python
        problems.append(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    missing = [pkg for lib, pkg in PACKAGES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        problems.append(
            "WeasyPrint (the PDF summaries) needs Pango and HarfBuzz, which are missing.\n"
            f"  Debian/Ubuntu: sudo apt-get install {' '.join(missing)}\n"
            "  macOS: brew install pango"
        )
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        problems.append(
            "Python's venv/ensurepip is missing. Debian/Ubuntu: apt-get install python3-venv"
        )
    if problems:
        print("VOM cannot start on this machine yet:\n", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
