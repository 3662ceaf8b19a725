"""Grades word count's map_fn and reduce_fn (6.824's mrapps/wc) by running them as a small
MapReduce in this process and comparing each word's count with distlab's wc app."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.mapreduce.apps import wc
from distlab.systems.mapreduce.inputs import write_inputs


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()

TEXTS = {
    "plain English": "The cat sat on the mat.\nThe mat was flat; the cat was not!\n\nA cat, a mat, a hat.\n",
    "accents and other alphabets": ("L'été à Paris: café, crème brûlée, été comme hiver.\n"
                                    "Straße über Straße; Ελλάδα και Ελλάδα; мир, мир, мир; 東京 東京\n"
                                    "déjà-vu été naïve ÉTÉ été\n"),
    "digits, apostrophes and underscores": ("don't won't o'clock R2D2 x1y2 well_known snake_case_name\n"
                                            "1895 3.14 route66 don't ½ Ⅻ — … «quoted» e-mail (aside)\n"),
}


def _files(name: str, seed: int, tmp: Path) -> list[str]:
    if name in TEXTS:
        path = tmp / "input.txt"
        path.write_text(TEXTS[name], encoding="utf-8")
        return [str(path)]
    return write_inputs(tmp, seed, words=600)


def _run(name: str, target: object, seed: int) -> str | None:
    module = kit.module_of(target)
    map_fn: Callable[..., Any] = kit.function(module, "map_fn")
    reduce_fn: Callable[..., Any] = kit.function(module, "reduce_fn")
    with tempfile.TemporaryDirectory(prefix="distlab-wc-") as tmp:
        files = _files(name, seed, Path(tmp))
        expected = kit.run_job(wc.map_fn, wc.reduce_fn, files)
        got = kit.run_job(map_fn, reduce_fn, files, n_reduce=3)
    return kit.compare(expected, got)


def scenarios() -> list[str]:
    return [*TEXTS, "eight seeded books"]


def run(name: str, target: object, seed: int) -> str | None:
    try:
        return _run(name, target, seed)
    except kit.Wrong as exc:
        return str(exc)
