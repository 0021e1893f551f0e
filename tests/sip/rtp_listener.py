#!/usr/bin/env python3
"""Receives RTP on 127.0.0.1:PORT for SECONDS (or until a quiet period after audio), and writes a JSON
summary: packets by payload type, payload sizes, sources (SSRCs), sequence gaps and the first and
last arrival times. The voice-menu test points a sipp caller's SDP at it, to see that a prompt's
audio really reached the caller."""
import argparse
import json
import socket
import struct
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(0.2)
    summary = {"packets": 0, "payload_types": {}, "sizes": {}, "ssrcs": [], "sequence_gaps": 0,
               "first": None, "last": None}
    start = time.monotonic()
    last_sequence = {}
    while time.monotonic() - start < args.seconds:
        try:
            data, _ = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) < 12 or data[0] >> 6 != 2:
            continue
        now = round(time.monotonic() - start, 3)
        payload_type = data[1] & 0x7F
        sequence, _, ssrc = struct.unpack(">HII", data[2:12])
        summary["packets"] += 1
        key = str(payload_type)
        summary["payload_types"][key] = summary["payload_types"].get(key, 0) + 1
        size = str(len(data) - 12)
        summary["sizes"][size] = summary["sizes"].get(size, 0) + 1
        if ssrc not in summary["ssrcs"]:
            summary["ssrcs"].append(ssrc)
        if ssrc in last_sequence and sequence != (last_sequence[ssrc] + 1) & 0xFFFF:
            summary["sequence_gaps"] += 1
        last_sequence[ssrc] = sequence
        summary["first"] = summary["first"] if summary["first"] is not None else now
        summary["last"] = now
    with open(args.out, "w") as out:
        json.dump(summary, out)


if __name__ == "__main__":
    main()
