"""A learner's Python file imported as a module under a name of the caller's choosing:
what raft-test, region-lab and the course's graders all do with FILE.py arguments."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_file(path: Path, name: str) -> ModuleType:
    """Execute `path` as module `name` (registered in sys.modules first, so dataclasses and
    pickling inside it work); its exceptions propagate for the caller to word."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
