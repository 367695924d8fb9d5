#!/usr/bin/env python3
"""Sum up one lab run (a directory made by lab/run.sh).

    summary.py DIR            one line: what was checked, what was found
    summary.py --details DIR  that line, then every finding in full
    summary.py --tap DIR [N]  the lab's assertions as TAP (numbered from N+1;
                              no plan line), for tests/lab/*.t

The assertions (each one is also a reason the line ends in "FAIL: ..."):
every step ran to its end; the built-in workload passed its self-check;
SPTEs were checked, and every coverage class (full/partial/none) with SPTEs
in it says why; exit qualifications or #NPF information were checked;
no anomaly; no lost event; every program attached as tp_btf or says why not;
the negative control (check --perturb-model nx) found anomalies; with the
nested step: every workload --nested pass ran and passed, and its
negative control (--inject-mismatch) failed; with the livetests step:
every tests/live file sent back (live-NAME.log, .rc) exited 0 with no
"not ok".  Only the steps the run asked for (steps-wanted.txt) are judged.
Anomalies that an entry of lab/quirks.txt ($LAB_QUIRKS in tests) explains,
for a run under that entry's emulator only, are counted as explained, not
as a failure.
Exit 0 when every assertion holds, 1 when one does not, 2 on a usage error.
"""
import json
import os
import re
import sys

STEPS = ["workload", "check", "record", "negative", "rawtp", "nested"]
QUIRKS = os.environ.get("LAB_QUIRKS") or \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "quirks.txt")


def load_quirks(path=QUIRKS):
    """lab/quirks.txt: blocks of 'key: value' lines (a line starting with a
    blank continues the value), separated by blank lines; # comments."""
    quirks, cur, key = [], {}, None
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return []
    for line in lines + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                quirks.append(cur)
            cur, key = {}, None
        elif line[0] in " \t" and key:
            cur[key] += " " + line.strip()
        else:
            key, _, val = line.partition(":")
            key = key.strip()
            cur[key] = val.strip()
    return quirks


def quirk_matches(q, anomaly):
    """Does quirk q explain this anomaly (its rule, and its qualification
    matching MASK=VALUE)?"""
    if q.get("rule", "none") in ("", "none") or anomaly.get("rule") != q["rule"]:
        return False
    m = re.search(r"qualification (0x[0-9a-fA-F]+)", anomaly.get("what") or "")
    try:
        mask, value = (int(x, 16) for x in q.get("match", "").split("="))
    except ValueError:
        return False
    return bool(m) and (int(m.group(1), 16) & mask) == value


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except OSError as e:
        return None, f"{os.path.basename(path)} missing ({e.strerror})"
    except ValueError as e:
        return None, f"{os.path.basename(path)} is not JSON ({e})"


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def first_line(path):
    for line in read(path).splitlines():
        if line.strip():
            return line.strip()
    return ""


