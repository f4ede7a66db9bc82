"""The README's two set-up commands, as the tests, the workflows and the benchmark read them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    """The first two ```bash blocks of README.md: the pipeline command, then the test command."""
    blocks = re.findall(r"^```bash\n(.*?)^```$", README.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    return [block.strip() for block in blocks[:2]]
