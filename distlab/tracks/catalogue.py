"""The course catalogue: every track.toml and task.toml under distlab/tracks/, validated
and ordered. The course is data (distlab/tracks/FORMAT.md); nothing is registered in code,
so a new task folder is a new task."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
KINDS = ("node", "raft", "kvlab", "module")
NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
TASK_DIR = re.compile(r"(\d\d)-([a-z0-9]+(?:-[a-z0-9]+)*)")
CATEGORY_ORDER = ("Foundations", "Replication", "Consistency", "Time", "Storage", "Consensus",
                  "Transactions", "Batch")
"""Categories in the order a learner meets them; others follow, alphabetically."""


class CatalogueError(Exception):
    """A track.toml or task.toml is missing a field or has a wrong one: one line naming
    the file and the field, so a content author fixes it at once."""


@dataclass
class Scenario:
    """One graded `distlab test` configuration (kind node), run once per seed."""

    name: str
    workload: str
    seeds: list[int]
    options: dict[str, Any]
    expect: str = "valid"
    targets: dict[str, float] = field(default_factory=dict)


@dataclass
class Mutant:
    """A plausible learner mistake that must fail with `fails` in the reason.

    `file` is either a whole node file or (`.patch`) a unified diff against the task's
    reference.py: most mistakes are a few lines, and a patch keeps a fix to the reference
    from having to be repeated in every mutant (a patch that no longer applies says so)."""

    file: Path
    fails: str
    why: str = ""

    def materialize(self, reference: Path, into: Path) -> Path:
        """The mutant as a file to run: `file` itself, or the reference with the patch
        applied, written into the folder `into` under the patch's name (.py)."""
        if self.file.suffix != ".patch":
            return self.file
        import whatthepatch
        from whatthepatch.exceptions import HunkApplyException

        patches = list(whatthepatch.parse_patch(self.file.read_text(encoding="utf-8")))
        if len(patches) != 1 or patches[0].changes is None:
            raise CatalogueError(f"{_rel(self.file)}: not a unified diff of one file (reference.py)")
        try:
            lines = whatthepatch.apply_diff(patches[0], reference.read_text(encoding="utf-8"))
        except HunkApplyException as exc:
            raise CatalogueError(f"{_rel(self.file)} no longer applies to {_rel(reference)} ({exc}): "
                                 "make the mistake again on the current reference and regenerate the patch") from None
        into.mkdir(parents=True, exist_ok=True)
        out = into / f"{self.file.stem}.py"
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return out


@dataclass
class Task:
    """One graded task: `id` is `<track>/<task>` as a learner types it."""

    id: str
    track: str
    name: str
    number: int
    folder: Path
    title: str
    summary: str
    kind: str
    prerequisites: list[str]
    scenarios: list[Scenario]
    grader: dict[str, Any]
    mutants: list[Mutant]
    starter_name: str

    @property
    def reference(self) -> Path:
        return self.folder / "reference.py"

    @property
    def starter(self) -> Path:
        return self.folder / "starter.py"

    def hints(self) -> list[str]:
        """hints.md split on lines "---" (empty sections dropped)."""
        path = self.folder / "hints.md"
        if not path.is_file():
            return []
        parts = re.split(r"^---\s*$", path.read_text(), flags=re.MULTILINE)
        return [p.strip() for p in parts if p.strip()]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "summary": self.summary, "kind": self.kind}


@dataclass
class Track:
    """A track: its tasks in order."""

    id: str
    folder: Path
    title: str
    category: str
    order: int
    prerequisites: list[str]
    summary: str
    tasks: list[Task] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "category": self.category, "order": self.order,
                "summary": self.summary, "prerequisites": self.prerequisites,
                "tasks": [t.to_json() for t in self.tasks]}


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{_rel(path)}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise CatalogueError(f"{_rel(path)}: {exc.strerror or exc}") from None


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT.parent.parent))
    except ValueError:
        return str(path)


