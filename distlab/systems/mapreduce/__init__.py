"""MapReduce as 6.824's lab 1 has it: a coordinator and workers as separate OS processes
talking HTTP over a Unix socket, applications as Python modules (`apps`), intermediate
files `mr-X-Y`, outputs `mr-out-Y`, and tasks given out again when a worker goes quiet.

`job.run_job` runs a whole job (what `distlab mr` does); `mrtest` holds the seven checks
of 6.824's test-mr.sh, run against any implementation given as two commands."""
