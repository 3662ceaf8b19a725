"""`distlab serve`: a local web UI over a store of runs (Starlette, served by uvicorn).

The run list is read from the store on each request (a run finished a second ago
shows up), newest first, coloured by verdict, filtered by workload, verdict and node
file. A run's page is its report.html when `distlab report` wrote one, else a page
made from results.json; any file inside a run directory is served as is. Nothing
outside the store is ever served: every path is resolved and must stay inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from distlab.runstore import run_dirs

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("distlab.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
VERDICTS = {True: "valid", False: "invalid"}


@dataclass(frozen=True)
class RunRow:
    """One run as the list shows it."""

    path: str  # "<workload>/<stamp>", relative to the store
    workload: str
    stamp: str
    verdict: str  # valid, invalid, unknown, or "running" while results.json is not written
    node: str  # the node file's name
    seed: Any
    summary: str  # a few figures: operations, availability, msgs-per-op

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def run_row(store: Path, run: Path) -> RunRow:
    """A run directory as a row: its verdict from results.json ("running" while there is none)."""
    config = _read_json(run / "config.json")
    config = config if isinstance(config, dict) else {}
    results = _read_json(run / "results.json")
    if not isinstance(results, dict):
        verdict, summary = "running", "no results.json yet (still running, or stopped before the end)"
    else:
        verdict = VERDICTS.get(results.get("valid"), "unknown")
        stats = results.get("stats") or {}
        net = results.get("net") or {}
        summary = (f"{stats.get('count', 0)} ops, ok {stats.get('ok', 0)}"
                   + (f", msgs-per-op {net['msgs_per_op']:.2f}" if "msgs_per_op" in net else ""))
    return RunRow(
        path=run.relative_to(store).as_posix(),
        workload=run.parent.name,
        stamp=run.name,
        verdict=verdict,
        node=Path(str(config.get("bin") or "?")).name,
        seed=config.get("seed", results.get("seed") if isinstance(results, dict) else None),
        summary=summary,
    )


def make_app(store: str | Path) -> Starlette:
    """The web UI over `store` (a folder of runs as `distlab test --store` writes them)."""
    root = Path(store).resolve()

    def rows(request: Request) -> list[RunRow]:
        want = {k: request.query_params.get(k) or "" for k in ("workload", "verdict", "node")}
        out = [run_row(root, run) for run in run_dirs(root)]
        return [r for r in out if all(not v or getattr(r, k) == v for k, v in want.items())]

    def inside(rel: str) -> Path | None:
        """The store path `rel` names, or None when it leaves the store or does not exist."""
        try:
            path = (root / rel).resolve()
            path.relative_to(root)
        except (ValueError, OSError):
            return None
        return path if path.exists() else None

    async def index(request: Request) -> Response:
        all_rows = [run_row(root, run) for run in run_dirs(root)]
        shown = rows(request)
        page = TEMPLATES.get_template("runs.html").render(
            store=str(root), runs=shown, total=len(all_rows),
            workloads=sorted({r.workload for r in all_rows}), nodes=sorted({r.node for r in all_rows}),
            verdicts=["valid", "invalid", "unknown", "running"],
            selected={k: request.query_params.get(k) or "" for k in ("workload", "verdict", "node")},
        )
        return HTMLResponse(page)

    async def api_runs(request: Request) -> Response:
        return JSONResponse([r.to_json() for r in rows(request)])

    async def latest(request: Request) -> Response:
        runs = run_dirs(root)
        if not runs:
            return HTMLResponse(_message("No runs yet", f"{root} holds no run: run distlab test first."), 404)
        return RedirectResponse(f"/runs/{runs[0].relative_to(root).as_posix()}/", 307)

    async def run_file(request: Request) -> Response:
        rel = request.path_params["path"]
        path = inside(rel)
        if path is None:
            return HTMLResponse(_message("Not found", f"{rel!r} is not a file or run in this store."), 404)
        if path.is_dir():
            if not (path / "config.json").is_file():
                return HTMLResponse(_message("Not a run", f"{rel!r} is not a run directory."), 404)
            if not request.url.path.endswith("/"):
                return RedirectResponse(request.url.path + "/", 307)
            if (path / "report.html").is_file():
                return FileResponse(path / "report.html", media_type="text/html")
            return HTMLResponse(_run_page(root, path))
        return FileResponse(path)

    return Starlette(routes=[
        Route("/", index),
        Route("/api/runs", api_runs),
        Route("/latest", latest),
        Route("/runs/{path:path}", run_file),
    ])


def _message(title: str, text: str) -> str:
    return TEMPLATES.get_template("message.html").render(title=title, text=text)


def _run_page(root: Path, run: Path) -> str:
    """A run without report.html: its verdict, summary figures and files."""
    results = _read_json(run / "results.json")
    files = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    return TEMPLATES.get_template("run.html").render(
        row=run_row(root, run),
        results=orjson.dumps(results, option=orjson.OPT_INDENT_2).decode() if results else "",
        files=files,
    )


def serve(store: str | Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the UI until interrupted (uvicorn; its access log stays quiet)."""
    import uvicorn

    uvicorn.run(make_app(store), host=host, port=port, log_level="warning")
