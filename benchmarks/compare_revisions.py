"""A/B speed benchmark: the cold `dvc repro` of one revision against another's, in pairs, in one run.

    python benchmarks/compare_revisions.py BASE [--candidate REV] [--pairs 4] [--warm-compile-cache]

BASE and the candidate (default: this work tree, committed or not) each get a fresh clone per pair,
with an empty DVC cache and DVC site cache; each pair times a cold `dvc repro --force` of both (every
stage, whatever git holds, so that both do the same work), the order alternating from pair to pair:
the pairs are even in number, each side running first in half of them, so that neither a machine
growing slower or faster nor the second run of a pair finding the first one's files in the OS's
caches favours either. The JAX compile cache is empty for every run too, unless ``--warm-compile-cache``: then each
revision first fills a compile cache of its own in an untimed run, and its timed runs reuse it (what a
user's second clone sees; the compile time, the same code for both, is then out of the comparison).

Prints every pair's times and the candidate's time as a ratio to the base's, their geometric mean,
then the verdict: faster or slower only when every pair agrees, "within noise" when they disagree.
Both revisions run with this environment's installed packages (a revision whose lock differs is
measured with these), and with their own code first on PYTHONPATH. A script for people, not a test.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from run import GIT_IDENTITY, ROOT, benchmark_setup, mirror_argument, new_clone, timed

from dlpipe.core.errors import UserError, run_cli

WORK_TREE = "work tree"


def resolve(rev: str) -> str:
    """The commit ``rev`` names in this repository; a UserError if it names none."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise UserError(f"{rev} is not a commit of this repository; give a commit, branch or tag (see `git log`)")
    return proc.stdout.strip()


def revision_clone(rev: str, dest: Path) -> None:
    """Fill the empty folder ``dest`` with the files of commit ``rev``, committed in a new git repository."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # The "data" filter (refuse links out of dest, special files) exists from Python 3.11.4 on.
        tar.extractall(dest, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], [*GIT_IDENTITY, "commit", "-q", "-m", rev]):
        subprocess.run(["git", *cmd], cwd=dest, check=True, capture_output=True)


def cold_repro(rev: str, tmp: Path, name: str, env: dict[str, str], jax_cache: Path | None) -> float:
    """Seconds of `dvc repro --force` in a fresh clone of ``rev`` (or of the work tree), DVC's caches empty."""
    dest, run_env = new_clone(tmp, name, env)
    if rev != WORK_TREE:  # new_clone copied the work tree: replace it with the revision's files
        shutil.rmtree(dest)
        dest.mkdir()
        revision_clone(rev, dest)
    if jax_cache is not None:
        run_env["DLPIPE_JAX_CACHE"] = str(jax_cache)
    return timed([sys.executable, "-m", "dvc", "repro", "--force"], dest, run_env)[0]


def verdict(ratios: list[float]) -> str:
    """What the pairs' ratios (candidate / base) say, with their spread."""
    spread = f"{min(ratios):.3f}×–{max(ratios):.3f}× over {len(ratios)} pairs"
    if max(ratios) < 1:
        return f"faster in every pair ({spread})"
    if min(ratios) > 1:
        return f"slower in every pair ({spread})"
    return f"within noise: the pairs disagree ({spread})"


def report(base: str, candidate: str, pairs: list[tuple[float, float]], warm: bool) -> str:
    """The table of pairs and the verdict, as Markdown."""
    ratios = [c / b for b, c in pairs]
    cache = "a warm JAX compile cache per revision" if warm else "empty JAX compile caches"
    lines = [
        f"Cold `dvc repro --force`, fresh clones, empty DVC caches, {cache}; base `{base}`, candidate `{candidate}`.",
        "",
        "| pair | first | base (s) | candidate (s) | candidate / base |",
        "|---|---|---|---|---|",
        *(
            f"| {i} | {'base' if i % 2 else 'candidate'} | {b:.2f} | {c:.2f} | {c / b:.3f}× |"
            for i, (b, c) in enumerate(pairs, 1)
        ),
        f"| geometric mean |  |  |  | {statistics.geometric_mean(ratios):.3f}× |",
        "",
        f"Verdict: {verdict(ratios)}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/compare_revisions.py", description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the revision to compare against (a commit, branch or tag)")
    parser.add_argument("--candidate", default=WORK_TREE, help="the revision measured (default: this work tree)")
    parser.add_argument("--pairs", type=int, default=4, help="how many pairs of runs, even (default: 4)")
    parser.add_argument("--warm-compile-cache", action="store_true", help="each revision's JAX compile cache warmed")
    mirror_argument(parser)
    args = parser.parse_args()
    if args.pairs < 2 or args.pairs % 2:
        raise UserError(f"--pairs {args.pairs}: give an even number from 2, so that each side runs first as often")
    _, env = benchmark_setup(argparse.Namespace(mirror=args.mirror, repeats=args.pairs))
    base = resolve(args.base)
    candidate = args.candidate if args.candidate == WORK_TREE else resolve(args.candidate)
    revs = {"base": base, "candidate": candidate}
    with tempfile.TemporaryDirectory(prefix="dlpipe-ab-") as tmp_name:
        tmp = Path(tmp_name)
        caches: dict[str, Path | None] = dict.fromkeys(revs)
        if args.warm_compile_cache:
            for role, rev in revs.items():
                caches[role] = tmp / f"jax-{role}"
                print(f"warming the compile cache of the {role} ...", file=sys.stderr, flush=True)
                cold_repro(rev, tmp, f"warm-{role}", env, caches[role])
        pairs: list[tuple[float, float]] = []
        for i in range(args.pairs):
            seconds: dict[str, float] = {}
            for role in ("base", "candidate") if i % 2 == 0 else ("candidate", "base"):
                print(f"pair {i + 1}/{args.pairs}: the {role} ...", file=sys.stderr, flush=True)
                seconds[role] = cold_repro(revs[role], tmp, f"pair{i}-{role}", env, caches[role])
            pairs.append((seconds["base"], seconds["candidate"]))
    # As given and as resolved: a branch moves, its commit does not.
    candidate_name = WORK_TREE if candidate == WORK_TREE else f"{args.candidate} ({candidate[:12]})"
    print(report(f"{args.base} ({base[:12]})", candidate_name, pairs, args.warm_compile_cache))


if __name__ == "__main__":
    run_cli("compare_revisions", main)
