"""A local stand-in for data.binance.vision: archive-format zips served over real HTTP.

``ArchiveServer`` is a ``ThreadingHTTPServer`` on 127.0.0.1 (usable from sync tests, from
``asyncio.run`` inside the CLI, and from async tests alike); it records every path requested so
tests can assert what a second run did not fetch again.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal


def ms(day: date, hour: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp() * 1000)


def kline_rows(start_ms: int, n: int, step_ms: int, *, price: float = 100.0,
               micros: bool = False, skip: frozenset[int] = frozenset()) -> list[list[str]]:
    """``n`` archive CSV rows from ``start_ms`` (12 columns); bar ``i`` has open ``price + i``.
    ``micros`` writes open/close times in microseconds (2025+ spot files); ``skip`` leaves out
    bars by index (gaps)."""
    scale = 1000 if micros else 1
    rows = []
    for i in range(n):
        if i in skip:
            continue
        t = start_ms + i * step_ms
        o = price + i
        rows.append([str(t * scale), f"{o:.2f}", f"{o + 2:.2f}", f"{o - 1:.2f}", f"{o + 1:.2f}",
                     f"{10 + i:.4f}", str((t + step_ms - 1) * scale), "1000.0", "7", "5.0",
                     "500.0", "0"])
    return rows


def make_zip(csv_name: str, rows: list[list[str]], header: bool = False) -> bytes:
    lines = [",".join(r) for r in rows]
    if header:
        lines.insert(0, "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                        "taker_buy_volume,taker_buy_quote_volume,ignore")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(csv_name, "\n".join(lines) + "\n")
    return buf.getvalue()


def checksum_line(data: bytes, name: str) -> bytes:
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode()


class ArchiveServer:
    """Serves ``files`` (path -> bytes); anything else is a 404. ``requests`` lists paths asked."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(self, symbol: str, tf: str, kind: Literal["monthly", "daily"], label: str,
            rows: list[list[str]], *, checksum: Literal["good", "bad", "none"] = "good",
            truncate: bool = False) -> str:
        """Publish one archive file (and its .CHECKSUM); returns the zip's path.

        ``truncate`` serves the first half of the zip; with ``checksum="good"`` the checksum then
        matches the truncated bytes, so only the zip reader can catch it.
        """
        name = f"{symbol}-{tf}-{label}"
        data = make_zip(f"{name}.csv", rows)
        if truncate:
            data = data[: len(data) // 2]
        path = f"/data/spot/{kind}/klines/{symbol}/{tf}/{name}.zip"
        self.files[path] = data
        if checksum == "good":
            self.files[path + ".CHECKSUM"] = checksum_line(data, f"{name}.zip")
        elif checksum == "bad":
            self.files[path + ".CHECKSUM"] = checksum_line(data + b"x", f"{name}.zip")
        return path

    def zip_requests(self) -> list[str]:
        return [p for p in self.requests if p.endswith(".zip")]
