# fmt: off
# ruff: noqa: E401, I001, T201 - a standalone example, short to read whole
"""A Consentry webhook receiver in the standard library: checks the signature, refuses replays and
stale timestamps, dedupes by event id. WEBHOOK_SECRET=whsec_... python webhook_receiver.py 8081"""
import hashlib, hmac, json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET, TOLERANCE = os.environ["WEBHOOK_SECRET"].encode(), 300  # seconds a signature stays valid
seen: set[str] = set()  # event ids already handled: a retry may repeat one (use your database)


def verified(header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not fields.get("t", "").isdigit() or abs(time.time() - int(fields["t"])) > TOLERANCE:
        return False
    expected = hmac.new(SECRET, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verified(self.headers.get("Consentry-Signature", ""), body):
            self.send_response(400)
        else:
            event = json.loads(body)
            if event["id"] not in seen:
                seen.add(event["id"])
                print(event["type"], event["id"], event["site"], flush=True)
            self.send_response(204)  # any 2xx: delivered; anything else is retried
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8081), Receiver).serve_forever()
