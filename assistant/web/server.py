"""The HTTP server: uvicorn with httptools, plus limits on request headers (size of one, size of all,
count), which httptools does not have (a 32 MB header was read whole, and answered 200).

``HeaderLimits`` counts in httptools' own callbacks, so it keeps httptools' speed (measured against
uvicorn's h11 parser, which has a total-size limit, by ``python -m evals.bench_headers``; numbers in the
README). Over a limit the client gets ``431 Request Header Fields Too Large`` and the connection closes.

Example::

    uvicorn.Server(server_config(app, settings)).run()
"""

from __future__ import annotations

import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import Settings


class HeaderLimits(HttpToolsProtocol):
    """uvicorn's httptools protocol with header limits (class attributes; ``limited_protocol`` sets them)."""

    max_header_bytes = 16 * 1024
    max_headers_bytes = 64 * 1024
    max_headers = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_headers = False
        self._header_bytes = self._fed = 0
        self._too_large = ""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers, self._header_bytes, self._fed, self._too_large = True, 0, 0, ""

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) + len(value) > self.max_header_bytes:
            self._refuse(f"a request header is larger than {self.max_header_bytes} bytes")
        if len(self.headers) >= self.max_headers:
            self._refuse(f"the request has more than {self.max_headers} headers")
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_headers and not self._too_large and not self.transport.is_closing():
            # httptools holds a header it has not finished reading: until the headers end, every byte of
            # this message so far is header, so a 32 MB header is refused after ~64 KB, not buffered whole
            self._fed += len(data)
            if self._fed > self.max_headers_bytes:
                self._too_large = f"the request headers are larger than {self.max_headers_bytes} bytes"
                self.send_400_response(self._too_large)

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self.max_headers_bytes:
            self._refuse(f"the request headers are larger than {self.max_headers_bytes} bytes")

    def _refuse(self, reason: str) -> None:
        self._too_large = reason
        raise ValueError(reason)  # httptools stops parsing; uvicorn then calls send_400_response

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            super().send_400_response(msg)
            return
        body = json.dumps({"detail": self._too_large, "errors": []}).encode()
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                             b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
        self.transport.close()


def limited_protocol(settings: Settings) -> type[HeaderLimits]:
    limits = {"max_header_bytes": settings.max_header_bytes, "max_headers_bytes": settings.max_headers_bytes,
              "max_headers": settings.max_headers}
    if all(getattr(HeaderLimits, k) == v for k, v in limits.items()):
        return HeaderLimits
    return type("HeaderLimits", (HeaderLimits,), limits)


def __getattr__(name: str) -> type[HeaderLimits]:
    """``SettingsHeaderLimits``: the limits of ``Settings()``, for worker processes, which import the
    protocol by name (a class made at run time cannot be sent to them)."""
    if name == "SettingsHeaderLimits":
        return limited_protocol(Settings())
    raise AttributeError(name)


def serve_workers(settings: Settings, host: str, port: int) -> None:
    """``settings.workers`` processes on one socket (uvicorn's supervisor restarts one that dies). Each
    builds the app from the environment (``coalition.asgi:app``) and loads its own model and indexes.
    The database is checked (and migrated) here first, so a bad URL stops the start, named."""
    from uvicorn.supervisors import Multiprocess

    from assistant.feedback import FeedbackStore

    FeedbackStore.from_settings(settings).close()  # migrates the schema once, before the workers start
    # uvicorn kills and restarts a worker that does not answer its health ping within the timeout (5 s by
    # default): on 2 busy cores a worker loading its model, or answering a burst, can miss that
    config = uvicorn.Config("coalition.asgi:app", host=host, port=port, workers=settings.workers, log_level="info",
                            access_log=False, http="assistant.web.server:SettingsHeaderLimits",
                            timeout_worker_healthcheck=60)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def server_config(app: Any, settings: Settings, host: str | None = None, port: int | None = None,
                  **kwargs: Any) -> uvicorn.Config:
    """The uvicorn configuration every server of the web app uses (``coalition serve``, the tests)."""
    return uvicorn.Config(app, host=host or settings.host, port=port or settings.port, http=limited_protocol(settings),
                          **kwargs)
