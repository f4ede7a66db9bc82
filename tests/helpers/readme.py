"""What the tests read from the README and the docs/ pages: the README's two set-up commands (as the workflows
and the benchmark do), its activation and everyday commands, and the pasted examples of docs/experiments.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
EVERYDAY_BEGIN, EVERYDAY_END = "<!-- everyday:begin", "<!-- everyday:end -->"


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"^```bash\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)]


def readme_commands() -> list[str]:
    """The first two ```bash blocks of README.md: the pipeline command, then the test command."""
    return _bash_blocks(README.read_text(encoding="utf-8"))[:2]


def activation_command() -> str:
    """The README's third ```bash block, right after the two commands: the one line that activates `.venv`."""
    return _bash_blocks(README.read_text(encoding="utf-8"))[2]


def everyday_commands() -> list[str]:
    """The README's everyday commands: each line of the ```bash block between the everyday markers, as written
    (a trailing `# ...` is the shell's comment)."""
    text = README.read_text(encoding="utf-8")
    between = text.split(EVERYDAY_BEGIN, 1)[1].split(EVERYDAY_END, 1)[0]
    (block,) = _bash_blocks(between)
    return [line for line in block.splitlines() if line.strip()]


def page_text(name: str) -> str:
    """A page of docs/ (``name``: its file name), whitespace folded to single spaces, for sentence checks."""
    return " ".join((DOCS / name).read_text(encoding="utf-8").split())


def exp_show_example() -> str:
    """The pasted `dvc exp show` example of docs/experiments.md: the text between its markers."""
    text = (DOCS / "experiments.md").read_text(encoding="utf-8")
    return text.split("<!-- exp-show:begin", 1)[1].split("<!-- exp-show:end -->", 1)[0]


def review_example() -> str:
    """The example review report of docs/experiments.md: the text between its markers."""
    text = (DOCS / "experiments.md").read_text(encoding="utf-8")
    return text.split("<!-- review-example:begin", 1)[1].split("<!-- review-example:end -->", 1)[0]
