"""messages.html: a run's Lamport diagram, one self-contained page drawn on a <canvas>.

Maelstrom draws messages.svg with time made nonlinear and stops after 10,000 events;
a trace of 100,000 messages needs neither: the page embeds the trace as compact JSON
(columns of numbers, one body per message) and draws only what is on screen, so it
zooms and pans on a linear simulated-time axis however long the run. No network and
no library: it opens from file:// as it is.

What the data says, per message: its lanes, type, kind (client, server-to-server,
service, error reply), body, the request it answers (`in_reply_to` matched against
the requester's `msg_id`) and, where the trace shows it, its cause: the message whose
arrival at the sender, at the same simulated instant, it was sent in handling (the
simulator runs a handler to its first wait at the instant its message arrives; in
process mode instants rarely coincide and only request/reply pairing remains).
Per arrow: one delivery (a duplicated message has two), one drop (partition, down),
or one message never delivered (lost, or still in flight when the run ended).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from distlab.protocol import SERVICE_IDS
from distlab.report.rundir import BODY_LIMIT, TRUNCATED, RunDir, nemesis_periods

KINDS = ("client", "server", "service", "error")
"""Arrow kinds, by index: a client's request or reply, node to node, to or from a
service, and any error reply (whoever sent it)."""
CLIENT, SERVER, SERVICE, ERROR = range(4)
LANE_KINDS = ("node", "service", "client")
LOST = "lost"
"""The `why` of a message sent but neither received nor dropped."""

_ASSETS = Path(__file__).with_name("assets")
_CLIENT_ID = re.compile(r"c\d+\Z")
_MARKER = re.compile(r"\{\{(TITLE|SCRIPT|DATA)\}\}")


def _lane_order(ids: set[str], nodes: list[str]) -> tuple[list[str], list[int]]:
    """Lanes left to right, as Maelstrom draws them: clients by number, the nodes (config
    order), then services; so client traffic and service traffic cross no other kind's lanes."""
    known = set(nodes)
    if known:
        node_ids = [n for n in nodes if n in ids] + sorted(i for i in ids - known if i not in SERVICE_IDS
                                                           and not _CLIENT_ID.match(i) and i[:1] == "n")
    else:
        node_ids = sorted((i for i in ids if i not in SERVICE_IDS and not _CLIENT_ID.match(i)), key=_natural)
    services = [s for s in SERVICE_IDS if s in ids]
    clients = sorted(ids - set(node_ids) - set(services), key=_natural)
    lanes = clients + node_ids + services
    kinds = [2] * len(clients) + [0] * len(node_ids) + [1] * len(services)
    return lanes, kinds


def _natural(name: str) -> tuple[str, int, str]:
    m = re.match(r"(\D*)(\d+)(.*)\Z", name)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (name, -1, "")


