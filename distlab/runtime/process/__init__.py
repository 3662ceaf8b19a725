"""Process mode: nodes in any language as real OS processes."""
