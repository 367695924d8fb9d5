#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Write a trace.dat (trace-cmd file format 6, uncompressed) holding the
kvm/kvmmmu events of an ftrace text capture, as the kernel's ring buffer
would have held them.

For tests and benchmarks on hosts where KVM cannot run under tracing: the
records are built from a real capture's text, with the event formats
(ids, field offsets and sizes) of the running kernel's tracefs, or of a
directory saved from one (--formats).  `trace-cmd report` of the result
prints the capture's events again, which is how the output is checked.

    tools/text2tracedat.py capture.txt out.dat [--drop CPU:AFTER:COUNT]...

--drop marks COUNT events as lost on CPU before its AFTER-th record there
(the ring buffer page's "missed events", as libtracecmd reports them); a
COUNT of -1 marks a drop of an unknown number (the count not stored).

--buffer NAME puts the capture's events in an instance buffer NAME (as
`trace-cmd record -B NAME` does) instead of the top one; --top TEXT fills
the top buffer from another capture, whose other events (sched_switch...)
are written with the integer and string fields their "key=value" text
shows.  --drop NAME:CPU:AFTER:COUNT drops in buffer NAME ("top" the top one).

--damage CPU:PAGE writes a ring-buffer page header whose commit is larger
than a page on the top buffer's CPU, at its PAGE-th page (0 the first):
libtracecmd stops reading that CPU there.
"""
import argparse
import os
import re
import struct
import sys

PAGE = 4096
SYSTEMS = ("kvm", "kvmmmu")
EVENTS = {
    "kvmmmu": ("kvm_mmu_pagetable_walk", "kvm_mmu_paging_element", "kvm_mmu_walker_error",
               "kvm_mmu_spte_requested", "kvm_mmu_set_spte", "kvm_mmu_get_page",
               "kvm_tdp_mmu_spte_changed", "fast_page_fault"),
    "kvm": ("kvm_exit", "kvm_page_fault", "kvm_nested_vmexit_inject"),
}
# union kvm_mmu_page_role of Linux 6.12: bit positions of the fields printed, and
# the ACC bits of the access letters; "mbec" is 6.12 with kernel/patches applied.
ROLES = {
    "classic": ({"level": 0, "has_4_byte_gpte": 4, "quadrant": 5, "direct": 7, "access": 8,
                 "invalid": 11, "efer_nx": 12, "cr0_wp": 13, "ad_disabled": 16},
                {"w": 2, "u": 4, "x": 1}),
    "mbec": ({"level": 0, "has_4_byte_gpte": 4, "quadrant": 5, "direct": 7, "access": 8,
              "invalid": 12, "efer_nx": 13, "cr0_wp": 14, "ad_disabled": 17},
             {"r": 1, "w": 2, "u": 4, "x": 8}),
    # Jon Kohler's series: access:4 with ACC_USER_EXEC in bit 3, printed "xwuX"; the
    # fields after access one bit up as in mbec (what mbecscope's kohler layout assumes).
    "kohler": ({"level": 0, "has_4_byte_gpte": 4, "quadrant": 5, "direct": 7, "access": 8,
                "invalid": 12, "efer_nx": 13, "cr0_wp": 14, "ad_disabled": 17},
               {"x": 8, "w": 2, "u": 4, "X": 1}),
}
# KVM_MMU_PAGE_PRINTK()'s access_str table in kvm_mmu_get_page's print fmt
ACCESS_TABLES = {
    "classic": ["---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux"],
    # kernel/patches/0003: ACC_READ in bit 0, printed "rwux"
    "mbec": ["".join(c if i >> b & 1 else "-" for b, c in ((0, "r"), (1, "w"), (2, "u"), (3, "x")))
             for i in range(16)],
    # Kohler: "xwuX", x the user-exec bit 3, X the exec bit 0
    "kohler": ["".join(c if i >> b & 1 else "-" for b, c in ((3, "x"), (1, "w"), (2, "u"), (0, "X")))
               for i in range(16)],
}
ROLE, ACC = ROLES["classic"]
CR0_WP = 1	# not in the text: what the role word says (--cr0-wp)
EXIT = {"EPT_VIOLATION": (48, 1), "EPT_MISCONFIG": (49, 1), "npf": (0x400, 2)}
PFERR = {"P": 1, "W": 2, "U": 4, "RSVD": 8, "F": 16, "PK": 32, "SS": 64, "SGX": 1 << 15}

LINE = re.compile(r"^\s*(.*?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?(\d+)\.(\d+):"
                  r"\s+(\w+):\s*(.*)$")


def read_format(text):
    ev = {"fields": {}}
    for line in text.splitlines():
        m = re.match(r"ID: (\d+)", line)
        if m:
            ev["id"] = int(m.group(1))
        m = re.match(r"\s*field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d);", line)
        if m:
            name = m.group(1).split()[-1].split("[")[0]
            ev["fields"][name] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
            ev.setdefault("arrays", {})[name] = "char" in m.group(1) and "[" in m.group(1)
    ev["size"] = max(o + s for o, s, _ in ev["fields"].values())
    return ev


def hexv(s):
    return int(s, 16)


def kv(fields, key, conv=hexv):
    m = re.search(r"(?:^|\s)" + re.escape(key) + r":?\s+(\S+)", fields)
    return conv(m.group(1)) if m else None


def values(name, f):
    """The record's fields from the text of one event (today's forms)."""
    if name == "kvm_mmu_pagetable_walk":
        return {"addr": kv(f, "addr"), "pferr": kv(f, "pferr")}
    if name == "kvm_mmu_paging_element":
        return {"pte": kv(f, "pte"), "level": kv(f, "level", int)}
    if name == "kvm_mmu_walker_error":
        return {"pferr": kv(f, "pferr")}
    if name == "kvm_mmu_spte_requested":
        v = {"gfn": kv(f, "gfn"), "pfn": kv(f, "pfn"), "level": kv(f, "level", int)}
        if kv(f, "access") is not None:
            v["access"] = kv(f, "access")
        return v
    if name == "kvm_mmu_set_spte":
        perm = re.search(r"\(([^)]*)\)", f).group(1)
        return {"gfn": kv(f, "gfn"), "spte": kv(f, "spte"), "sptep": kv(f, "at"),
                "level": kv(f, "level", int), "r": perm[0:1] == "r", "x": perm[2:3] in ("x", "X"),
                "u": -1 if len(perm) < 4 else int(perm[3] == "u")}
    if name == "kvm_mmu_get_page":
        m = re.search(r"sp gen (\d+) gfn (\w+) l(\d) (\d)-byte q(\d)( direct)? (\S+)( invalid)? "
                      r"(!?)nxe (!?)ad root (\d+) (\w+) (\w+)", f)
        gen, gfn, level, nb, q, direct, acc, inv, nonx, noad, root, sync, new = m.groups()
        access = sum(ACC[c] for c in acc if c != "-")
        role = (int(level) << ROLE["level"] | (nb == "4") << ROLE["has_4_byte_gpte"] |
                int(q) << ROLE["quadrant"] | bool(direct) << ROLE["direct"] |
                access << ROLE["access"] | bool(inv) << ROLE["invalid"] |
                (not nonx) << ROLE["efer_nx"] | CR0_WP << ROLE["cr0_wp"] |
                bool(noad) << ROLE["ad_disabled"])
        return {"mmu_valid_gen": int(gen), "gfn": hexv(gfn), "role": role,
                "root_count": int(root), "unsync": sync == "unsync", "created": new == "new"}
    if name == "kvm_page_fault":
        return {"vcpu_id": kv(f, "vcpu", int) or 0, "fault_address": kv(f, "address"),
                "error_code": kv(f, "error_code")}
    if name == "kvm_exit":
        reason = kv(f, "reason", str)
        code, isa = EXIT.get(reason, (0x1, 1))
        return {"vcpu_id": kv(f, "vcpu", int) or 0, "exit_reason": code, "isa": isa,
                "info1": kv(f, "info1") or 0, "info2": kv(f, "info2") or 0}
    if name == "kvm_tdp_mmu_spte_changed":
        return {"as_id": int(re.search(r"as id (\d+)", f).group(1)), "gfn": kv(f, "gfn"),
                "level": kv(f, "level", int), "old_spte": kv(f, "old_spte"),
                "new_spte": kv(f, "new_spte")}
    if name == "fast_page_fault":
        ec = kv(f, "error_code", str) or ""
        sp, fx = kv(f, "spurious", int), kv(f, "fixed", int)
        return {"vcpu_id": kv(f, "vcpu", int), "cr2_or_gpa": kv(f, "gva"),
                "error_code": sum(PFERR[x] for x in ec.split("|") if x in PFERR),
                "sptep": kv(f, "sptep") or 0, "old_spte": kv(f, "old"), "new_spte": kv(f, "new"),
                "ret": 6 if sp else 5 if fx else 0}
    if name == "kvm_nested_vmexit_inject":
        code, isa = EXIT.get(kv(f, "reason", str), (0x1, 1))
        return {"exit_code": code, "isa": isa, "exit_info1": kv(f, "ext_inf1"),
                "exit_info2": kv(f, "ext_inf2"), "exit_int_info": kv(f, "ext_int") or 0,
                "exit_int_info_err": kv(f, "ext_int_err") or 0}
    return None


def generic_values(f):
    """Fields of an event this tool does not know, from its "key=value" text."""
    vals = {}
    for k, v in re.findall(r"(\w+)=(\S*)", f):
        try:
            vals[k] = int(v, 0)
        except ValueError:
            vals[k] = v
    return vals


def payload(ev, pid, vals):
    size = (ev["size"] + 3) & ~3
    buf = bytearray(size)
    struct.pack_into("<HBBi", buf, 0, ev["id"], 0, 0, pid)
    for name, v in vals.items():
        if name not in ev["fields"] or v is None:
            continue
        off, sz, signed = ev["fields"][name]
        if isinstance(v, str):
            if ev.get("arrays", {}).get(name):
                b = v.encode()[:sz - 1]
                buf[off:off + len(b)] = b
            continue
        v = int(v)
        if v < 0:
            v &= (1 << (8 * sz)) - 1
        buf[off:off + sz] = (v & ((1 << (8 * sz)) - 1)).to_bytes(sz, "little")
    return bytes(buf)


class CpuPages:
    """One CPU's ring buffer pages: header (u64 ts, u64 commit), events."""

    def __init__(self, damage=()):
        self.pages, self.cur, self.base, self.last, self.missed = [], bytearray(), None, 0, 0
        self.damage = set(damage)

    def close(self):
        if self.base is None:
            return
        commit = len(self.cur)
        if len(self.pages) in self.damage:
            commit = PAGE * 2	# larger than a page: libtracecmd refuses the page
        tail = b""
        if self.missed > 0:
            commit |= (1 << 31) | (1 << 30)	# missed events, count stored after the data
            tail = struct.pack("<Q", self.missed)
        elif self.missed < 0:
            commit |= 1 << 31			# missed events, how many not known
        page = struct.pack("<QQ", self.base, commit) + self.cur + tail
        self.pages.append(page + bytes(PAGE - len(page)))
        self.cur, self.base, self.missed = bytearray(), None, 0

    def add(self, ts, data, lost=0):
        if lost:
            self.close()
            self.missed = lost
        delta = ts - self.last if self.base is not None else 0
        need = 4 + len(data) + (8 if delta >= 1 << 27 else 0) + 8
        if self.base is not None and 16 + len(self.cur) + need > PAGE:
            self.close()
        if self.base is None:
            self.base, delta = ts, 0
        if delta >= 1 << 27:	# time extend: low 27 bits, then the rest
            self.cur += struct.pack("<II", 30 | (delta & ((1 << 27) - 1)) << 5, delta >> 27)
            delta = 0
        self.cur += struct.pack("<I", (len(data) // 4) | delta << 5) + data
        self.last = ts

    def finish(self):
        if self.base is not None or self.missed:
            if self.base is None:
                self.base = self.last
            self.close()
        return b"".join(self.pages)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("text")
    ap.add_argument("out")
    ap.add_argument("--formats", default="/sys/kernel/tracing/events",
                    help="tracefs events directory (or a copy of one)")
    ap.add_argument("--uname", default=None, help='"sysname node release machine" to record')
    ap.add_argument("--drop", action="append", default=[], help="[BUFFER:]CPU:AFTER:COUNT")
    ap.add_argument("--buffer", default="", help="instance buffer for the capture's events")
    ap.add_argument("--top", default=None, help="a capture for the top buffer (with --buffer)")
    ap.add_argument("--damage", action="append", default=[], help="CPU:PAGE (top buffer)")
    ap.add_argument("--events", type=int, default=0,
                    help="write this many events: the capture's again and again, each copy's "
                    "timestamps continuing where the last one's ended (benchmarks)")
    ap.add_argument("--layout", choices=sorted(ROLES), default="classic",
                    help="mbec: role bits and kvm_mmu_spte_requested's access field of a "
                    "kernel with this project's series (kernel/patches/0001, 0008)")
    ap.add_argument("--cr0-wp", type=int, choices=(0, 1), default=1,
                    help="role.cr0_wp of every kvm_mmu_get_page (the text does not print it)")
    a = ap.parse_args()
    global ROLE, ACC, CR0_WP
    ROLE, ACC = ROLES[a.layout]
    CR0_WP = a.cr0_wp

    fmt = {}

    def find_format(name):
        """An event of another system (sched...): its format from the formats directory."""
        for sysname in sorted(os.listdir(a.formats)):
            p = os.path.join(a.formats, sysname, name, "format")
            if os.path.exists(p):
                text = open(p).read()
                fmt[name] = (sysname, text, read_format(text))
                return True
        return False

    for sysname in SYSTEMS:
        for name in EVENTS[sysname]:
            p = os.path.join(a.formats, sysname, name, "format")
            if os.path.exists(p):
                text = open(p).read()
                if a.layout == "mbec" and name == "kvm_mmu_spte_requested" and \
                        "access;" not in text:
                    # The series' TP_STRUCT__entry adds "u8 access" after level.
                    text = re.sub(r"(\tfield:u8 level;\toffset:(\d+);\tsize:1;\tsigned:0;\n)",
                                  lambda m: m.group(1) + "\tfield:u8 access;\toffset:%d;"
                                  "\tsize:1;\tsigned:0;\n" % (int(m.group(2)) + 1), text)
                    text = text.replace('level %d", REC->gfn, REC->pfn, REC->level',
                                        'level %d access %x", REC->gfn, REC->pfn, '
                                        'REC->level, REC->access')
                if name == "kvm_mmu_get_page":
                    table = ", ".join('"%s"' % x for x in ACCESS_TABLES[a.layout])
                    text = re.sub(r"access_str\[\] = \{[^}]*\}",
                                  lambda m: "access_str[] = { %s }" % table, text)
                fmt[name] = (sysname, text, read_format(text))
    comms, counts = {}, {}
    drops = {}
    for d in a.drop:
        parts = d.split(":")
        buf = "" if len(parts) == 3 else parts.pop(0)
        c, after, n = (int(x) for x in parts)
        drops[("" if buf == "top" else buf, c, after)] = n
    damage = {}
    for d in a.damage:
        c, pg = (int(x) for x in d.split(":"))
        damage.setdefault(c, []).append(pg)

    def parse(path, generic):
        parsed = []
        for line in open(path, errors="replace"):
            m = LINE.match(line)
            if not m:
                continue
            comm, tid, cpu, sec, frac, name, fields = m.groups()
            if name not in fmt and not (generic and find_format(name)):
                continue
            vals = values(name, fields) if fmt[name][0] in SYSTEMS else generic_values(fields)
            if vals is None:
                continue
            ts = int(sec) * 1000000000 + int((frac + "000000000")[:9])
            comms[int(tid)] = comm.strip()[:15] or "<...>"
            parsed.append((ts, int(cpu), payload(fmt[name][2], int(tid), vals)))
        return parsed

    # buffer name -> {cpu: CpuPages}; "" is the top buffer
    buffers = {"": {}}
    parsed = parse(a.text, False)
    want = a.events or len(parsed)
    span = (parsed[-1][0] - parsed[0][0] + 1000000) if parsed else 0
    n = copy = 0
    cpus = buffers.setdefault(a.buffer, {})
    while parsed and n < want:
        for ts, cpu, data in parsed:
            if n >= want:
                break
            cp = cpus.setdefault(cpu, CpuPages(damage.get(cpu, ()) if not a.buffer else ()))
            counts[(a.buffer, cpu)] = counts.get((a.buffer, cpu), 0) + 1
            cp.add(ts + copy * span, data, drops.get((a.buffer, cpu, counts[(a.buffer, cpu)]), 0))
            n += 1
        copy += 1
    if a.top:
        for ts, cpu, data in parse(a.top, True):
            cp = buffers[""].setdefault(cpu, CpuPages(damage.get(cpu, ())))
            counts[("", cpu)] = counts.get(("", cpu), 0) + 1
            cp.add(ts, data, drops.get(("", cpu, counts[("", cpu)]), 0))
    ncpu = max(max(c) for c in buffers.values() if c) + 1 if any(buffers.values()) else 1
    cpus = buffers[""]
    instances = [b for b in buffers if b]

    uname = a.uname or "%s %s %s %s" % (os.uname().sysname, "host", os.uname().release,
                                          os.uname().machine)
    out = bytearray()
    out += b"\x17\x08\x44tracing6\0" + struct.pack("<BBI", 0, 8, PAGE)
    for sec in ("header_page", "header_event"):
        body = open(os.path.join(a.formats, sec), "rb").read()
        out += sec.encode() + b"\0" + struct.pack("<Q", len(body)) + body
    out += struct.pack("<I", 0)					# ftrace events
    systems = sorted(set(v[0] for v in fmt.values()))
    out += struct.pack("<I", len(systems))
    for s in systems:
        evs = [v for v in fmt.values() if v[0] == s]
        out += s.encode() + b"\0" + struct.pack("<I", len(evs))
        for _, text, _ in evs:
            out += struct.pack("<Q", len(text)) + text.encode()
    out += struct.pack("<I", 0)					# kallsyms
    out += struct.pack("<I", 0)					# printk formats
    cmd = "".join("%d %s\n" % (t, c) for t, c in sorted(comms.items())).encode()
    out += struct.pack("<Q", len(cmd)) + cmd
    out += struct.pack("<I", ncpu)
    out += b"options  \0"
    un = uname.encode() + b"\0"
    out += struct.pack("<HI", 5, len(un)) + un			# UNAME
    # BUFFER options (3): u64 offset of the instance's "flyrecord" section, its name
    bufopt = len(out)
    for name in instances:
        out += struct.pack("<HIQ", 3, 8 + len(name) + 1, 0) + name.encode() + b"\0"
    out += struct.pack("<H", 0)

    def flyrecord(out, pages):
        out += b"flyrecord\0"
        data = [pages[c].finish() if c in pages else b"" for c in range(ncpu)]
        table_end = len(out) + 16 * ncpu
        off = (table_end + PAGE - 1) // PAGE * PAGE
        for d in data:
            out += struct.pack("<QQ", off, len(d))
            off += len(d)
        out += bytes((table_end + PAGE - 1) // PAGE * PAGE - len(out))
        for d in data:
            out += d

    flyrecord(out, cpus)
    for name in instances:
        struct.pack_into("<Q", out, bufopt + 6, len(out))
        bufopt += 6 + 8 + len(name) + 1
        flyrecord(out, buffers[name])
    with open(a.out, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    sys.exit(main())
