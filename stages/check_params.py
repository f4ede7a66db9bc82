"""DVC stage `check_params`: the whole params.yaml against the schema.

It depends on every key of params.yaml, so DVC runs it whenever a value changes or a key appears, even
one that no other stage reads: an unknown or misspelt key (`dvc exp run -S +dropuot=0.5`, or a line
added by hand) fails the run that adds it, naming the key and the closest known one. It comes first in
dvc.yaml, so `dvc repro` runs it before the others (each of which checks the whole file too when it
starts, before any training).
"""

import sys
from pathlib import Path

# This checkout's code first: the project's editable install points at the checkout that installed it,
# but DVC runs stages in copies too (`dvc exp run --queue`, a rebuilt revision's worktree).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from dlpipe.core.errors import run_stage


def main() -> None:
    from dlpipe.core.params import check_params_file

    check_params_file()


if __name__ == "__main__":
    run_stage("check_params", main)
