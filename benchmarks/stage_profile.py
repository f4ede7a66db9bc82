"""Run one stage's script as DVC would, and time where its process spends the time.

    STAGE_PROFILE_T0=<time.monotonic() just before the spawn> \\
        python benchmarks/stage_profile.py --report out.json [--cprofile out.prof] stages/<stage>.py

Writes one JSON report: the seconds from the process start to the stage's ``main()`` (interpreter
and the script's top-level imports), and inside ``main()`` the time spent in

  imports   ``importlib._bootstrap._find_and_load`` (every module loaded while ``main()`` runs);
  reading   pandas ``read_csv``/``read_excel``, numpy ``load``, ``shutil.copyfile``;
  training  ``dlpipe.train.training.fit`` (compilation included);
  writing   pandas ``to_csv`` to a file, numpy ``savez``, ``dlpipe.train.model_file.save_model``,
            matplotlib ``Figure.savefig``, ``joblib.dump``, ``Path.write_text``;

each exclusive (an import inside ``fit`` counts as an import, not as training), the rest of
``main()`` being other work; and, as a detail of those, the XLA compilation (JAX's
``compile_or_get_cached``: compile, and write to the persistent cache). The parent adds the exit:
the process's end is what it sees.

The timers wrap those functions when their module is first loaded (the stage's own names then bind
to the wrappers), so they cost one Python call each. cProfile is not used for the figures: it slows
imports by about half here, and its flat profile cannot tell an import inside ``fit`` from one
outside it. ``--cprofile`` also saves a cProfile of ``main()`` to see what the other work is.

The script runs as ``__main__`` with the stage's own ``run_stage`` (its errors, signals and fast exit):
only ``dlpipe.core.errors.run_stage`` is wrapped, to time ``main()``, write the report, and then end the
process as the stage does (``os._exit``).
Never imported by the package; used by benchmarks/repro_breakdown.py.
"""

import time

T_START = time.monotonic()

import functools  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import types  # noqa: E402

_frozen_importlib = sys.modules["_frozen_importlib"]
MAIN_THREAD = threading.get_ident()


class Clock:
    """Exclusive seconds per category on the main thread: a nested category's time is its own.

    A *detail* (``compile``) is transparent: its time stays in the category around it and is
    also added up in ``details`` under that category's name (``compile`` inside ``training``).
    """

    DETAILS = ("compile",)

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.details: dict[str, float] = {}
        self.stack: list[list] = []  # [category, start, seconds of nested categories]

    def enter(self, category: str) -> None:
        self.stack.append([category, time.monotonic(), 0.0])

    def leave(self) -> None:
        category, start, nested = self.stack.pop()
        elapsed = time.monotonic() - start
        if category in self.DETAILS:
            around = next((c for c, *_ in reversed(self.stack) if c not in self.DETAILS), "other")
            key = f"{category} in {around}"
            self.details[key] = self.details.get(key, 0.0) + elapsed - nested
            if self.stack:
                self.stack[-1][2] += nested
            return
        self.totals[category] = self.totals.get(category, 0.0) + elapsed - nested
        if self.stack:
            self.stack[-1][2] += elapsed


CLOCK = Clock()


def timed(fn, category):
    """``fn`` counted under ``category`` (a name, or a function of the call's arguments giving one or None)."""

    def wrapper(*args, **kwargs):
        cat = category(args, kwargs) if callable(category) else category
        if cat is None or threading.get_ident() != MAIN_THREAD:
            return fn(*args, **kwargs)
        CLOCK.enter(cat)
        try:
            return fn(*args, **kwargs)
        finally:
            CLOCK.leave()

    return functools.update_wrapper(wrapper, fn)


def _to_file(args, kwargs):
    # DataFrame.to_csv() without a path returns a string (the concrete table's fingerprint): not writing.
    return "writing" if (len(args) > 1 and args[1] is not None) or kwargs.get("path_or_buf") is not None else None