class Run:
    def __init__(self, d):
        self.d = d
        self.asserts = []   # (ok, description, why-not)
        self.details = []
        run = read(os.path.join(d, "run.txt")).split()
        self.emu = run[0] if run else "?"
        self.emu_rc = run[1] if len(run) > 1 else "?"
        self.secs = float(run[2]) if len(run) > 2 else 0.0
        self.kernel = run[3] if len(run) > 3 else "?"
        self.release = first_line(os.path.join(d, "uname.txt")) or (run[4] if len(run) > 4 else "?")
        kvm = read(os.path.join(d, "kvm.txt"))
        self.mmu = "ept" if "kvm_intel/parameters/ept Y" in kvm else \
            "npt" if "kvm_amd/parameters/npt 1" in kvm or "kvm_amd/parameters/npt Y" in kvm else \
            "shadow" if re.search(r"kvm_(amd/parameters/npt|intel/parameters/ept) [N0]", kvm) else "?"
        if "kvm/parameters/tdp_mmu Y" in kvm:
            self.mmu += "+tdp_mmu"
        for feat in ("gmet", "mbec"):
            if f"/parameters/{feat} Y" in kvm:
                self.mmu += "+" + feat
        self.steps = {}
        for line in read(os.path.join(d, "steps.txt")).splitlines():
            p = line.split()
            if len(p) >= 4:
                self.steps[p[0]] = (int(p[1]), float(p[3]) - float(p[2]))
        self.check, self.check_err = load_json(os.path.join(d, "check.out"))
        self.neg, self.neg_err = load_json(os.path.join(d, "negative.out"))
        self.raw, self.raw_err = load_json(os.path.join(d, "rawtp.out"))
        self.nested_word = ""
        wanted = first_line(os.path.join(d, "steps-wanted.txt"))
        self.wanted_all = wanted.split(",") if wanted else STEPS
        self.wanted = [s for s in STEPS if s in self.wanted_all]
        self.live_word = ""
        self.judge()
        if "livetests" in self.wanted_all:
            self.judge_live()

    def a(self, ok, what, whynot=""):
        self.asserts.append((bool(ok), what, whynot))

    def err_line(self, step):
        return first_line(os.path.join(self.d, step + ".err"))

    def boot_problem(self):
        """The guest's own last words when it never reached the steps."""
        log = first_line(os.path.join(self.d, "log.txt"))
        if log:
            return f"guest log: {log}"
        for line in read(os.path.join(self.d, "console.log")).splitlines():
            if "Kernel panic" in line or "not syncing" in line:
                return "console: " + line.split("] ", 1)[-1].strip()
        return f"emulator exit {self.emu_rc}, see console.log"

    def judge(self):
        if not self.steps:
            self.a(False, "the guest ran the steps", self.boot_problem())
        for s in self.wanted:
            if s not in self.steps:
                self.a(False, f"step {s} ran", "the guest never got to it")
            else:
                rc = self.steps[s][0]
                want = (1,) if s == "negative" else (0, 1) if s in ("check", "rawtp") else (0,)
                self.a(rc in want, f"step {s} ran (exit {rc})",
                       self.err_line(s) or f"exit {rc}")
        wl = self.steps.get("workload")
        if "workload" in self.wanted:
            self.a(wl and wl[0] == 0, "the built-in workload passed its self-check",
                   self.err_line("workload") or "no workload step")
        if "nested" in self.wanted:
            self.judge_nested()
        if "check" not in self.wanted:
            return      # a run of other steps only (tracedat, livetests, ...)
        c = self.check
        if c is None:
            self.a(False, "check --workload --json gave a summary", self.check_err)
            return
        sp = c.get("sptes_checked", {})
        total = sp.get("total", 0)
        self.cov = {k: sp.get(k, 0) for k in ("full", "partial", "none")}
        self.a(total > 0, f"SPTEs checked: {total}", "no SPTE was checked")
        why = {}
        for w in sp.get("why", []):
            why.setdefault(w["coverage"], []).append(w)
        for k, n in self.cov.items():
            got = sum(w["count"] for w in why.get(k, []))
            reasons = "; ".join(f"{w['count']} {w['reason']}" for w in why.get(k, []))
            if n:
                self.details.append(f"coverage {k} {n}: {reasons}")
            self.a(got == n, f"coverage {k}: {n} SPTEs, {got} with a reason",
                   f"{n - got} {k} SPTEs without a reason")
        wp = c.get("workload_pages")
        if wp:
            without = wp.get("without", [])
            whys = {}
            for p in without:
                whys[p.get("why") or ""] = whys.get(p.get("why") or "", 0) + 1
            self.details.append(f"workload pages with a checked SPTE: "
                                f"{wp.get('with_checked_spte')} of {wp.get('matrix')}")
            for w, k in sorted(whys.items(), key=lambda x: -x[1]):
                self.details.append(f"  {k} without: {w or 'NO REASON'}")
            self.a("" not in whys, "every workload page without a checked SPTE says why",
                   f"{whys.get('', 0)} without a reason")
        self.exits = c.get("exits_checked", 0)
        self.a(self.exits > 0, f"exit qualifications / #NPF information checked: {self.exits}",
               "none checked")
        an = c.get("anomalies", {})
        self.anom = an.get("total", 0)
        # The emulator's quirks: only anomalies listed in "first" can be
        # matched; any beyond them stay unexplained.
        self.quirks = [q for q in load_quirks() if q.get("emulator") == self.emu]
        self.explained = {}
        for f in an.get("first", []):
            for q in self.quirks:
                if quirk_matches(q, f):
                    self.explained[q["id"]] = self.explained.get(q["id"], 0) + 1
                    break
        for q in self.quirks:
            self.details.append(f"quirk {q.get('id')} applies to {self.emu} runs: "
                                f"{self.explained.get(q.get('id'), 0)} anomalies explained"
                                f" (rule {q.get('rule', 'none')})")
        self.classes = {k: v for k, v in an.items()
                        if isinstance(v, int) and k != "total" and v}
        ex = {}
        for f in an.get("first", []):
            ex.setdefault(f.get("class"), f)
        for k, v in sorted(self.classes.items()):
            f = ex.get(k, {})
            self.details.append(f"anomaly {k} {v}: [{f.get('rule', '?')}] {f.get('what', '')}")
        cls = ", ".join(f"{k} {v}" for k, v in sorted(self.classes.items()))
        nexp = sum(self.explained.values())
        self.a(self.anom - nexp == 0, "anomalies: 0" + (f" besides {nexp} explained by "
               "emulator quirks" if nexp else ""), f"{self.anom - nexp} ({cls})")
        self.lost = c.get("lost_events", 0)
        self.a(self.lost == 0, "lost events: 0", f"{self.lost} lost")
        self.attach = c.get("attach", [])
        silent = [t for t in self.attach if t.get("how") != "tp_btf" and not t.get("note")]
        for t in self.attach:
            if t.get("how") != "tp_btf":
                self.details.append(f"attach {t.get('tracepoint')}: {t.get('how')}"
                                    f" ({t.get('note') or 'no reason given'})")
        self.a(self.attach and not silent,
               "every program attached as tp_btf or says why not",
               "no attach list in --json" if not self.attach else
               f"{len(silent)} of {len(self.attach)} not on tp_btf and no reason given")
        n = self.neg
        nn = n.get("anomalies", {}).get("total", 0) if n else 0
        self.neg_n = nn
        if "negative" in self.wanted:
            self.a(nn > 0, f"negative control fired: {nn} anomalies",
                   self.neg_err or "--perturb-model nx found nothing")
        self.raw_word = ""
        if "rawtp" in self.wanted:
            self.judge_raw()

    def judge_nested(self):
        """workload --nested: every pass ran and passed; the flipped leaf was caught."""
        n, err = load_json(os.path.join(self.d, "nested.out"))
        neg, nerr = load_json(os.path.join(self.d, "nested-negative.out"))
        if n is None:
            self.a(False, "workload --nested gave a summary",
                   self.err_line("nested") or err)
            self.nested_word = "; nested: no summary"
            return
        want = 4 if n.get("feature_offered") else 2
        ran = n.get("passes_run", 0)
        self.a(ran == want, f"nested: {ran} of {want} passes ran "
               f"({n.get('feature')} {'offered' if n.get('feature_offered') else 'not offered'})",
               self.err_line("nested") or "passes missing")
        self.a(n.get("self_check") == "passed" and n.get("faults", 0) > 0,
               f"nested: {n.get('accesses')} L3 accesses and {n.get('faults')} "
               f"{n.get('info')} exits as the model says",
               f"{n.get('mismatches')} mismatches: " + "; ".join(n.get("mismatch_list", [])[:2]))
        nm = neg.get("mismatches", 0) if neg else 0
        self.a(nm > 0, f"nested negative control (one leaf flipped) fired: {nm} mismatches",
               nerr or "the flipped leaf went unnoticed")
        self.nested_word = (f"; nested {n.get('hypervisor')}: {ran} passes, "
                            f"{n.get('accesses')} accesses, {n.get('faults')} faults, "
                            f"{n.get('mismatches')} mismatches, {n.get('feature')} "
                            f"{'on' if n.get('feature_offered') else 'not offered'}, "
                            f"negative {'fired ' + str(nm) if nm else 'SILENT'}")

    def judge_raw(self):
        """check --raw-tp: the fallback programs, judged like the preferred ones."""
        r = self.raw
        if r is None:
            self.a(False, "check --raw-tp gave a summary", self.raw_err)
            self.raw_word = "; raw_tp: no summary"
            return
        at = r.get("attach", [])
        btf = [t.get("tracepoint") for t in at if t.get("how") == "tp_btf"]
        self.a(at and not btf, "check --raw-tp attached every program as raw_tp",
               f"still tp_btf: {', '.join(btf)}" if btf else "no attach list")
        an = r.get("anomalies", {})
        tot = an.get("total", 0)
        cls = ", ".join(f"{k} {v}" for k, v in sorted(an.items())
                        if isinstance(v, int) and k != "total" and v)
        ex = {}
        for f in an.get("first", []):
            ex.setdefault(f.get("class"), f)
        for k, f in ex.items():
            self.details.append(f"raw_tp anomaly {k} {an.get(k)}: [{f.get('rule', '?')}] "
                                f"{f.get('what', '')}")
        sp = r.get("sptes_checked", {}).get("total", 0)
        ex_n = r.get("exits_checked", 0)
        lost = r.get("lost_events", 0)
        self.a(sp > 0 and ex_n > 0, f"raw_tp: SPTEs {sp} and exits {ex_n} checked", "none")
        self.a(tot == 0, "raw_tp: anomalies: 0", f"{tot} ({cls})")
        self.a(lost == 0, "raw_tp: lost events: 0", f"{lost} lost")
        self.raw_word = (f"; raw_tp: SPTEs {sp}, exits {ex_n}, anomalies {tot}"
                         f"{' (' + cls + ')' if cls else ''}, lost {lost}")

    def judge_live(self):
        """livetests: the step ran; every tests/live file ran and exited 0."""
        st = self.steps.get("livetests")
        self.a(st is not None, "step livetests ran",
               first_line(os.path.join(self.d, "log.txt")) or "the guest never got to it")
        names = sorted(f[5:-3] for f in os.listdir(self.d)
                       if f.startswith("live-") and f.endswith(".rc"))
        self.a(names, "live tests ran", "no live-*.rc came back")
        oks = noks = skips = 0
        for name in names:
            rc = first_line(os.path.join(self.d, f"live-{name}.rc"))
            log = read(os.path.join(self.d, f"live-{name}.log")).splitlines()
            o = sum(1 for x in log if re.match(r"ok \d+", x))
            k = sum(1 for x in log if re.match(r"ok \d+.*# *SKIP", x)) + \
                sum(1 for x in log if re.match(r"1\.\.0 # *SKIP", x))
            f = sum(1 for x in log if x.startswith("not ok"))
            oks, noks, skips = oks + o - k, noks + f, skips + k
            self.a(rc == "0" and not f, f"live/{name}: exit {rc}, {o - k} ok, {f} not ok, "
                   f"{k} skipped", next((x for x in log if x.startswith("not ok")), f"exit {rc}"))
        self.live_word = (f"; live tests: {len(names)} files, {oks} ok, {noks} not ok, "
                          f"{skips} skipped")

    def attach_word(self):
        """'tp_btf 12', or 'tp_btf 10, raw_tp 2 (kvm_exit, kvm_entry: why)'."""
        hows = {}
        why = {}
        for t in self.attach:
            h = t.get("how")
            hows[h] = hows.get(h, 0) + 1
            if h != "tp_btf":
                why.setdefault((h, t.get("note") or "no reason given"), []).append(
                    t.get("tracepoint"))
        words = ", ".join(f"{k} {v}" for k, v in sorted(hows.items())) or "?"
        for (h, note), tps in why.items():
            tpl = ", ".join(tps) if len(tps) < len(self.attach) else "all"
            words += f" [{h}: {tpl}: {note}]"
        return words

    def quirk_word(self):
        """', 3 explained by quirk bochs3-x' when quirks explained some."""
        if not self.explained:
            return ""
        return ", " + ", ".join(f"{n} explained by quirk {i}"
                                for i, n in sorted(self.explained.items()))

    def line(self):
        head = f"{self.emu:5} {self.kernel:12} {self.release} {self.mmu}"
        if self.check is None and "check" not in self.wanted:
            body = f"steps {','.join(self.wanted_all)}{self.nested_word}{self.live_word}"
        elif self.check is None:
            body = f"no check summary ({self.check_err}){self.nested_word}"
        else:
            cls = ", ".join(f"{k} {v}" for k, v in sorted(self.classes.items()))
            body = (f"SPTEs {sum(self.cov.values())} (full {self.cov['full']}, partial "
                    f"{self.cov['partial']}, none {self.cov['none']}); exits {self.exits}; "
                    f"anomalies {self.anom}{' (' + cls + ')' if cls else ''}"
                    f"{self.quirk_word()}; lost {self.lost}; "
                    f"negative {'fired ' + str(self.neg_n) if self.neg_n else 'SILENT'}; "
                    f"attach {self.attach_word()}{self.raw_word}{self.nested_word}")
        bad = [(w, y) for ok, w, y in self.asserts if not ok]
        if not self.steps:
            bad = bad[:1]    # the guest never ran a step: only why
        verdict = "ok" if not bad else "FAIL: " + "; ".join(
            f"{w.split(':')[0]}: {y}" for w, y in bad)
        return f"{head}: {body}; {self.secs:.0f}s; {verdict}"

    def ok(self):
        return all(ok for ok, _, _ in self.asserts)


def main(argv):
    mode = "line"
    args = argv[1:]
    if args and args[0] in ("--details", "--tap"):
        mode = args.pop(0)[2:]
    if not args or not os.path.isdir(args[0]):
        print("usage: summary.py [--details|--tap] DIR [N]", file=sys.stderr)
        return 2
    r = Run(args[0])
    if mode == "tap":
        n = int(args[1]) if len(args) > 1 else 0
        tag = f"{r.emu} {r.kernel}"
        for ok, what, whynot in r.asserts:
            n += 1
            print(f"{'ok' if ok else 'not ok'} {n} - {tag}: {what}"
                  + ("" if ok else f" -- {whynot}"))
        for d in r.details:
            print(f"# {tag}: {d}")
        return 0 if r.ok() else 1
    print(r.line())
    if mode == "details":
        for d in r.details:
            print("  " + d)
    return 0 if r.ok() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
