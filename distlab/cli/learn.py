"""The learner's commands: `tracks`, `start`, `check`, `hint`, `progress`, `solution`
(and `tracks --verify` for maintainers). The course content is distlab/tracks/; the
engine is distlab.tracks.*; progress lives in the user's data directory."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click
import orjson
from rich.table import Table
from rich.text import Text

from distlab.cli.shared import CliError, err, out, pins_hash
from distlab.tracks.catalogue import Catalogue, CatalogueError, Task, load
from distlab.tracks.progress import SOLUTION_AFTER_FAILS, Progress

MARKER = ".distlab-task"
WRITTEN = ".distlab-files.json"
"""sha256 of each file `start` wrote, so a later `start` knows which ones the learner edited."""


def _catalogue() -> Catalogue:
    try:
        return load()
    except CatalogueError as exc:
        raise CliError(f"course content: {exc}") from None


def _did_you_mean(cat: Catalogue, name: str, tasks: bool = True, tracks: bool = True) -> str:
    """"; did you mean messenger/echo?" for a mistyped id (a typo should cost one look,
    not a trip through `distlab tracks`), or "" when nothing is close."""
    import difflib

    ids = ([t.id for tr in cat.tracks for t in tr.tasks] if tasks else []) + \
          ([tr.id for tr in cat.tracks] if tracks else [])
    close = difflib.get_close_matches(name, ids, n=1, cutoff=0.75)
    if not close and tasks and "/" in name:  # a right track with a wrong task: its nearest task
        track, _, rest = name.partition("/")
        near = difflib.get_close_matches(track, [tr.id for tr in cat.tracks], n=1, cutoff=0.75)
        if near:
            names = {t.name: t.id for t in cat.tracks[[tr.id for tr in cat.tracks].index(near[0])].tasks}
            close = [names[n] for n in difflib.get_close_matches(rest, list(names), n=1, cutoff=0.6)]
    return f"; did you mean {close[0]}?" if close else ""


def _find_marker(start: Path | None = None) -> Path | None:
    """The workspace marker in `start` (the current directory) or one of its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).is_file():
            return folder / MARKER
    return None


def _marker_task(marker: Path) -> str:
    """The task id a workspace marker names ("" for an empty or unreadable one): a
    marker is the learner's file too, and may hold anything."""
    try:
        words = marker.read_text(errors="replace").split()
    except OSError:
        return ""
    return words[0] if words else ""


def _first_failure_report(run_dir: Path) -> Path | None:
    """report.html for a failed scenario's run (the Lamport diagram, the timeline, the
    failure view), or None for a run that is not a distlab test run (raft, module tasks)."""
    from distlab.report.build import write_report
    from distlab.report.rundir import ReportError

    try:
        return write_report(run_dir).report
    except (ReportError, OSError):
        return None


def _default_workspace(track: str) -> Path:
    """Where `start` puts a task with no DIR given: inside a workspace already, that
    workspace for its own track and a sibling folder for another (never a distlab-work/
    nested in a workspace); elsewhere ./distlab-work/TRACK."""
    marker = _find_marker()
    if marker is None:
        return Path("distlab-work") / track
    current = marker.parent
    try:
        same = _marker_task(marker).split("/")[0] == track
    except OSError:
        same = False
    return _relative(current if same else current.parent / track)


