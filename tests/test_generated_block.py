"""README blocks written by tools: only the block between the markers changes."""

from __future__ import annotations

import pytest

from dlpipe.core.errors import UserError
from dlpipe.core.generated_block import refresh_file, replace_block

BEGIN, END = "<!-- x:begin -->", "<!-- x:end -->"


def test_only_the_block_between_the_markers_changes(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{BEGIN}\nold\nrows\n{END}\nafter\n", encoding="utf-8")
    refresh_file(readme, BEGIN, END, "new")
    assert readme.read_text(encoding="utf-8") == f"# Title\n\nbefore\n{BEGIN}\nnew\n{END}\nafter\n"
    refresh_file(readme, BEGIN, END, "new")  # idempotent
    assert readme.read_text(encoding="utf-8") == f"# Title\n\nbefore\n{BEGIN}\nnew\n{END}\nafter\n"
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]  # no temporary file left


@pytest.mark.parametrize("text", ["no markers", f"{BEGIN} but no end", f"{END} then {BEGIN}"])
def test_missing_markers_are_a_user_error_and_the_file_is_untouched(tmp_path, text):
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match="lacks the markers"):
        refresh_file(readme, BEGIN, END, "new")
    assert readme.read_text(encoding="utf-8") == text
    with pytest.raises(UserError):
        replace_block(text, BEGIN, END, "new")
