"""`python -m distlab` is the `distlab` command, hash pinning included."""

from distlab.cli import main

main()