def diagram_data(run: RunDir) -> dict[str, Any]:
    """Everything messages.html draws, as columns (lists of numbers) plus the bodies."""
    events = run.messages or []
    name_ix: dict[str, int] = {}  # endpoint -> provisional index (remapped to lane order below)
    msg_of: dict[int, int] = {}  # trace id -> message position
    m_id: list[int] = []
    m_src: list[int] = []
    m_dst: list[int] = []
    m_ty: list[int] = []
    m_kind: list[int] = []
    m_parent: list[int] = []
    m_answers: list[int] = []
    m_body: list[Any] = []
    m_sent: list[int] = []
    m_done: list[int] = []  # deliveries + drops seen, per message
    a_s: list[int] = []
    a_e: list[int] = []
    a_m: list[int] = []
    a_w: list[int] = []
    types: dict[str, int] = {}
    whys: dict[str, int] = {}
    last_recv: dict[str, tuple[int, int]] = {}  # endpoint -> (instant, message) it last received
    requests: dict[tuple[str, Any], int] = {}  # (sender, msg_id) -> message
    names: list[str] = []
    services = set(SERVICE_IDS)
    nodes = set(run.nodes)
    end = 0

    def endpoint(name: str) -> int:
        ix = name_ix.get(name)
        if ix is None:
            ix = name_ix[name] = len(names)
            names.append(name)
        return ix

    def is_client(name: str) -> bool:
        return name not in services and (name not in nodes if nodes else bool(_CLIENT_ID.match(name)))

    for ev in events:
        kind_of_event = ev.get("ev")
        t = ev.get("t")
        if not isinstance(t, int | float) or isinstance(t, bool):
            continue
        t = int(t)
        if t > end:
            end = t
        if kind_of_event == "send":
            src, dest, body = str(ev.get("src")), str(ev.get("dest")), ev.get("body")
            if not isinstance(body, dict):
                body = {"type": "?", "body": body}
            mtype = str(body.get("type", "?"))
            pos = len(m_id)
            msg_of[ev.get("id")] = pos  # type: ignore[index]
            m_id.append(ev.get("id") if isinstance(ev.get("id"), int) else -1)  # type: ignore[arg-type]
            m_src.append(endpoint(src))
            m_dst.append(endpoint(dest))
            ty = types.get(mtype)
            if ty is None:
                ty = types[mtype] = len(types)
            m_ty.append(ty)
            src_client, dest_client = is_client(src), is_client(dest)
            if mtype == "error":
                m_kind.append(ERROR)
            elif src_client or dest_client:
                m_kind.append(CLIENT)
            elif src in services or dest in services:
                m_kind.append(SERVICE)
            else:
                m_kind.append(SERVER)
            cause = last_recv.get(src) if not src_client else None
            m_parent.append(cause[1] if cause is not None and cause[0] == t else -1)
            answered = -1
            reply_to = body.get("in_reply_to")
            if reply_to is not None:
                answered = requests.get((dest, reply_to), -1)
            m_answers.append(answered)
            msg_id = body.get("msg_id")
            if msg_id is not None and not isinstance(msg_id, dict | list):
                requests[(src, msg_id)] = pos
            m_body.append(_embedded_body(body))
            m_sent.append(t)
            m_done.append(0)
        elif kind_of_event in ("recv", "drop"):
            pos = msg_of.get(ev.get("id"), -1)  # type: ignore[arg-type]
            if pos < 0:
                continue  # an event for a message whose send is not in the trace
            m_done[pos] += 1
            a_s.append(m_sent[pos])
            a_e.append(t)
            a_m.append(pos)
            if kind_of_event == "recv":
                a_w.append(-1)
                last_recv[names[m_dst[pos]]] = (t, pos)
            else:
                why = str(ev.get("why", "dropped"))
                w = whys.get(why)
                if w is None:
                    w = whys[why] = len(whys)
                a_w.append(w)
    for pos, done in enumerate(m_done):
        if not done:
            w = whys.get(LOST)
            if w is None:
                w = whys[LOST] = len(whys)
            a_s.append(m_sent[pos])
            a_e.append(m_sent[pos])
            a_m.append(pos)
            a_w.append(w)

    # arrows in order of sending (the page finds the visible ones by binary search)
    order = list(range(len(a_s)))
    if any(a_s[i] > a_s[i + 1] for i in range(len(a_s) - 1)):
        order.sort(key=a_s.__getitem__)
        a_s, a_e, a_m, a_w = ([col[i] for i in order] for col in (a_s, a_e, a_m, a_w))

    lanes, lane_kinds = _lane_order(set(names), run.nodes)
    lane_ix = {name: i for i, name in enumerate(lanes)}
    remap = [lane_ix[name] for name in names]
    for rec in run.history:
        t = rec.get("time")
        if isinstance(t, int | float) and not isinstance(t, bool) and t > end:
            end = int(t)
    bands = [
        {**p, "start": round(p["start"] * 1e9), "stop": round(p["stop"] * 1e9)}
        for p in nemesis_periods(run.history, end / 1e9)
    ]
    drops = sum(1 for w in a_w if w >= 0)
    return {
        "v": 1,
        "title": _title(run),
        "end": end,
        "lanes": lanes,
        "laneKind": lane_kinds,
        "laneKinds": list(LANE_KINDS),
        "kinds": list(KINDS),
        "types": list(types),
        "whys": list(whys),
        "msg": {
            "id": m_id,
            "src": [remap[i] for i in m_src],
            "dst": [remap[i] for i in m_dst],
            "ty": m_ty,
            "k": m_kind,
            "p": m_parent,
            "q": m_answers,
            "body": m_body,
        },
        "arr": {"s": a_s, "e": a_e, "m": a_m, "w": a_w},
        "bands": bands,
        "counts": {"messages": len(m_id), "arrows": len(a_s) - drops, "drops": drops},
    }


def _embedded_body(body: dict[str, Any]) -> Any:
    """The body as embedded: whole up to BODY_LIMIT bytes (read_messages already cut
    longer ones from distlab's own traces; this cuts any other)."""
    if TRUNCATED in body:
        return body
    raw = orjson.dumps(body)
    if len(raw) <= BODY_LIMIT:
        return body
    return {"type": body.get("type"), TRUNCATED: f"{len(raw):,} bytes; the first {BODY_LIMIT:,}:",
            "text": raw[:BODY_LIMIT].decode("utf-8", "replace")}


def _title(run: RunDir) -> str:
    cfg = run.config
    parts = [str(cfg.get("workload", "run")), f"seed {cfg.get('seed')}"]
    if run.nodes:
        parts.append(f"{len(run.nodes)} nodes")
    if cfg.get("nemesis"):
        parts.append("nemesis " + ",".join(map(str, cfg["nemesis"])))
    return " · ".join(parts) + f" — {run.path.resolve().name}"


def embed_json(data: Any) -> str:
    """JSON safe inside <script type="application/json">: in JSON a `<` occurs only inside
    strings, where \\u003c means the same, so no body can close the script element."""
    return orjson.dumps(data).replace(b"<", b"\\u003c").decode()


def render(data: dict[str, Any]) -> str:
    """The page: the template with its script and the data inlined (in one pass, so no
    inlined text is scanned for markers again)."""
    page = (_ASSETS / "diagram.html").read_text(encoding="utf-8")
    script = (_ASSETS / "diagram.js").read_text(encoding="utf-8")
    values = {
        "TITLE": data["title"].replace("&", "&amp;").replace("<", "&lt;"),
        "SCRIPT": script,  # holds no "</" (tests/test_report_diagram.py checks)
        "DATA": embed_json(data),
    }
    return _MARKER.sub(lambda m: values[m.group(1)], page)


def write_diagram(run: RunDir, out: Path | None = None) -> Path:
    """Write the run's messages.html (or `out`); a run without a trace gets a page that says so."""
    target = out if out is not None else run.path / "messages.html"
    target.write_text(render(diagram_data(run)), encoding="utf-8")
    return target
