"""Stands in for ``python -c <gradio-portal CLI> serve ...`` in the supervisor tests.

It starts in milliseconds: answers ``/healthz`` with its pid on the ``--port`` it is given, and
exits at once with code 3 when FAKE_SERVE_CRASH is set. Run as ``python fake_serve.py -c CODE
serve [TARGET] --port N ...``: the arguments the supervisor passes to its interpreter, which
test_scale_supervisor.py replaces with a script running this file.
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = str(os.getpid()).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: list[str]) -> int:
    if os.environ.get("FAKE_SERVE_CRASH"):
        return 3
    if "db" in argv:  # the migration step
        return 0
    port = int(argv[argv.index("--port") + 1])
    ThreadingHTTPServer(("127.0.0.1", port), Health).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
