"""Your Redis-protocol key/value server: KvServer(folder).feed(bytes) -> bytes."""

from __future__ import annotations

import os


class KvServer:
    """PING, SET, GET and DEL over RESP, persisted in `folder`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = folder  # TODO: open your engine from the earlier tasks here
        self.buffer = b""

    def feed(self, data: bytes) -> bytes:
        """TODO: add `data` to the buffer; for every complete command in it, execute it
        and append its reply; keep an incomplete command for the next call."""
        self.buffer += data
        return b""

    def close(self) -> None:
        """TODO: close your engine."""
