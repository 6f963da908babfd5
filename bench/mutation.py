"""`make mutation`: cosmic-ray on a throwaway copy of the tree, one module at a time, with the tests that use it.

    python bench/mutation.py                      # every scoped module, smallest first
    python bench/mutation.py qwen_cli/secrets.py  # just these
    python bench/mutation.py --work DIR ...       # reuse a copy made earlier (its venv too)
    python bench/mutation.py --work DIR --resume M  # finish DIR's interrupted run of M (its pending mutants)
    python bench/mutation.py --work DIR --recheck M [--tests T...]  # only the survivors of DIR's last run of M,
                                                  # against today's tests (or just the new files T)

cosmic-ray edits the module in place and runs a test command per mutant. Most tests run `qwen` as a
subprocess through the editable install, so the copy gets its own venv with `pip install -e .`: the
mutants live only there, never in this checkout. Slow (minutes per module on 2 cores); not run in CI.
Each module's report (the surviving mutants) is written to WORK/mutation/<module>.txt; docs/testing.md says
which survivors are equivalent. Mutants inside type annotations are skipped (they are never evaluated), and
so are those in Windows-only code (no test on this platform can reach it).
An interrupted run can leave a mutant in the copy's module: start again from a fresh copy.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120.0  # seconds per mutant; a mutant that hangs the tests counts as killed
# -n 0: one process per mutant's run; xdist's workers would cost more to start than the scoped files take.
PYTEST = ".venv/bin/python -m pytest -x -q -n 0 -p no:cacheprovider -m 'not slow'"

# The test files that exercise each module, and only those (a mutant's run stops at the first failure).
MODULES = {
    "qwen_cli/secrets.py": ["tests/test_secrets.py", "tests/cli/test_boundary.py"],
    "qwen_cli/auth/binding.py": [
        "tests/auth/test_binding.py",
        "tests/auth/test_resolve.py",
        "tests/security/test_trust.py",
    ],
    "qwen_cli/fsutil.py": [
        "tests/test_fsutil_edges.py",
        "tests/test_file_locks.py",
        "tests/test_atomic_writes.py",
        "tests/test_settings.py",
        "tests/chat/test_session_store.py",
        "tests/security/test_files.py",
        "tests/security/test_concurrent_writers.py",
    ],
    "qwen_cli/providers/sse.py": [
        "tests/providers/test_sse.py",
        "tests/providers/test_sse_parser_reset.py",
        "tests/providers/test_openai_compat.py",
    ],
    "qwen_cli/trust.py": [
        "tests/security/test_trust_unreadable_files.py",
        "tests/security/test_trust.py",
        "tests/test_settings.py",
    ],
    "qwen_cli/telemetry/policy.py": [
        "tests/privacy/test_policy_fallbacks.py",
        "tests/privacy/test_policy_defences.py",
        "tests/privacy/test_telemetry_policy.py",
        "tests/privacy/test_telemetry_export.py",
        "tests/cli/test_qwen_code_settings_telemetry.py",
    ],
    "qwen_cli/auth/token_store.py": [
        "tests/auth/test_oauth_lock_races.py",
        "tests/auth/test_oauth_profile_files.py",
        "tests/auth/test_oauth_refused_login_marker.py",
        "tests/auth/test_oauth_expiry_bound.py",
        "tests/auth/test_oauth_creds_file.py",
        "tests/auth/test_token_store.py",
        "tests/auth/test_qwen_oauth.py",
        "tests/test_guards.py::test_a_lock_is_stale_only_when_older_than_ten_seconds",
        "tests/test_guards.py::test_oauth_logout_waits_for_the_lock_another_process_holds",
        "tests/test_guards.py::test_a_signal_while_the_lock_is_held_removes_it_without_the_cli_handlers",
        "tests/test_guards.py::test_an_ignored_sighup_stays_ignored_while_the_lock_is_held",
        "tests/auth/test_oauth_lock_signals.py",
    ],
    "qwen_cli/auth/resolve.py": [
        "tests/auth/test_resolve.py",
        "tests/auth/test_registry.py",
        "tests/cli/test_one_resolution.py",
        "tests/cli/test_auth_status.py",
        "tests/security/test_trust.py",
        # the settings.json selection and the profiles go through resolve too: a partial run (2026-12-01)
        # left mutants in both that only these files exercise
        "tests/cli/test_qwen_code_settings_ask.py",
        "tests/cli/test_profiles.py",
        "tests/cli/test_resolve_order.py",
    ],
    "qwen_cli/auth/methods/__init__.py": [
        "tests/auth/test_registry.py",
        "tests/auth/test_resolve.py",
        "tests/test_public_api.py",
        "tests/cli/test_auth_status.py",
        "tests/cli/test_auth_token.py",
    ],
    "qwen_cli/auth/methods/base.py": [
        "tests/auth/test_registry.py",
        "tests/auth/test_resolve.py",
        "tests/cli/test_auth_status.py",
        "tests/cli/test_one_resolution.py",
        "tests/cli/test_auth_token.py",
    ],
    "qwen_cli/providers/failures.py": [
        "tests/providers/test_failure_messages.py",
        "tests/providers/test_openai_compat.py",
        "tests/providers/test_tls_and_proxy.py",
    ],
}


def run(cmd, cwd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=cwd, check=True, **kw)


def make_copy(work: Path, venv: bool = True) -> None:
    """The checkout as it is now (tracked and new files, uncommitted edits too), with its own venv."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
    if not venv:
        return
    run([sys.executable, "-m", "venv", ".venv"], work)
    run([".venv/bin/pip", "install", "--quiet", "-e", ".[test]"], work)


