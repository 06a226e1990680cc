"""The wheel carries the generated parser and the licences, and works installed, away from the
source tree."""

from __future__ import annotations

import email
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, SAMPLES


@pytest.mark.slow
def test_the_installed_wheel_parses_a_sample(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("drsparse-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = email.message_from_bytes(
            archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        )
    # The parser generated from the grammar (see grammar/generate.py); the build tooling stays
    # in the source tree.
    assert "drsparse/_drs_parser.py" in names
    assert not any("generate.py" in name or "hatch_build" in name for name in names)
    assert "drsparse/py.typed" in names
    assert {"drsparse/data/drs.tsv", "drsparse/data/epp.tsv", "drsparse/data/opensrs.tsv"} <= names
    # The generated parser is lark's code under MPL 2.0: the metadata says so, and the wheel
    # carries both licence texts.
    assert metadata.get("License-Expression") == "MIT AND MPL-2.0"
    licences = {name.split(".dist-info/licenses/", 1)[1] for name in names if "/licenses/" in name}
    assert licences == {"LICENSE", "LICENSES/MPL-2.0.txt"}
    assert sorted(metadata.get_all("License-File") or []) == sorted(licences)
    requires = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(r.split(">")[0] for r in requires) == ["attrs", "python-dateutil"]

    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        cwd=tmp_path,
    )
    # The dependencies come from this test's environment through a .pth file, so that the test
    # needs no network; drsparse itself can only come from the wheel: a .pth line adds a folder
    # to sys.path without running the .pth files in it, so our editable install is not seen.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "outer-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    sample = SAMPLES / "knipp" / "04-registration-not-delegated.txt"
    script = (
        "import sys, drsparse\n"
        "r = drsparse.parse(open(sys.argv[1]).read())\n"
        "print(drsparse.__file__)\n"
        "print(r.result.code, r.sub_results[0].expire_date.isoformat())\n"
        "from drsparse._text import _parser\n"
        "print(type(_parser()[0]).__module__, 'lark' in sys.modules)\n"
    )
    out = subprocess.run(
        [str(python), "-c", script, str(sample)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert out[0].startswith(site)
    assert out[1] == "10000 2003-11-28T23:00:00+00:00"
    # It ran the generated parser, without importing lark at all.
    assert out[2] == "drsparse._drs_parser False"
