"""RaftService's request path (distlab/systems/raft/service.py), shared by kvraft, the shard
controller and shardkv: the session rule applies a request once, and `submit` answers
error 11 only while no copy of a request can be in any log, then only an indefinite error;
a forwarded request's definite answer is passed on, not retried."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from distlab import RPCError
from distlab.systems.raft import FOLLOWER
from distlab.systems.raft.service import RaftService, apply_once, last_reply


def test_a_request_is_applied_once_per_client_and_id() -> None:
    sessions: dict[str, list[Any]] = {}
    runs: list[int] = []

    def execute(cmd: dict[str, Any]) -> dict[str, Any]:
        runs.append(cmd["id"])
        return {"type": "write_ok", "n": len(runs)}

    first = apply_once(sessions, {"c": "c1", "id": 1}, execute)
    assert apply_once(sessions, {"c": "c1", "id": 1}, execute) == first  # a retry: the same reply
    assert last_reply(sessions, {"c": "c1", "id": 1}) == first
    assert apply_once(sessions, {"c": "c1", "id": 2}, execute) == {"type": "write_ok", "n": 2}
    assert apply_once(sessions, {"c": "c1", "id": 1}, execute) is None  # older than the last: no one waits
    assert last_reply(sessions, {"c": "c1", "id": 1}) is None
    assert apply_once(sessions, {"c": "c2", "id": 1}, execute) == {"type": "write_ok", "n": 3}
    assert runs == [1, 2, 1]


def test_without_the_session_check_a_retry_applies_again() -> None:
    """The known-bad variant (shardctrler's no-sessions mutant) really is bad."""
    sessions: dict[str, list[Any]] = {}
    runs: list[int] = []
    then: list[str] = []

    def execute(cmd: dict[str, Any]) -> dict[str, Any]:
        runs.append(cmd["id"])
        return {"type": "join_ok"}

    for _ in range(2):
        apply_once(sessions, {"c": "k1", "id": 7}, execute, check=False, then=lambda: then.append("x"))
    assert runs == [7, 7] and then == ["x", "x"]
    assert sessions == {"k1": [7, {"type": "join_ok"}]}  # still recorded: only the look-up is off


class _Service(RaftService):
    CLIENT_DEADLINE = 0.3

    def apply(self, entry: Any) -> None: ...

    def snapshot(self) -> Any: ...

    def restore(self, data: Any) -> None: ...

    def read(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"type": "read_ok"}

    def definite(self, code: int) -> bool:
        return code == 20


def service(leader: str | None, rpc_error: RPCError | None = None) -> tuple[_Service, list[Any]]:
    """A follower of `leader` whose forwards fail with `rpc_error` (none: no leader known)."""
    sent: list[Any] = []

    async def rpc(dest: str, body: dict[str, Any], timeout: float) -> Any:
        sent.append((dest, body))
        assert rpc_error is not None
        raise rpc_error

    svc = object.__new__(_Service)
    svc.core = SimpleNamespace(role=FOLLOWER, leader_id=leader)  # type: ignore[assignment]
    svc.node = SimpleNamespace(id="n1", rpc=rpc)  # type: ignore[assignment]
    svc.results = {}
    return svc, sent


def test_no_leader_and_nothing_sent_is_error_11() -> None:
    svc, sent = service(None)
    with pytest.raises(RPCError) as err:
        asyncio.run(svc.submit({"op": "write", "c": "c1", "id": 1}))
    assert (err.value.code, err.value.text) == (11, "no leader") and sent == []


def test_once_forwarded_a_write_gets_only_an_indefinite_error() -> None:
    svc, sent = service("n2", RPCError(11, "not the leader (try None)"))
    with pytest.raises(RPCError) as err:
        asyncio.run(svc.submit({"op": "write", "c": "c1", "id": 1}))
    assert err.value.code == 0 and err.value.text == RaftService.LATE
    assert sent and sent[0] == ("n2", {"type": "forward", "cmd": {"op": "write", "c": "c1", "id": 1}})
    # a read changes nothing: 11 stays honest however often it was forwarded
    svc, sent = service("n2", RPCError(0, "not applied in time here"))
    with pytest.raises(RPCError) as err:
        asyncio.run(svc.submit({"op": "read", "k": 1}))
    assert err.value.code == 11 and len(sent) > 1


def test_a_definite_answer_from_the_leader_is_passed_on_at_once() -> None:
    svc, sent = service("n2", RPCError(20, "key 1 does not exist"))
    with pytest.raises(RPCError) as err:
        asyncio.run(svc.submit({"op": "cas", "c": "c1", "id": 1}))
    assert (err.value.code, err.value.text) == (20, "key 1 does not exist") and len(sent) == 1


def test_a_service_without_its_read_cannot_be_built() -> None:
    class NoRead(RaftService):
        def apply(self, entry: Any) -> None: ...

        def snapshot(self) -> Any: ...

        def restore(self, data: Any) -> None: ...

    with pytest.raises(TypeError, match="read"):
        NoRead(None, [])  # type: ignore[abstract, arg-type]
