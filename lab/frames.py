#!/usr/bin/env python3
"""Take apart what the lab's /init sent over the second serial port.

    frames.py CAPTURE OUTDIR

CAPTURE holds frames written by lab/init.sh:

    @@lab begin NAME BYTES MD5
    <base64 lines>
    @@lab end NAME
    @@lab done STEPS

Every file is checked against its size and MD5 and written to OUTDIR/NAME.
Anything outside a frame is counted and said, never dropped silently.
Exit 0 when every frame is whole and the "done" line came, 1 when a frame is
damaged or the capture stops before "done", 2 on a usage error.
"""
import base64
import binascii
import hashlib
import os
import sys


def main(argv):
    if len(argv) != 3:
        print("usage: frames.py CAPTURE OUTDIR", file=sys.stderr)
        return 2
    capture, outdir = argv[1], argv[2]
    try:
        with open(capture, "rb") as f:
            lines = f.read().decode("ascii", "replace").splitlines()
    except OSError as e:
        print(f"frames: cannot read {capture}: {e.strerror}", file=sys.stderr)
        return 2
    os.makedirs(outdir, exist_ok=True)
    cur = None
    body = []
    bad = 0
    stray = 0
    done = None
    files = []
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        if line.startswith("@@lab begin "):
            if cur:
                print(f"frames: {capture}:{n}: {cur[0]} has no end line", file=sys.stderr)
                bad += 1
            parts = line.split()
            if len(parts) != 5 or not parts[3].isdigit() or "/" in parts[2]:
                print(f"frames: {capture}:{n}: bad begin line: {line!r}", file=sys.stderr)
                bad += 1
                cur = None
                continue
            cur = (parts[2], int(parts[3]), parts[4])
            body = []
        elif line.startswith("@@lab end "):
            if not cur or line.split()[-1] != cur[0]:
                print(f"frames: {capture}:{n}: end line without its begin: {line!r}",
                      file=sys.stderr)
                bad += 1
                cur = None
                continue
            name, size, md5 = cur
            cur = None
            try:
                data = base64.b64decode("".join(body), validate=True)
            except binascii.Error:
                print(f"frames: {name}: damaged base64", file=sys.stderr)
                bad += 1
                continue
            if len(data) != size or hashlib.md5(data).hexdigest() != md5:
                print(f"frames: {name}: {len(data)} bytes, md5 "
                      f"{hashlib.md5(data).hexdigest()}; the guest sent {size} bytes, md5 {md5}",
                      file=sys.stderr)
                bad += 1
                continue
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(data)
            files.append(name)
        elif line.startswith("@@lab done"):
            done = line[len("@@lab done"):].strip()
        elif cur:
            body.append(line.strip())
        elif line.strip():
            stray += 1
    if cur:
        print(f"frames: {cur[0]} was cut short (no end line)", file=sys.stderr)
        bad += 1
    if stray:
        print(f"frames: {stray} line(s) outside any frame ignored", file=sys.stderr)
    if done is None:
        print(f"frames: {capture} stops before the guest's 'done' line "
              f"({len(files)} file(s) whole)", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
