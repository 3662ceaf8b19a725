"""Small input files generated from a seed, named after the Gutenberg books 6.824 ships
(early_exit's slow reduces pick the *sherlock* and *tom* ones by name). The text mixes
accented and non-Latin letters, digits, apostrophes and underscores, so a word splitter
that is not "maximal runs of Unicode letters" gives a different count."""

from __future__ import annotations

import random
from pathlib import Path

BOOKS = ("being_ernest", "dorian_gray", "frankenstein", "grimm", "huckleberry_finn",
         "metamorphosis", "sherlock_holmes", "tom_sawyer")

_VOCABULARY = ("the of and to a in that it was he his I you with for as had on not at but "
               "said Holmes Watson monster Tom Huck Gregor Dorian Ernest Gretel river raft "
               "café naïve Straße über Ελλάδα мир 東京 déjà-vu don't o'clock well_known "
               "R2D2 x1y2 ½ Ⅻ 1895 3.14 — … «quoted» (aside) e-mail").split()


def write_inputs(directory: str | Path, seed: int = 1, words: int = 1500) -> list[str]:
    """Write one file per book into `directory`; return their absolute paths, sorted."""
    rng = random.Random(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for book in BOOKS:
        lines, line = [], []
        for _ in range(rng.randint(words // 2, words)):
            line.append(rng.choice(_VOCABULARY))
            if len(line) >= rng.randint(6, 14):
                lines.append(" ".join(line) + rng.choice(("", ".", ",", "!", ";")))
                line = []
        lines.append(" ".join(line))
        path = directory / f"pg-{book}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path.resolve()))
    return sorted(paths)
