"""Say clearly what this machine lacks before anything fails with a traceback, and install
what can be installed without asking (Debian/Ubuntu, as root or with sudo that needs no
password), saying so."""

import ctypes.util
import os
import shutil
import subprocess
import sys

# WeasyPrint's libraries: the shared object's name, and the Debian package that holds it.
PACKAGES = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    "harfbuzz-subset": "libharfbuzz-subset0",
}


# Programs: xmlsec1 signs and checks SAML messages (pysaml2); node and npm run the demo's and
# the tests' OpenID Connect provider (oidc-provider).
PROGRAMS = {"xmlsec1": "xmlsec1", "node": "nodejs", "npm": "npm"}


def missing_packages() -> list[str]:
    return [pkg for lib, pkg in PACKAGES.items() if ctypes.util.find_library(lib) is None] + [
        pkg for program, pkg in PROGRAMS.items() if shutil.which(program) is None
    ]


def apt_prefix() -> list[str] | None:
    """How to run apt-get here without a prompt, or None when it cannot be done."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
    ):
        return ["sudo", "-n"]
    return None


def install(packages: list[str]) -> bool:
    prefix = apt_prefix()
    if prefix is None:
        return False
    print(
        f"Installing what VOM needs (PDF summaries, SAML, the demo's sign-in provider): "
        f"{' '.join(packages)} (apt-get)",
        flush=True,
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run([*prefix, *command], env=env, stdout=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            return False
    return not missing_packages()


def main() -> int:
    problems = []
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under the system Python
        problems.append(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    missing = missing_packages()
    if missing and not install(missing):
        problems.append(
            "Missing system packages: WeasyPrint (the PDF summaries) needs Pango and HarfBuzz,\n"
            "  SAML sign-in needs xmlsec1, the demo's sign-in provider needs Node.js and npm.\n"
            f"  Debian/Ubuntu: sudo apt-get install {' '.join(missing_packages())}\n"
            "  macOS: brew install pango libxmlsec1 node"
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
