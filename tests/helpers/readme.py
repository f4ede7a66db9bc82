"""What the tests read from the README: its two set-up commands (as the workflows and the benchmark do) and
its pasted `dvc exp show` example."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    """The first two ```bash blocks of README.md: the pipeline command, then the test command."""
    blocks = re.findall(r"^```bash\n(.*?)^```$", README.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    return [block.strip() for block in blocks[:2]]


def exp_show_example() -> str:
    """The README's `dvc exp show` example: the text between its markers."""
    text = README.read_text(encoding="utf-8")
    return text.split("<!-- exp-show:begin", 1)[1].split("<!-- exp-show:end -->", 1)[0]


def review_example() -> str:
    """The README's example review report: the text between its markers."""
    text = README.read_text(encoding="utf-8")
    return text.split("<!-- review-example:begin", 1)[1].split("<!-- review-example:end -->", 1)[0]
