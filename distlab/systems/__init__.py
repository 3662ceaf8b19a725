"""Reference systems that really work (kvs, and later raft, kvraft, ...)."""