def _field(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path,
           default: Any = ..., where: str = "") -> Any:
    if key not in doc:
        if default is ...:
            raise CatalogueError(f"{_rel(path)}: field '{where}{key}' is missing")
        return default
    value = doc[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise CatalogueError(f"{_rel(path)}: field '{where}{key}' should be {names}, not {value!r}")
    return value


def _track(folder: Path) -> Track:
    path = folder / "track.toml"
    doc = _read(path)
    if not NAME.fullmatch(folder.name):
        raise CatalogueError(f"{_rel(folder)}: track folder names are lower-case words joined by '-'")
    return Track(
        id=folder.name, folder=folder,
        title=_field(doc, "title", str, path), category=_field(doc, "category", str, path),
        order=_field(doc, "order", int, path), prerequisites=list(_field(doc, "prerequisites", list, path, [])),
        summary=_field(doc, "summary", str, path),
    )


def _scenario(doc: Any, path: Path, i: int) -> Scenario:
    where = f"scenario[{i}]."
    if not isinstance(doc, dict):
        raise CatalogueError(f"{_rel(path)}: [[scenario]] {i} is not a table")
    options = dict(_field(doc, "options", dict, path, {}, where))
    for bad in ("bin", "seed", "store", "mode", "workload"):
        if bad in options:
            raise CatalogueError(f"{_rel(path)}: field '{where}options.{bad}' is set by the grader")
    seeds = _field(doc, "seeds", list, path, [1], where)
    if not seeds or not all(isinstance(s, int) for s in seeds):
        raise CatalogueError(f"{_rel(path)}: field '{where}seeds' should be a list of integers")
    expect = _field(doc, "expect", str, path, "valid", where)
    if expect not in ("valid", "invalid"):
        raise CatalogueError(f"{_rel(path)}: field '{where}expect' should be 'valid' or 'invalid'")
    targets = dict(_field(doc, "targets", dict, path, {}, where))
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise CatalogueError(f"{_rel(path)}: field '{where}targets.{sorted(unknown)[0]}' is not a known "
                             f"target ({', '.join(TARGETS)})")
    return Scenario(name=_field(doc, "name", str, path, where=where),
                    workload=_field(doc, "workload", str, path, where=where),
                    seeds=list(seeds), options=options, expect=expect, targets=targets)


TARGETS = ("msgs_per_op_max", "stable_latency_median_ms_max", "stable_latency_max_ms_max",
           "availability_min")


def _task(track: Track, folder: Path) -> Task:
    path = folder / "task.toml"
    m = TASK_DIR.fullmatch(folder.name)
    if m is None:
        raise CatalogueError(f"{_rel(folder)}: task folders are named NN-name (e.g. 01-echo)")
    doc = _read(path)
    kind = _field(doc, "kind", str, path)
    if kind not in KINDS:
        raise CatalogueError(f"{_rel(path)}: field 'kind' should be one of {', '.join(KINDS)}, not {kind!r}")
    scenarios = [_scenario(s, path, i) for i, s in enumerate(_field(doc, "scenario", list, path, []))]
    if kind == "node" and not scenarios:
        raise CatalogueError(f"{_rel(path)}: field 'scenario' is missing (kind node needs one [[scenario]])")
    grader = dict(_field(doc, "grader", dict, path, {}))
    if kind in ("raft", "kvlab") and not isinstance(grader.get("scenarios"), list):
        raise CatalogueError(f"{_rel(path)}: field 'grader.scenarios' is missing (a list of patterns)")
    if kind == "module" and not (folder / "grader.py").is_file():
        raise CatalogueError(f"{_rel(folder)}: kind module needs grader.py")
    mutants = []
    for i, md in enumerate(_field(doc, "mutant", list, path, [])):
        where = f"mutant[{i}]."
        if not isinstance(md, dict):
            raise CatalogueError(f"{_rel(path)}: [[mutant]] {i} is not a table")
        file = folder / _field(md, "file", str, path, where=where)
        if not file.is_file():
            raise CatalogueError(f"{_rel(path)}: field '{where}file': no file {_rel(file)}")
        mutants.append(Mutant(file, _field(md, "fails", str, path, where=where), _field(md, "why", str, path, "", where)))
    for name in ("statement.md", "starter.py", "reference.py"):
        if not (folder / name).is_file():
            raise CatalogueError(f"{_rel(folder)}: {name} is missing")
    default_starter = {"raft": "myraft.py", "kvlab": "node.py", "node": "node.py"}.get(kind, "solution.py")
    return Task(
        id=f"{track.id}/{m.group(2)}", track=track.id, name=m.group(2), number=int(m.group(1)),
        folder=folder, title=_field(doc, "title", str, path), summary=_field(doc, "summary", str, path),
        kind=kind, prerequisites=list(_field(doc, "prerequisites", list, path, [])),
        scenarios=scenarios, grader=grader, mutants=mutants,
        starter_name=_field(doc, "starter", str, path, default_starter),
    )


def _category_key(category: str) -> tuple[int, str]:
    return (CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER), category)


class Catalogue:
    """Every track and task under `root`, in the order a learner meets them."""

    def __init__(self, tracks: list[Track]) -> None:
        self.tracks = tracks
        self.tasks: dict[str, Task] = {t.id: t for tr in tracks for t in tr.tasks}

    def track(self, track_id: str) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)

    def task(self, task_id: str) -> Task | None:
        return self.tasks.get(task_id)

    def to_json(self) -> dict[str, Any]:
        return {"tracks": [t.to_json() for t in self.tracks]}


def load(root: Path | None = None) -> Catalogue:
    """Read and validate every track under `root` (default: $DISTLAB_TRACKS, else the
    package's own); CatalogueError on the first bad file."""
    if root is None:
        root = Path(os.environ["DISTLAB_TRACKS"]) if os.environ.get("DISTLAB_TRACKS") else ROOT
    tracks: list[Track] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "track.toml").is_file()):
        track = _track(folder)
        seen: dict[str, Path] = {}
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and (p / "task.toml").is_file()):
            task = _task(track, sub)
            if task.name in seen:
                raise CatalogueError(f"{_rel(sub)}: task id {task.id} is also {_rel(seen[task.name])}")
            seen[task.name] = sub
            track.tasks.append(task)
        track.tasks.sort(key=lambda t: t.number)
        tracks.append(track)
    tracks.sort(key=lambda t: (_category_key(t.category), t.order, t.id))
    return Catalogue(tracks)
