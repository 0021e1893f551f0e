#!/usr/bin/env python3
"""Writes a sine tone as raw G.711 A-law (what sipp's rtp_stream sends): tone.py OUT SECONDS HERTZ."""
import math
import sys


def alaw(sample):
    """G.711 A-law of a 16-bit sample."""
    value = sample >> 3
    sign = 0x80 if value >= 0 else 0
    if value < 0:
        value = -value - 1
    value = min(value, 0x0FFF)
    if value < 32:
        code = value >> 1
    else:
        segment = value.bit_length() - 5
        code = (segment << 4) | ((value >> segment) & 0x0F)
    return (sign | code) ^ 0x55


def main():
    out, seconds, frequency = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    samples = int(8000 * seconds)
    data = bytes(alaw(int(8000 * math.sin(2 * math.pi * frequency * i / 8000))) for i in range(samples))
    with open(out, "wb") as file:
        file.write(data)


if __name__ == "__main__":
    main()
