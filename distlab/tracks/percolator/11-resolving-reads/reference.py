"""A Percolator client whose reads resolve the locks they meet."""

from __future__ import annotations

TTL_MS = 3000
PRIMARY_TRIES = 10  # sends of the primary's commit before its outcome counts as unknown


class Client:
    def __init__(self, send, oracle, sleep) -> None:
        self.send, self.oracle, self.sleep = send, oracle, sleep
        self.start_ts = 0
        self.writes: dict[bytes, bytes] = {}

    def begin(self) -> None:
        self.start_ts = self.oracle()
        self.writes = {}

    def get(self, key: bytes) -> bytes | None:
        """The value at start_ts, resolving any lock met on the way."""
        for attempt in range(60):
            resp = self.send("kv_get", {"key": key, "version": self.start_ts})
            if not resp["error"]:
                return None if resp["not_found"] else resp["value"]
            locked = resp["error"]["locked"]
            status = self.send("kv_check_txn_status", {"primary_key": locked["primary_lock"],
                                                       "lock_ts": locked["lock_version"],
                                                       "current_ts": self.oracle()})
            if status["commit_version"] == 0 and status["lock_ttl"] > 0:
                self.sleep(min(1.0, 0.05 * 2**attempt))  # alive: wait for its owner
                continue
            self.send("kv_resolve_lock", {"start_version": locked["lock_version"],
                                          "commit_version": status["commit_version"], "keys": [key]})
        raise RuntimeError(f"{key!r} stayed locked")

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def commit(self) -> bool:
        """Two-phase commit; True iff the transaction committed."""
        if not self.writes:
            return True
        keys = list(self.writes)
        primary, secondaries = keys[0], keys[1:]
        mutations = [{"op": "put", "key": k, "value": self.writes[k]} for k in keys]
        try:
            resp = self.send("kv_prewrite", {"mutations": mutations, "primary_lock": primary,
                                             "start_version": self.start_ts, "lock_ttl": TTL_MS})
        except ConnectionError:
            resp = {"errors": ["lost"]}
        if resp["errors"]:
            self._rollback(keys)
            return False
        commit_ts = self.oracle()
        resp = self._commit_primary(primary, commit_ts)
        if resp["error"]:
            self._rollback(keys)
            return False
        if secondaries:
            try:
                self.send("kv_commit", {"keys": secondaries, "start_version": self.start_ts,
                                        "commit_version": commit_ts})
            except ConnectionError:
                pass  # readers roll them forward: the primary's record decides
        return True

    def _commit_primary(self, primary: bytes, commit_ts: int) -> dict:
        """The primary's commit, sent again while its request or reply is lost: it may have
        landed, and kv_commit is idempotent, so only an answer says what became of it."""
        for _ in range(PRIMARY_TRIES):
            try:
                return self.send("kv_commit", {"keys": [primary], "start_version": self.start_ts,
                                               "commit_version": commit_ts})
            except ConnectionError:
                continue
        raise ConnectionError("the primary's commit went unanswered: the outcome is unknown")

    def _rollback(self, keys: list[bytes]) -> None:
        try:
            self.send("kv_batch_rollback", {"keys": keys, "start_version": self.start_ts})
        except ConnectionError:
            pass  # the locks expire and readers roll them back
