"""Run outputs: results.json now; Lamport diagrams, plots and report.html later."""
