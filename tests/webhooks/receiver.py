"""A webhook receiver, run as a process of its own: it verifies every request with the
`standardwebhooks` library (an implementation independent of aipaint's) and logs it.

    python -m tests.webhooks.receiver --port P --log FILE --secrets FILE [--script 500,500,200]

`--secrets`: a file of `whsec_…` secrets, one a line, read anew for each request; a request is
verified against each of them (the log says which). A request none of them verifies is answered
401. `--script`: the answers to the first requests, in order, then 200: a status code,
`sleep:S` (answer 200 after S seconds) or `redirect:URL` (302 to URL). `--redirect URL`: every
request, of any method, is answered 302 to URL.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--secrets", type=Path, required=True)
    parser.add_argument("--script", default="")
    parser.add_argument("--redirect", default="", help="answer every request: 302 to this URL")
    options = parser.parse_args()
    script = [step for step in options.script.split(",") if step]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if options.redirect and self.path != "/health":
                self._answer(302, location=options.redirect)
            else:
                self._answer(200)  # health

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if options.redirect:
                self._answer(302, location=options.redirect)
                return
            secrets = options.secrets.read_text().split() if options.secrets.exists() else []
            headers = {name.lower(): value for name, value in self.headers.items()}
            verified = []
            for secret in secrets:
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(True)
                except WebhookVerificationError:
                    verified.append(False)
            with lock:
                step = script.pop(0) if script else "200"
            record = {
                "id": headers.get("webhook-id"),
                "timestamp": headers.get("webhook-timestamp"),
                "signature": headers.get("webhook-signature"),
                "verified": verified,
                "body": json.loads(body) if any(verified) else None,
                "raw": body.decode(),
                "step": step,
                "at": time.time(),
            }
            with lock, options.log.open("a") as log:
                log.write(json.dumps(record) + "\n")
            if not any(verified):
                self._answer(401)
            elif step.startswith("sleep:"):
                time.sleep(float(step.split(":", 1)[1]))
                self._answer(200)
            elif step.startswith("redirect:"):
                self._answer(302, location=step.split(":", 1)[1])
            else:
                self._answer(int(step))

        def _answer(self, status: int, location: str | None = None) -> None:
            try:
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up (a timeout)

        def log_message(self, format: str, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", options.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
