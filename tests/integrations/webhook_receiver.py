#!/usr/bin/env python3
"""A webhook endpoint for the tests: records every POST it gets, as one JSON line per request
(path, headers that matter, body, the status it answered; a slow path also logs its arrival), and answers as its path says:

  /ok/NAME                 200
  /fail-first/N/NAME       500 for the first N requests to that path, then 200
  /slow-first/N/S/NAME     sleeps S seconds (past the sender's timeout) for the first N, then 200
  /slow/S/NAME             sleeps S seconds, then 200 (a crash test catches requests in flight)
  /redirect/NAME           302 to the URL in the query string ?to=...
  /always-fail/NAME        503 with a non-UTF-8 body

Usage: webhook_receiver.py ADDRESS PORT LOG_FILE. Port 0 takes a free one, written to
LOG_FILE.port once listening. Runs until killed."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

counts = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        with lock:
            counts[url.path] = counts.get(url.path, 0) + 1
            seen = counts[url.path]
        status, payload, location = 200, b"ok", None
        kind = parts[0] if parts else ""
        if kind in ("slow", "slow-first"):  # a crash test waits for this to kill the sender
            write({"path": url.path, "phase": "arrived", "webhook_id": self.headers.get("webhook-id", "")})
        if kind == "fail-first" and seen <= int(parts[1]):
            status, payload = 500, b"failing on purpose"
        elif kind == "slow-first" and seen <= int(parts[1]):
            time.sleep(float(parts[2]))
        elif kind == "slow":
            time.sleep(float(parts[1]))
        elif kind == "redirect":
            status, payload, location = 302, b"", parse_qs(url.query).get("to", [""])[0]
        elif kind == "always-fail":
            status, payload = 503, b"\xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0 \xff\xfe" * 30
        record = {"path": url.path, "phase": "answered", "status": status, "received_at": time.time(),
                  "webhook_id": self.headers.get("webhook-id", ""),
                  "webhook_timestamp": self.headers.get("webhook-timestamp", ""),
                  "webhook_signature": self.headers.get("webhook-signature", ""),
                  "content_type": self.headers.get("Content-Type", ""),
                  "body": body}
        try:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            record["status"] = "sender gone"
        write(record)


def write(record):
    with lock, open(sys.argv[3], "a") as log:
        log.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    server = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
    server.daemon_threads = True
    with open(sys.argv[3] + ".port.tmp", "w") as port_file:
        port_file.write(str(server.server_address[1]))
    os.rename(sys.argv[3] + ".port.tmp", sys.argv[3] + ".port")
    server.serve_forever()
