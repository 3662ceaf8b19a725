"""Checkers: from a history to a verdict with its explanation.

api.py is the interface (`check(history, params) -> Verdict`, `Compose`); pairing.py
pairs invocations with completions for all of them; each other module is one checker.
"""