def config(module: str, tests: list[str]) -> str:
    return (
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {TIMEOUT}\n"
        "excluded-modules = []\n"
        f'test-command = "{PYTEST} {" ".join(tests)}"\n'
        "\n[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def mutate(
    work: Path, module: str, recheck: bool = False, tests: list[str] | None = None, resume: bool = False
) -> dict:
    out = work / "mutation"
    out.mkdir(exist_ok=True)
    stem = module.replace("/", ".").removesuffix(".py")
    cfg, db = out / f"{stem}.toml", out / f"{stem}.sqlite"
    cfg.write_text(config(module, tests or MODULES[module]))
    bin_ = work / ".venv" / "bin"
    if recheck:
        in_annotations, windows_only = forget_survivors(db, work / module)
    elif resume:
        in_annotations, windows_only = count_skipped(db, work / module)
    else:
        db.unlink(missing_ok=True)
        run([bin_ / "cosmic-ray", "init", cfg, db], work)
        in_annotations, windows_only = skip_unreachable(db, work / module)
    skipped = in_annotations + windows_only
    print(f"skipped {in_annotations} mutants inside type annotations, {windows_only} in Windows-only code", flush=True)
    run([bin_ / "cosmic-ray", "baseline", cfg], work)  # the tests must pass on the unmutated module
    run([bin_ / "cosmic-ray", "exec", cfg, db], work)
    report = subprocess.run(
        [bin_ / "cr-report", "--show-diff", "--surviving-only", db],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (out / f"{stem}.txt").write_text(report)
    return summarize(report, skipped) | {"annotations": in_annotations, "windows": windows_only}


def annotation_spans(path: Path) -> set[tuple[int, int, int, int]]:
    """Where the type annotations are: with `from __future__ import annotations` they are never evaluated, so
    a mutant inside one (`str | None` -> `str + None`) cannot change behaviour. An `if TYPE_CHECKING:` block
    counts as one too: it imports names for annotations only (`not TYPE_CHECKING` imports them at run time)."""
    import ast

    spans = set()
    for node in ast.walk(ast.parse(path.read_text())):
        parts = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            parts = [node.returns] + [
                a.annotation
                for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
                if a is not None
            ]
        elif isinstance(node, ast.AnnAssign):
            parts = [node.annotation]
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            parts = [node]
        spans |= {(p.lineno, p.col_offset, p.end_lineno, p.end_col_offset) for p in parts if p is not None}
    return spans


def windows_only_spans(path: Path) -> set[tuple[int, int, int, int]]:
    """Code that runs only on Windows, so no test here can reach it: functions named `*_windows` and the
    `except ModuleNotFoundError:` branch of a `try: import fcntl`."""
    import ast

    spans = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.endswith("_windows"):
            spans.add((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset))
        elif isinstance(node, ast.Try) and any(
            isinstance(s, ast.Import) and s.names[0].name == "fcntl" for s in node.body
        ):
            spans |= {
                (h.lineno, h.col_offset, h.end_lineno, h.end_col_offset)
                for h in node.handlers
                if isinstance(h.type, ast.Name) and h.type.id == "ModuleNotFoundError"
            }
    return spans


def skip_unreachable(db: Path, module: Path) -> tuple[int, int]:
    """Mark as skipped the mutants inside annotations and inside Windows-only code; returns the two counts."""
    in_annotations = _skip(db, annotation_spans(module))
    return in_annotations, _skip(db, windows_only_spans(module))


def _skip(db: Path, spans: set[tuple[int, int, int, int]]) -> int:
    from cosmic_ray.work_db import use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    skipped = 0
    with use_db(str(db)) as work_db:
        for item in list(work_db.pending_work_items):
            if all(
                any((a, b) <= tuple(m.start_pos) and tuple(m.end_pos) <= (c, d) for a, b, c, d in spans)
                for m in item.mutations
            ):
                skip = WorkResult(output=None, test_outcome=None, diff=None, worker_outcome=WorkerOutcome.SKIPPED)
                work_db.set_result(item.job_id, skip)
                skipped += 1
    return skipped


def forget_survivors(db: Path, module: Path) -> tuple[int, int]:
    """Make the survivors of an earlier run pending again, so `exec` tries them against today's tests."""
    import sqlite3

    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    return count_skipped(db, module)


def count_skipped(db: Path, module: Path) -> tuple[int, int]:
    """How many of the run's mutants were skipped as inside annotations, and as Windows-only."""
    import sqlite3

    spans = annotation_spans(module), windows_only_spans(module)
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT start_pos_row, start_pos_col, end_pos_row, end_pos_col FROM mutation_specs "
            "JOIN work_results USING (job_id) WHERE worker_outcome = 'SKIPPED'"
        ).fetchall()
    inside = [
        sum(any((a, b) <= (r[0], r[1]) and (r[2], r[3]) <= (c, d) for a, b, c, d in group) for r in rows)
        for group in spans
    ]
    return inside[0], len(rows) - inside[0]


