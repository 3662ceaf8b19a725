"""Reference nodes shipped with distlab (the built-in examples)."""

from pathlib import Path

EXAMPLES = Path(__file__).parent


def example_path(name: str) -> Path:
    """Path of a built-in node such as 'echo' or 'unique_ids'."""
    path = EXAMPLES / f"{name.replace('-', '_')}.py"
    if not path.exists():
        known = sorted(p.stem for p in EXAMPLES.glob("*.py") if p.stem != "__init__")
        raise FileNotFoundError(f"no built-in example {name!r}; known: {', '.join(known)}")
    return path
