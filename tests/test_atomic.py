import pytest

from dlpipe.atomic import atomic_path


def test_success_replaces_the_target(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_old_version_and_no_temp_files(tmp_path, error):
    target = tmp_path / "dir"
    target.mkdir()
    (target / "a").write_text("old")
    with pytest.raises(error), atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "a").write_text("half")
        raise error
    assert (target / "a").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]