def summarize(report: str, skipped: int) -> dict:
    total = re.search(r"total jobs: (\d+)", report)
    complete = re.search(r"complete: (\d+)", report)
    survivors = re.search(r"surviving mutants: (\d+)", report)
    n = int(total.group(1)) if total else 0
    done = (int(complete.group(1)) if complete else 0) - skipped
    alive = int(survivors.group(1)) if survivors else 0
    return {
        "mutants": n,
        "skipped": skipped,
        "run": done,
        "survived": alive,
        "score": f"{100 * (done - alive) / done:.0f}%" if done > 0 else "-",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="default: all, smallest first")
    parser.add_argument(
        "--work",
        type=Path,
        help="a copy made by an earlier run: its files are refreshed from this checkout, its venv is kept",
    )
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="with --work: run only the earlier run's survivors again, against the tests as they are now",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --work: go on with the mutants an interrupted run left pending (the copy's files are "
        "refreshed first, which also undoes the mutant it was interrupted in)",
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        metavar="TEST",
        help="with --recheck: only these test files (the "
        "new ones; the module's usual tests have already failed to kill the survivors)",
    )
    args = parser.parse_args(argv)
    modules = args.modules or sorted(MODULES, key=lambda m: (ROOT / m).stat().st_size)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"not in scope: {', '.join(unknown)} (choose from {', '.join(MODULES)})")
    if args.work is None:
        work = Path(tempfile.mkdtemp(prefix="qwen-mutation-")) / "qwen"
        work.mkdir()
        make_copy(work)
    else:
        work = args.work.resolve()
    if any((d / ".git").exists() for d in (work, *work.parents)):
        parser.error(f"{work} is in a git checkout: cosmic-ray edits the files it mutates, so use a copy")
    if (args.recheck or args.resume) and args.work is None:
        parser.error("--recheck and --resume need --work: the copy that holds the earlier run")
    if args.recheck and args.resume:
        parser.error("--recheck or --resume, not both")
    if args.work is not None:
        make_copy(work, venv=False)
    if args.tests and not args.recheck:
        parser.error("--tests is for --recheck: a full run uses the module's own list in MODULES")
    results = {m: mutate(work, m, recheck=args.recheck, tests=args.tests, resume=args.resume) for m in modules}
    print(
        f"\nReports in {work / 'mutation'}\n\n"
        "| module | mutants | in annotations | Windows-only | run | survived | score |"
    )
    print("|---|---|---|---|---|---|---|")
    for module, r in results.items():
        print(
            f"| {module} | {r['mutants']} | {r['annotations']} | {r['windows']} | {r['run']} | {r['survived']} "
            f"| {r['score']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
