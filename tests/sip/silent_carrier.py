#!/usr/bin/env python3
"""A carrier that is down, then back: silent_carrier.py PORT SECONDS.

At first it takes every datagram on 127.0.0.1:PORT and answers nothing (a carrier gone behind a
firewall: not even 100 Trying). After SIGUSR1 it is back, in part: OPTIONS get 200 OK (what probes
ask) and INVITEs 503 Service Unavailable (its own callee side still failing), so a call tried
through it fails over at once and says that it was tried. Exits after SECONDS."""
import signal
import socket
import sys
import time

answering = False


def back(*_):
    global answering
    answering = True


def response(request, status):
    lines = request.split("\r\n")
    method = lines[0].split(" ", 1)[0]
    keep = [line for line in lines[1:] if line.split(":", 1)[0].strip().lower() in
            ("via", "v", "from", "f", "call-id", "i", "cseq")]
    to = [line for line in lines[1:] if line.split(":", 1)[0].strip().lower() in ("to", "t")]
    tagged = [line if ";tag=" in line else line + ";tag=silent1" for line in to]
    headers = keep + tagged + ["Content-Length: 0"]
    return method, f"SIP/2.0 {status}\r\n" + "\r\n".join(headers) + "\r\n\r\n"


def main():
    signal.signal(signal.SIGUSR1, back)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    sock.settimeout(0.2)
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        try:
            data, peer = sock.recvfrom(65536)
        except (socket.timeout, InterruptedError):
            continue
        if not answering:
            continue
        text = data.decode("utf-8", "replace")
        method = text.split(" ", 1)[0]
        if method == "OPTIONS":
            sock.sendto(response(text, "200 OK")[1].encode(), peer)
        elif method == "INVITE":
            sock.sendto(response(text, "503 Service Unavailable")[1].encode(), peer)


if __name__ == "__main__":
    main()
