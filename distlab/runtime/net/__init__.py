"""--mode net: each node a process in its own network namespace, TCP between them, kernel-made faults."""
