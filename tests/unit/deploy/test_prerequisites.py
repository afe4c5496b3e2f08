"""The system packages are one list (deploy/prerequisites.sh), named by the README and checked by
`make test` before anything else runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "deploy" / "prerequisites.sh"


def packages() -> list[str]:
    listed = subprocess.run([SCRIPT, "list"], capture_output=True, text=True, check=True).stdout
    return sorted({line.split()[0] for line in listed.splitlines() if line.strip()})


def test_the_list_holds_every_package_the_suite_needs() -> None:
    """kcat and Chromium are on the list as well as Java, Maven, npm and the venv module."""
    assert set(packages()) >= {
        "openjdk-17-jdk-headless",
        "maven",
        "npm",
        "python3-venv",
        "chromium",
        "kcat",
        "openssl",
    }


def test_readme_names_every_package_of_the_list() -> None:
    """The README's prerequisites name each package of the script's list."""
    words = set(re.findall(r"[a-z0-9][a-z0-9.+-]*", (ROOT / "README.md").read_text()))
    assert [p for p in packages() if p not in words] == []


def test_ci_and_make_test_use_the_script() -> None:
    """.ci/run installs through the script and `make test` checks through it first."""
    assert "deploy/prerequisites.sh install" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "test: prerequisites" in makefile
    assert "deploy/prerequisites.sh check" in makefile


def test_check_names_what_is_missing_and_how_to_install_it(tmp_path: Path) -> None:
    """On a machine without kcat and Chromium the check fails with one message naming both
    packages and the apt-get line that installs them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    keep = (
        "bash", "xargs", "echo", "java", "javac", "mvn", "python3", "npm", "env", "pdftotext",
        "openssl", "unzip", "curl",
    )  # fmt: skip
    for tool in keep:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    run = subprocess.run(
        ["bash", str(SCRIPT), "check"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(bin_dir)},
        check=False,
    )
    assert run.returncode == 1
    message, install, _ = run.stderr.splitlines()
    assert message.startswith("Interlock needs system packages that are missing:")
    assert message.endswith("chromium kcat")
    assert "apt-get install -y --no-install-recommends" in install
    assert install.endswith("chromium kcat")
