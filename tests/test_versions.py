"""The libraries' versions as uv.lock pins them, per group of stages (dlpipe.core.versions)."""

from __future__ import annotations

import contextlib
import json
from importlib import metadata
from pathlib import Path

import pytest

from dlpipe.core.errors import UserError
from dlpipe.core.versions import GROUPS, check_installed, group_versions, locked_versions, write_groups

ROOT = Path(__file__).resolve().parents[1]
LOCK = """version = 1

[[package]]
name = "Keras"
version = "3.15.1"

[[package]]
name = "ruff"
version = "0.15.0"

[[package]]
name = "numpy"
version = "2.4.6"

[[package]]
name = "numpy"
version = "2.2.0"

[[package]]
name = "ml_dtypes"
version = "0.6.0"
"""


def test_the_lock_is_read_by_normalised_name_with_every_pinned_version():
    assert locked_versions(LOCK) == {
        "keras": ["3.15.1"],
        "ruff": ["0.15.0"],
        "numpy": ["2.2.0", "2.4.6"],
        "ml-dtypes": ["0.6.0"],
    }


def test_a_group_holds_only_the_libraries_that_compute_its_results():
    locked = locked_versions(LOCK)
    assert group_versions(locked, "train") == {"keras": ["3.15.1"], "ml-dtypes": ["0.6.0"], "numpy": ["2.2.0", "2.4.6"]}
    assert group_versions(locked, "data") == {"numpy": ["2.2.0", "2.4.6"]}
    assert not any("ruff" in names or "pytest" in names for names in GROUPS.values())


def test_a_tool_upgrade_changes_no_group_file_and_a_keras_upgrade_only_train(tmp_path):
    def files(lock_text: str) -> dict[str, bytes]:
        (tmp_path / "uv.lock").write_text(lock_text)
        out = tmp_path / "out"
        out.mkdir(exist_ok=True)
        write_groups(tmp_path / "uv.lock", out)
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}

    before = files(LOCK)
    assert set(before) == {"data.json", "train.json"}
    assert files(LOCK.replace('version = "0.15.0"', 'version = "0.16.0"')) == before
    after = files(LOCK.replace('version = "3.15.1"', 'version = "3.16.0"'))
    assert after["data.json"] == before["data.json"] and after["train.json"] != before["train.json"]
    assert json.loads(after["train.json"])["keras"] == ["3.16.0"]


def test_the_repository_lock_pins_every_library_of_both_groups_that_is_installed_here():
    locked = locked_versions((ROOT / "uv.lock").read_text())
    for group in GROUPS:
        for name, versions in group_versions(locked, group).items():
            with contextlib.suppress(metadata.PackageNotFoundError):
                assert metadata.version(name) in versions, name
    assert {"keras", "jax", "numpy"} <= set(group_versions(locked, "train"))
    assert {"pandas", "scikit-learn", "python-calamine"} <= set(group_versions(locked, "data"))


def test_an_installed_version_other_than_the_pin_is_one_line_naming_both(tmp_path):
    pins = tmp_path / "train.json"
    installed = metadata.version("numpy")
    pins.write_text(json.dumps({"numpy": [installed], "not-installed-anywhere": ["1.0"]}))
    check_installed(pins)  # the pinned numpy, and a package not installed: nothing to say
    pins.write_text(json.dumps({"numpy": ["0.0.1"]}))
    with pytest.raises(UserError) as info:
        check_installed(pins)
    message = str(info.value)
    assert f"numpy {installed} (uv.lock: 0.0.1)" in message and "uv sync --frozen" in message
    assert "\n" not in message
    check_installed(tmp_path / "missing.json")  # not built yet: DVC runs library_versions first


def test_a_damaged_lock_is_one_line(tmp_path):
    (tmp_path / "uv.lock").write_text("[[package]\n")
    with pytest.raises(UserError, match="is not valid TOML"):
        write_groups(tmp_path / "uv.lock", tmp_path)
