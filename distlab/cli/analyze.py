"""`distlab analyze`: saved histories (and Raft traces) in, verdicts out.

The checking itself lives in distlab/analyze.py; this is where the command joins `distlab`.
It reads files only and runs no node code, so it does not pin hashing.
"""

from __future__ import annotations

from distlab.analyze import analyze

__all__ = ["analyze"]
