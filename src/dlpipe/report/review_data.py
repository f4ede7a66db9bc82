"""What a review compares, gathered from DVC and git: the params, the summary metrics, every seed's
details and the loss curves of two revisions (commits, branches, tags, experiments or the workspace).

Params come from each revision's params.yaml (`dvc params diff` prints lists as strings), metrics from
`dvc metrics diff`, curves from `dvc plots diff`, the per-seed details from git."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpipe.core import environment, layout
from dlpipe.core.dvc_cli import WORKSPACE, dvc_json, file_at, param_changes, params_at
from dlpipe.core.registry import TRAINING_STAGES
from dlpipe.report.comparison import Sample
from dlpipe.train.summary import Summary, read_seed_table, run_major

SUMMARY_PATH = layout.SUMMARY_METRICS.as_posix()


@dataclass(frozen=True)
class Side:
    """One revision of a review."""

    label: str
    rev: str | None  # None: the workspace
    params: dict[str, Any]  # params.yaml, flat: "train_batchnorm.optimizer" -> "sgd"
    summary: dict[str, Summary]  # run -> what metrics/summary.json says of it
    seeds: dict[str, dict[int, Summary]] = field(default_factory=dict)  # run -> seed -> details
    # training stage -> where its results were computed (None: not recorded)
    environments: dict[str, environment.Environment | None] = field(default_factory=dict)

    def has(self, run: str) -> bool:
        """Whether this revision trained ``run``."""
        return run in self.summary or run in self.seeds

    def by_seed(self, run: str) -> dict[int | None, Summary]:
        """Every seed's details of ``run``, by seed. From the details table; a revision without one (older
        than the table) has its summary as its one value, under the one seed its params name (``seeds:
        [0]``, or ``seed: 0`` before that param), or under None when they name no single seed: then its
        values are never paired with a seed."""
        if run in self.seeds:
            return self.seeds[run]
        if run not in self.summary:
            return {}
        return {self._only_seed(): self.summary[run]}

    def _only_seed(self) -> int | None:
        named = self.params.get("seeds", self.params.get("seed"))
        if isinstance(named, list):
            named = named[0] if len(named) == 1 else None
        return named if isinstance(named, int) and not isinstance(named, bool) else None

    def sample(self, run: str, metric: str) -> Sample:
        """The values of ``metric`` for ``run``, seed by seed (a seed without one, e.g. diverged at once,
        is in it without a value)."""
        return Sample.of(self.per_seed(run, metric))

    def per_seed(self, run: str, metric: str) -> dict[int | None, Any]:
        """``{seed: value}`` of ``metric`` for ``run`` (None for a seed without it)."""
        return {seed: s.get(metric) for seed, s in self.by_seed(run).items()}

    def divergence(self, run: str) -> dict[int | None, int | None]:
        """``{seed: epoch at which it diverged}`` for ``run``, None for a seed that did not diverge."""
        return {
            seed: int(s.get("diverged_at_epoch", 0)) if s.get("diverged") else None
            for seed, s in self.by_seed(run).items()
        }

    def seed_count(self, run: str) -> int:
        """How many seeds ``run`` was trained with in this revision."""
        if run in self.seeds:
            return len(self.seeds[run])
        return int(self.summary.get(run, {}).get("seeds", 1 if run in self.summary else 0))

    def diverged_count(self, run: str) -> int:
        """How many of those seeds diverged."""
        if run in self.seeds:
            return sum(epoch is not None for epoch in self.divergence(run).values())
        summary = self.summary.get(run, {})
        return int(summary.get("diverged_seeds", 1 if summary.get("diverged") else 0))


@dataclass(frozen=True)
class Review:
    """Both sides of a review, what changed in params, and DVC's plots answer (its charts' specs)."""

    old: Side
    new: Side
    param_changes: list[tuple[str, Any, Any]]
    plots: dict[str, Any]

    def machine_differences(self) -> dict[str, list[str]]:
        """Per training stage both sides ran, what differs between where each computed it (empty: the
        same environment, so their results compare); a stage whose results are the same seed for seed on
        both sides compares whatever the machines."""
        found = {}
        for t in TRAINING_STAGES:
            if not any(self.old.has(run) and self.new.has(run) for run in t.runs):
                continue
            if all(self.old.by_seed(run) == self.new.by_seed(run) for run in t.runs):
                continue
            differences = environment.differences(
                self.old.environments.get(t.stage), self.new.environments.get(t.stage)
            )
            if differences:
                found[t.stage] = differences
        return found


def _revs(old: str, new: str | None) -> list[str]:
    return [old] if new is None else [old, new]


def _summaries(old: str, new: str | None, cwd: Path) -> tuple[dict[str, Summary], dict[str, Summary]]:
    diff = dvc_json("metrics", "diff", *_revs(old, new), "--all", cwd=cwd).get(SUMMARY_PATH, {})
    sides: tuple[dict, dict] = ({}, {})
    for key, entry in diff.items():
        metric, _, run = key.partition(".")
        for side, which in zip(sides, ("old", "new"), strict=True):
            if entry.get(which) is not None:
                side.setdefault(metric, {})[run] = entry[which]
    return run_major(sides[0]), run_major(sides[1])


def seed_details(rev: str | None, cwd: Path = Path()) -> dict[str, dict[int, Summary]]:
    """Every run's per-seed details at ``rev`` (None: the workspace); empty where a revision has none."""
    found: dict[str, dict[int, Summary]] = {}
    for t in TRAINING_STAGES:
        text = file_at(rev, (layout.PLOTS_DIR / t.stage / layout.SEEDS_TABLE).as_posix(), cwd)
        if text:
            found.update(read_seed_table(io.StringIO(text)))
    return found


def environments_at(rev: str | None, cwd: Path = Path()) -> dict[str, environment.Environment | None]:
    """Where each training stage's results at ``rev`` (None: the workspace) were computed."""
    return {
        t.stage: environment.parse(file_at(rev, (layout.PLOTS_DIR / t.stage / layout.ENVIRONMENT_FILE).as_posix(), cwd))
        for t in TRAINING_STAGES
    }


def gather(old: str, new: str | None = None, cwd: Path = Path()) -> Review:
    """Everything a review of ``old`` against ``new`` (None: the workspace) needs, from DVC and git."""
    old_params, new_params = params_at(old, cwd), params_at(new, cwd)
    old_summary, new_summary = _summaries(old, new, cwd)
    return Review(
        old=Side(old, old, old_params, old_summary, seed_details(old, cwd), environments_at(old, cwd)),
        new=Side(new or WORKSPACE, new, new_params, new_summary, seed_details(new, cwd), environments_at(new, cwd)),
        param_changes=param_changes(old_params, new_params),
        plots=dvc_json("plots", "diff", *_revs(old, new), cwd=cwd),
    )