# module -> (dotted attribute, category): wrapped as soon as the module has been loaded.
TARGETS = {
    "pandas": [("read_csv", "reading"), ("read_excel", "reading")],
    "pandas.core.generic": [("NDFrame.to_csv", _to_file)],
    # np.load of an .npz only opens the archive: its arrays are read when first indexed, which the
    # training stages' `other work` column counts (small here: float32 arrays of a few MB).
    "numpy": [("load", "reading"), ("savez", "writing")],
    "shutil": [("copyfile", "reading")],
    "pathlib": [("Path.write_text", "writing")],
    "joblib": [("dump", "writing")],
    "matplotlib.figure": [("Figure.savefig", "writing")],
    "dlpipe.train.model_file": [("save_model", "writing")],
    "dlpipe.train.training": [("fit", "training")],
    # XLA compilation (and JAX's persistent cache), wherever it happens: a detail, not a column.
    "jax._src.compiler": [("compile_or_get_cached", "compile")],
}


def _wrap(module: types.ModuleType) -> None:
    for dotted, category in TARGETS.get(module.__name__, []):
        *path, name = dotted.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, timed(getattr(owner, name), category))
    if module.__name__ == "dlpipe.core.errors":
        module.run_stage = _profiled_run_stage(module.run_stage)


_find_and_load = _frozen_importlib._find_and_load


def _timed_find_and_load(name, import_):
    counted = threading.get_ident() == MAIN_THREAD
    if counted:
        CLOCK.enter("imports")
    try:
        module = _find_and_load(name, import_)
    finally:
        if counted:
            CLOCK.leave()
    if name in TARGETS or name == "dlpipe.core.errors":
        _wrap(module)
    return module


REPORT: dict = {}
ARGS: dict = {}


def _profiled_run_stage(real_run_stage):
    def run_stage(stage, main, fast_exit=True):
        profile = None
        if ARGS.get("cprofile"):
            import cProfile

            profile = cProfile.Profile()

        def timed_main():
            REPORT["top_level_imports_s"] = CLOCK.totals.get("imports", 0.0)
            CLOCK.totals.clear()
            CLOCK.details.clear()
            REPORT["t_main_start"] = time.monotonic()
            if profile is not None:
                profile.enable()
            try:
                main()
            finally:
                if profile is not None:
                    profile.disable()
                REPORT["t_main_end"] = time.monotonic()

        real_run_stage(stage, timed_main, fast_exit=False)
        REPORT.update(stage=stage, fast_exit=fast_exit, main=dict(CLOCK.totals), details=dict(CLOCK.details))
        _write_report(profile)
        if fast_exit:
            # What the stage's own run_stage does after main().
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    return run_stage


def _write_report(profile) -> None:
    # From here on the time is the profiler's (the parent counts it out of the stage's exit).
    REPORT["t_report_start"] = time.monotonic()
    import json

    if profile is not None:
        profile.dump_stats(ARGS["cprofile"])
    text = json.dumps(REPORT)
    with open(ARGS["report"], "w", encoding="utf-8") as fh:
        fh.write(text)
    # The report's own cost, appended as a second line (the first is complete without it).
    with open(ARGS["report"], "a", encoding="utf-8") as fh:
        fh.write("\n" + json.dumps({"report_s": time.monotonic() - REPORT["t_report_start"]}) + "\n")


def main() -> None:
    argv = sys.argv[1:]
    while argv and argv[0].startswith("--"):
        key, value, argv = argv[0][2:], argv[1], argv[2:]
        ARGS[key] = value
    if "report" not in ARGS or len(argv) != 1:
        raise SystemExit(__doc__.split("\n\n")[1])
    if not os.path.isfile(argv[0]):
        raise SystemExit(f"stage_profile: error: {argv[0]} is not a file; give a stage script, e.g. stages/fetch.py")
    script = os.path.abspath(argv[0])
    spawn = os.environ.get("STAGE_PROFILE_T0")
    REPORT.update(t_spawn=float(spawn) if spawn else None, t_start=T_START)
    _frozen_importlib._find_and_load = _timed_find_and_load
    for name in [*TARGETS, "dlpipe.core.errors"]:
        if name in sys.modules:
            _wrap(sys.modules[name])
    # As `python stages/<stage>.py`: the script's folder first on sys.path, the script as __main__.
    sys.argv = [argv[0]]
    sys.path[0] = os.path.dirname(script)
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = __builtins__
    with open(script, encoding="utf-8") as fh:
        code = compile(fh.read(), script, "exec")
    sys.modules["__main__"] = module
    REPORT["setup_s"] = time.monotonic() - T_START
    exec(code, module.__dict__)


if __name__ == "__main__":
    main()
