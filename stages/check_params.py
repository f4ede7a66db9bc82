"""DVC stage `check_params`: the whole params.yaml against the schema.

It depends on every key of params.yaml, so DVC runs it whenever a value changes or a key appears, even
one that no other stage reads: an unknown or misspelt key (`dvc exp run -S +dropuot=0.5`, or a line
added by hand) fails the run that adds it, naming the key and the closest known one. It comes first in
dvc.yaml, so `dvc repro` runs it before the others (each of which checks the whole file too when it
starts, before any training).
"""

try:
    from dlpipe.core.errors import run_stage
except ModuleNotFoundError:  # not the project's Python (DVC runs the first `python` on PATH): say so in one line
    import sys
    from pathlib import Path

    sys.exit(
        f"{Path(__file__).stem}: error: this Python ({sys.executable}) does not have the project's packages; "
        "activate the project's environment first: source .venv/bin/activate"
    )


def main() -> None:
    from dlpipe.core.params import check_params_file

    check_params_file()


if __name__ == "__main__":
    run_stage("check_params", main)
