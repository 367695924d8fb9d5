#!/usr/bin/env python3
"""Compare `mbecscope replay --json` of a trace.dat (DAT) with that of
`trace-cmd report` text of the same file (TEXT): the same checks, and the
same losses under the one rule in which the two differ by design
(docs/mbecscope.8): a drop of unknown size counts as 1 lost event in a
trace.dat and as 0 (a marker said as uncounted) in text.  So:

  DAT tracedat_lost           == TEXT lost_events_marked      (counted drops)
  DAT tracedat_lost_uncounted == TEXT drop_markers_uncounted  (unknown drops)
  DAT lost_events == TEXT lost_events + DAT tracedat_lost_uncounted

Prints each disagreement on a line; exit 1 when there is one, 0 otherwise.

  tracedat_vs_text.py DAT.json TEXT.json [KEY ...]

KEYs (default: transactions sptes_checked exits_checked roles_checked
anomalies) must be equal in both.
"""
import json
import sys


def main():
    if len(sys.argv) < 3:
        print("usage: tracedat_vs_text.py DAT.json TEXT.json [KEY ...]", file=sys.stderr)
        return 2
    dat, text = (json.load(open(f)) for f in sys.argv[1:3])
    keys = sys.argv[3:] or ["transactions", "sptes_checked", "exits_checked", "roles_checked",
                            "anomalies"]
    if dat.get("format") != "trace.dat" or text.get("format") != "ftrace-text":
        print("formats: %s / %s, want trace.dat / ftrace-text"
              % (dat.get("format"), text.get("format")))
        return 1
    for d in (dat, text):
        sc = d.get("sptes_checked")
        if isinstance(sc, dict) and "why" in sc:
            sc["why"] = sorted((w["coverage"], w["count"]) for w in sc["why"])
    bad = ["%s: %s / %s" % (k, dat.get(k), text.get(k)) for k in keys if dat.get(k) != text.get(k)]
    unc = dat["tracedat_lost_uncounted"]
    for what, a, b in (("counted drops (tracedat_lost / lost_events_marked)",
                        dat["tracedat_lost"], text["lost_events_marked"]),
                       ("drops of unknown size (tracedat_lost_uncounted / drop_markers_uncounted)",
                        unc, text["drop_markers_uncounted"]),
                       ("lost_events (trace.dat's less its %d unknown drops / text's)" % unc,
                        dat["lost_events"] - unc, text["lost_events"])):
        if a != b:
            bad.append("%s: %s / %s" % (what, a, b))
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