def _relative(path: Path) -> Path:
    """`path` relative to the current folder where it is inside it (shorter to read)."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _resolve_task(cat: Catalogue, task_id: str | None) -> tuple[Task, Path | None]:
    """The task named, or the one the workspace marker names; with the workspace folder."""
    marker = _find_marker()
    if task_id is None:
        if marker is None:
            raise CliError("no task here: give a task id (see `distlab tracks`) or run this in a "
                           "workspace made by `distlab start`")
        task_id = _marker_task(marker)
        if cat.task(task_id) is None:  # the learner typed nothing: say which file is wrong
            hint = _did_you_mean(cat, task_id, tracks=False).removeprefix("; ") if task_id else ""
            named = f"names {task_id!r}, which is no task" if task_id else "names no task"
            raise CliError(f"this workspace's marker {_relative(marker)} {named}; give a task id "
                           "(`distlab check TRACK/TASK`) or run `distlab start TRACK/TASK` here again"
                           + (f" ({hint})" if hint else ""))
    task = cat.task(task_id)
    if task is None:
        track = cat.track(task_id)
        if track is not None and track.tasks:
            raise CliError(f"{task_id} is a track; name one of its tasks, e.g. {track.tasks[0].id}")
        raise CliError(f"no task {task_id!r}{_did_you_mean(cat, task_id, tracks=False)} (see `distlab tracks`)")
    workspace = marker.parent if marker is not None and _marker_task(marker) == task.id else None
    return task, workspace


def _next_task(cat: Catalogue, progress: Progress, after: Task | None = None,
               track: str | None = None) -> Task | None:
    """The first task not passed: after `after` in catalogue order (then from the start),
    or within `track`."""
    tasks = [t for tr in cat.tracks for t in tr.tasks if track is None or t.track == track]
    if after is not None and after in tasks:
        i = tasks.index(after)
        tasks = tasks[i + 1:] + tasks[:i]
    return next((t for t in tasks if not progress.passed(t.id)), None)


# --- tracks ------------------------------------------------------------------------------

@pins_hash
@click.command("tracks")
@click.argument("only", nargs=-1, metavar="[TRACK]...")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON (for tools).")
@click.option("--verify", is_flag=True,
              help="Maintainers: check every task's reference passes and every mutant fails.")
@click.option("--scheduler", default="local", show_default=True, metavar="local|dask|ADDRESS",
              help="With --verify: where tasks run: this machine's processes, a Dask cluster "
                   "started here, or a Dask scheduler's address (tcp://HOST:8786).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 256),
              help="With --verify: processes here, or workers of the Dask cluster started here.")
def tracks(only: tuple[str, ...], as_json: bool, verify: bool, scheduler: str, workers: int) -> None:
    """Every track by category, with your progress (done/total); with TRACK names, their
    tasks (or, with --verify, the tracks to verify)."""
    cat = _catalogue()
    if verify:
        _verify(cat, list(only), scheduler, workers)
        return
    if only and not as_json:
        _show_tracks_tasks(cat, list(only))
        return
    if only:
        raise CliError("--json prints the whole catalogue; give no track names")
    if as_json:
        sys.stdout.write(orjson.dumps(cat.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    progress = Progress.load()
    category = None
    for tr in cat.tracks:
        if tr.category != category:
            category = tr.category
            out.print(f"\n[bold]{category}[/]")
        done = sum(progress.passed(t.id) for t in tr.tasks)
        out.print(Text.assemble(f"  {tr.id:<16} ", (f"{done:>3}/{len(tr.tasks):<3}", "green" if done else "dim"),
                                f" {tr.title}: {tr.summary}"), soft_wrap=True)
    nxt = _next_task(cat, progress)
    if nxt is not None:
        out.print(f"\nnext: distlab start {nxt.id}", highlight=False)


def _show_tracks_tasks(cat: Catalogue, only: list[str]) -> None:
    """The tasks of the named tracks, done ones marked."""
    progress = Progress.load()
    for name in only:
        tr = cat.track(name)
        if tr is None:
            raise CliError(f"no track {name!r}{_did_you_mean(cat, name, tasks=False)} (see `distlab tracks`)")
        out.print(f"[bold]{tr.id}[/] ({tr.category}): {tr.summary}", soft_wrap=True)
        for t in tr.tasks:
            mark = ("done", "green") if progress.passed(t.id) else ("    ", "")
            out.print(Text.assemble("  ", mark, f"  {t.id:<36} {t.title}: {t.summary}"), soft_wrap=True)


def _verify(cat: Catalogue, only: list[str], scheduler: str = "local", workers: int = 2) -> None:
    from distlab.fanout import FanoutError, describe
    from distlab.tracks.verify import verify_many

    unknown = [t for t in only if cat.track(t) is None]
    if unknown:
        raise CliError(f"no track {unknown[0]!r}{_did_you_mean(cat, unknown[0], tasks=False)} (see `distlab tracks`)")
    ids = [t.id for tr in cat.tracks if not only or tr.id in only for t in tr.tasks]
    where = "up to 2 workers" if (scheduler, workers) == ("local", 2) else describe(scheduler, workers)
    out.print(f"verifying {len(ids)} task(s) on {where} ...")
    try:
        verdicts = verify_many(ids, workers=workers, scheduler=scheduler)
    except FanoutError as exc:
        raise CliError(str(exc)) from None
    table = Table("task", "reference", "mutants caught", "seconds")
    for v in verdicts:
        table.add_row(v.task_id, "[green]pass[/]" if v.reference_ok else "[red]FAIL[/]",
                      f"{'[green]' if v.mutants_caught == v.mutants else '[red]'}{v.mutants_caught}/{v.mutants}[/]",
                      f"{v.seconds:.1f}")
    out.print(table)
    bad = [v for v in verdicts if not v.ok]
    for v in bad:
        for p in v.problems:
            out.print(f"[red]{v.task_id}[/]: {p}", highlight=False, soft_wrap=True)
    out.print(f"{len(verdicts) - len(bad)}/{len(verdicts)} task(s) sound")
    sys.exit(1 if bad else 0)


# --- start -------------------------------------------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@click.command("start")
@click.argument("what")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace files you edited with the new task's.")
def start(what: str, directory: str | None, force: bool) -> None:
    """Make a workspace for WHAT (TRACK/TASK, or TRACK for its next unfinished task):
    the statement, a starter file and a marker that `check` and `hint` read."""
    cat = _catalogue()
    progress = Progress.load()
    task = cat.task(what)
    if task is None:
        track = cat.track(what)
        if track is None:
            raise CliError(f"no track or task {what!r}{_did_you_mean(cat, what)} (see `distlab tracks`)")
        if not track.tasks:
            raise CliError(f"track {what} has no tasks yet")
        task = _next_task(cat, progress, track=track.id) or track.tasks[-1]
    ws = Path(directory) if directory else _default_workspace(task.track)
    files = {"statement.md": (task.folder / "statement.md").read_bytes(),
             task.starter_name: task.starter.read_bytes()}
    if (task.folder / "starter_raw.py").is_file():
        files["starter_raw.py"] = (task.folder / "starter_raw.py").read_bytes()
    try:
        written = orjson.loads((ws / WRITTEN).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        written = {}
    kept = _keep_passed_work(ws, task.id, progress, written)
    if not force:
        for name, data in files.items():
            path = ws / name
            if path.is_file():
                now = _sha(path.read_bytes())
                if now != _sha(data) and now != written.get(name):
                    raise CliError(f"{path} has your edits; use --force to replace it with {task.id}'s "
                                   f"starter, or give another DIR (e.g. distlab-work/{task.track}-{task.name})")
    ws.mkdir(parents=True, exist_ok=True)
    for name in [n for n in written if n not in files]:
        path = ws / name  # the last task's starter this one does not have, untouched: stale
        if path.is_file() and _sha(path.read_bytes()) == written[name]:
            path.unlink()
            del written[name]
    for name, data in files.items():
        (ws / name).write_bytes(data)
        written[name] = _sha(data)
    (ws / WRITTEN).write_bytes(orjson.dumps(written, option=orjson.OPT_INDENT_2))
    (ws / MARKER).write_text(task.id + "\n")
    if kept is not None:
        out.print(f"kept your passed {kept[0]} in {kept[1]}", highlight=False, soft_wrap=True)
    missing = [p for p in task.prerequisites if not progress.passed(p)]
    if missing:
        out.print(f"[yellow]note[/]: {task.id} builds on {', '.join(missing)}, not passed yet", highlight=False)
    out.print(f"[bold]{task.id}[/]: {task.title} — {task.summary}", soft_wrap=True)
    out.print(f"workspace {ws}: {', '.join(files)}", highlight=False, soft_wrap=True)
    out.print("next: read statement.md, edit " + task.starter_name + ", then run", highlight=False)
    here = ws.resolve() == Path.cwd().resolve()
    out.print("  distlab check" if here else f"  cd {ws} && distlab check", highlight=False, soft_wrap=True)


def _keep_passed_work(ws: Path, new_task: str, progress: Progress,
                      written: dict[str, str]) -> tuple[str, Path] | None:
    """Moving on from a passed task in the same workspace: the files the learner edited
    go to done/<task>/ (nothing lost), so the next starter can take their place."""
    try:
        previous = (ws / MARKER).read_text(errors="replace").strip()
    except OSError:
        return None
    if not previous or previous == new_task or not progress.passed(previous):
        return None
    edited = [p for p in sorted(ws.iterdir()) if p.is_file() and not p.name.startswith(".")
              and _sha(p.read_bytes()) != written.get(p.name)]
    if not edited:
        return None
    dest = ws / "done" / previous.replace("/", "-")
    dest.mkdir(parents=True, exist_ok=True)
    for path in edited:
        path.replace(dest / path.name)
        written.pop(path.name, None)
    return previous, dest


# --- check -------------------------------------------------------------------------------

@pins_hash
@click.command("check", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[TASK] [-- NODE_ARGS...]")
@click.option("--bin", "bin_spec", metavar="FILE|MODULE:FACTORY", help="The code to grade: FILE (a node) or FILE.py:FACTORY / MODULE:FACTORY "
              "(Raft and module tasks). Default: the starter file in the workspace.")
def check(args: tuple[str, ...], bin_spec: str | None) -> None:
    """Grade your code for TASK (or the workspace's task); arguments after -- go to the
    node. Exit 0 passed, 1 failed, 2 could not run."""
    from distlab.tracks.grading import GradeError, ScenarioResult, default_target, grade

    cat = _catalogue()
    rest = list(args)
    task_id = rest.pop(0) if rest and cat.task(rest[0]) is not None else None
    if rest and bin_spec is None:
        raise CliError(_not_a_task(cat, rest[0]))
    task, workspace = _resolve_task(cat, task_id)
    base = workspace or Path.cwd()
    target = default_target(task, base) if bin_spec is None else _with_factory(task, bin_spec)
    out.print(f"[bold]check {task.id}[/]: {target}", highlight=False, soft_wrap=True)

    reported: list[object] = []

    def show(r: ScenarioResult) -> None:
        if r.passed:
            out.print(Text.assemble(("PASS", "green"), f"  {r.name}  (seed {r.seed})"))
            return
        out.print(Text.assemble(("FAIL", "red"), f"  {r.name}  (seed {r.seed}): {r.reason}"), soft_wrap=True)
        if r.replay:
            label = "replay" if r.replay.startswith("distlab replay") else "rerun"
            out.print(f"  {label}: {r.replay}", highlight=False, soft_wrap=True, markup=False)
        if r.run_dir is not None:
            out.print(f"  run dir: {r.run_dir}", highlight=False, soft_wrap=True, markup=False)
            if not reported:  # the first failure gets the pictures (about a second's work)
                reported.append(r.run_dir)
                report = _first_failure_report(Path(r.run_dir))
                if report is not None:
                    out.print(f"  report: {report}", highlight=False, soft_wrap=True, markup=False)

    try:
        results = grade(task, target, bin_args=rest, store=base / "store", on_result=show)
    except GradeError as exc:
        raise CliError(str(exc)) from None
    ok = bool(results) and all(r.passed for r in results)
    with Progress.locked() as progress:
        progress.record_check(task.id, ok)
    failed = sum(not r.passed for r in results)
    if ok:
        out.print(f"[bold green]passed[/] {task.id}: {len(results)} scenario run(s); progress recorded", highlight=False)
        nxt = _next_task(cat, progress, after=task)
        out.print(f"next: distlab start {nxt.id}" if nxt else "every task is done: well played",
                  highlight=False)
        sys.exit(0)
    stuck = progress.fails(task.id) >= SOLUTION_AFTER_FAILS  # say that the reference is open now
    out.print(f"[bold red]failed[/] {task.id}: {failed} of {len(results)} scenario run(s) failed; "
              f"`distlab hint` gives a hint" + ("; `distlab solution` shows the reference" if stuck else ""),
              highlight=False, soft_wrap=True)
    sys.exit(1)


def _with_factory(task: Task, bin_spec: str) -> str:
    """`--bin wc.py` for a task that grades a named object (a Raft's `make`, a module
    task's [grader] factory) means that object in wc.py, as the workspace's file would."""
    from distlab.tracks.grading import target_for

    if bin_spec.endswith(".py") and ":" not in Path(bin_spec).name and Path(bin_spec).is_file():
        return target_for(task, Path(bin_spec))
    return bin_spec


def _not_a_task(cat: Catalogue, word: str) -> str:
    """What `distlab check WORD` got wrong, in the learner's terms: a track, a mistyped
    task, a file given without --bin, or node arguments without the node."""
    track = cat.track(word)
    if track is not None and track.tasks:
        return f"{word} is a track; name one of its tasks, e.g. distlab check {track.tasks[0].id}"
    if Path(word).is_file():
        return f"{word} is a file, not a task id: grade it with distlab check --bin {word}"
    if word.startswith("-"):
        return (f"no option {word} (see `distlab check --help`); arguments for your node go after "
                "--bin FILE --")
    if "/" in word and not word.startswith(("-", ".", "/")) and not Path(word).suffix:
        return f"no task {word!r}{_did_you_mean(cat, word)} (see `distlab tracks`)"
    return (f"{word!r} is not a task id{_did_you_mean(cat, word)} (see `distlab tracks`); arguments for "
            "your node go after --bin FILE --")


# --- hint, progress, solution -------------------------------------------------------------

@click.command("hint")
@click.argument("task_id", required=False)
def hint(task_id: str | None) -> None:
    """One more hint for TASK (or the workspace's task) each time you ask."""
    cat = _catalogue()
    task, _ = _resolve_task(cat, task_id)
    hints = task.hints()
    if not hints:
        out.print(f"{task.id} has no hints; the statement says what is graded")
        return
    with Progress.locked() as progress:  # two hints asked at once are two hints
        shown = int(progress.entry(task.id).get("hints", 0))
        i = progress.next_hint(task.id) if shown < len(hints) else None
    if i is None:
        out.print(f"no more hints for {task.id} (all {len(hints)} shown); the last one again:", highlight=False)
        out.print(hints[-1], markup=False, highlight=False, soft_wrap=True)
        return
    out.print(f"[bold]hint {i + 1} of {len(hints)}[/] for {task.id}:", highlight=False)
    out.print(hints[i], markup=False, highlight=False, soft_wrap=True)


@click.command("progress")
def progress_cmd() -> None:
    """Per track: tasks done of the total, and which."""
    cat = _catalogue()
    progress = Progress.load()
    for tr in cat.tracks:
        done = [t for t in tr.tasks if progress.passed(t.id)]
        out.print(f"{tr.id:<16} {len(done):>3}/{len(tr.tasks):<3}"
                  + (f"  done: {', '.join(t.name for t in done)}" if done else ""), highlight=False, soft_wrap=True)
    nxt = _next_task(cat, progress)
    if nxt is not None:
        out.print(f"next: distlab start {nxt.id}", highlight=False)


@click.command("solution")
@click.argument("task_id", required=False)
def solution(task_id: str | None) -> None:
    """The reference solution of TASK: once you passed it, or after enough failed checks."""
    cat = _catalogue()
    task, _ = _resolve_task(cat, task_id)
    progress = Progress.load()
    fails = progress.fails(task.id)
    if not progress.passed(task.id):
        if fails < SOLUTION_AFTER_FAILS:
            err.print(f"not yet: the solution of {task.id} opens once `distlab check` passes it, or after "
                      f"{SOLUTION_AFTER_FAILS} failed checks ({fails} so far); try `distlab hint`",
                      highlight=False, soft_wrap=True)
            sys.exit(1)
        out.print(f"[yellow]{task.id}: shown after {fails} failed checks; it stays unpassed until your "
                  "own code passes[/]", highlight=False)
    out.print(f"# {task.id}: reference solution ({task.reference.name})", highlight=False)
    sys.stdout.flush()
    sys.stdout.write(task.reference.read_text())
