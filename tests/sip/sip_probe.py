#!/usr/bin/env python3
"""Sends raw SIP requests over UDP from a chosen source address and reports what came back.

Used by the protection and malformed-input tests: a request is built from the method, user agent and
optional raw text, sent `count` times (each a new transaction), and the status codes of the
responses received within `wait` seconds after the last one are printed, space separated (nothing
when no response came back). With --status-lines, the whole status line of each transaction's first
final response is printed instead, one per line (retransmissions of an unacknowledged final response
are not repeated)."""
import argparse
import random
import socket
import time


OFFER = "v=0\r\no=probe 1 1 IN IP4 {0}\r\ns=-\r\nc=IN IP4 {0}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n"


def request(method, target, source, port, user_agent, index, offer):
    branch = "z9hG4bK-%08x-%d" % (random.getrandbits(32), index)
    lines = [
        "%s sip:probe@%s SIP/2.0" % (method, target),
        "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (source, port, branch),
        "From: <sip:probe@%s>;tag=%08x" % (source, random.getrandbits(32)),
        "To: <sip:probe@%s>" % target,
        "Call-ID: %08x-%d@%s" % (random.getrandbits(32), index, source),
        "CSeq: 1 %s" % method,
        "Max-Forwards: 70",
    ]
    if user_agent:
        lines.append("User-Agent: " + user_agent)
    body = OFFER.format(source) if offer else ""
    if offer:
        lines.append("Contact: <sip:probe@%s:%d>" % (source, port))
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def header_value(message, name):
    """The value of the first header called `name` in a raw message, "" when there is none."""
    head = message.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        field, _, value = line.partition(":")
        if field.strip().lower() == name.lower():
            return value.strip()
    return ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True, help="host:port of sip-edge")
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--method", default="OPTIONS")
    parser.add_argument("--user-agent", default="")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--wait", type=float, default=1.0)
    parser.add_argument("--raw", help="send this text (\\r\\n-escaped) instead of a built request")
    parser.add_argument("--with-header", help="print each status as STATUS/VALUE of this header")
    parser.add_argument("--domain", help="the Request-URI's host (default: the target's)")
    parser.add_argument("--offer", action="store_true", help="carry an audio offer (INVITE)")
    parser.add_argument("--status-lines", action="store_true",
                        help="print each transaction's first final status line, one per line")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.source, 0))
    local_port = sock.getsockname()[1]
    for index in range(args.count):
        if args.raw is not None:
            payload = args.raw.encode().decode("unicode_escape").encode("latin-1")
        else:
            payload = request(args.method, args.domain or host, args.source, local_port,
                              args.user_agent, index, args.offer)
        sock.sendto(payload, (host, int(port)))
        if args.interval:
            time.sleep(args.interval)
    statuses = []
    answered = set()  # Call-IDs with a final response, for --status-lines
    deadline = time.time() + args.wait
    while True:
        remaining = deadline - time.time()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            break
        first = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = first.split(" ")
        if args.status_lines:
            call_id = header_value(data, "Call-ID")
            if len(parts) >= 2 and parts[1] >= "200" and call_id not in answered:
                answered.add(call_id)
                statuses.append(first)
            continue
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1] != "100":
            status = parts[1]
            if args.with_header:
                status += "/" + header_value(data, args.with_header)
            statuses.append(status)
    print(("\n" if args.status_lines else " ").join(statuses))


if __name__ == "__main__":
    main()
