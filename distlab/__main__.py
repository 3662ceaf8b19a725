from distlab.cli import cli

cli(prog_name="distlab")
