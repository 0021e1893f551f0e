#!/usr/bin/env python3
"""Reads a Server-Sent Events stream for a while and writes each event as a JSON line:
{"at": <Unix time in s when it arrived>, "event": <name>, "data": <parsed JSON>}."""
import argparse
import json
import sys
import time
import urllib.request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    request = urllib.request.Request(args.url, headers={"Authorization": "Bearer " + args.key,
                                                        "Accept": "text/event-stream"})
    ends = time.time() + args.seconds
    with urllib.request.urlopen(request, timeout=args.seconds + 5) as response, open(args.out, "w") as out:
        if response.headers.get("Content-Type", "").split(";")[0] != "text/event-stream":
            print("not an event stream: " + response.headers.get("Content-Type", ""), file=sys.stderr)
            sys.exit(1)
        event, data = "message", []
        while time.time() < ends:
            line = response.fp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line.startswith(":"):
                continue
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                out.write(json.dumps({"at": time.time(), "event": event, "data": json.loads("\n".join(data))}) + "\n")
                out.flush()
                event, data = "message", []


if __name__ == "__main__":
    main()
