"""The learner's progress (tasks passed, failed checks, hints shown), kept in the user's
data directory (or $DISTLAB_HOME), never in the package: an installed distlab is shared."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SOLUTION_AFTER_FAILS = 5
"""Failed checks after which `distlab solution` shows the reference without a pass."""


def home() -> Path:
    """Where progress.json lives: $DISTLAB_HOME, else platformdirs' user data dir."""
    env = os.environ.get("DISTLAB_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("distlab"))


def _set_aside(path: Path, why: str) -> None:
    """A progress file that cannot be read is kept next to it, never overwritten by the
    next save: the learner's record may be recoverable by hand. Said once, on stderr."""
    import sys
    import time

    keep = path.with_name(f"progress.unreadable-{time.strftime('%Y%m%dT%H%M%S')}.json")
    try:
        path.replace(keep)
    except OSError as exc:
        sys.stderr.write(f"warning: {path} {why}, and could not be set aside ({exc.strerror})\n")
        return
    sys.stderr.write(f"warning: {path} {why}; kept as {keep}, progress starts afresh\n")


@dataclass
class Progress:
    """Per task id: passed (bool), fails (failed checks), hints (how many shown)."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls) -> Progress:
        path = home() / "progress.json"
        try:
            data = path.read_bytes()
        except OSError:
            return cls({}, path)  # none yet (or unreadable: the next save says why)
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            doc = None
        tasks = doc.get("tasks") if isinstance(doc, dict) else None
        if not isinstance(tasks, dict):
            _set_aside(path, "is not distlab progress (corrupt JSON?)")
            return cls({}, path)
        return cls(tasks, path)

    @classmethod
    @contextmanager
    def locked(cls) -> Iterator[Progress]:
        """Load, let the caller change, save: with an exclusive lock on the data directory
        throughout, so two commands finishing at once (two checks in one workspace) both
        count; without it the second save drops the first one's pass."""
        folder = home()
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".progress.lock", "a+b") as lock:
            try:
                import fcntl

                fcntl.flock(lock, fcntl.LOCK_EX)
            except (ImportError, OSError):
                pass  # no flock here (another OS, a filesystem without locks): unlocked, as before
            progress = cls.load()
            yield progress
            progress.save()

    def save(self) -> None:
        """Written to a temporary file and renamed: an interrupted write never leaves half a file."""
        path = self.path or home() / "progress.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(orjson.dumps({"version": 1, "tasks": self.tasks}, option=orjson.OPT_INDENT_2))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def entry(self, task_id: str) -> dict[str, Any]:
        return self.tasks.setdefault(task_id, {"passed": False, "fails": 0, "hints": 0})

    def passed(self, task_id: str) -> bool:
        return bool(self.tasks.get(task_id, {}).get("passed"))

    def fails(self, task_id: str) -> int:
        return int(self.tasks.get(task_id, {}).get("fails", 0))

    def record_check(self, task_id: str, ok: bool) -> None:
        e = self.entry(task_id)
        if ok:
            e["passed"] = True
        else:
            e["fails"] = int(e.get("fails", 0)) + 1

    def next_hint(self, task_id: str) -> int:
        """The index of the hint to show now, counted as shown."""
        e = self.entry(task_id)
        n = int(e.get("hints", 0))
        e["hints"] = n + 1
        return n
