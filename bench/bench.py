#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mbecscope benchmarks: what the tool costs against what users would use instead.

Run by `make bench`; bench/RESULTS.md says what each figure means.

  overhead  one storm workload (`mbecscope workload --pattern storm`, which
            prints SPTE faults per second every second) runs for the whole
            section.  Windows with nothing attached and windows with one
            observer attached alternate: base c1 base c2 ... base, the
            observers in rotated order each repetition.  Observers: `mbecscope
            check`, `mbecscope record`, `mbectop -b`, a bpftrace script
            counting the same tracepoints, and the same tracefs events
            streamed from trace_pipe into a file.  Each observer window's rate
            is divided by the mean of the baseline windows either side.  Events
            lost by check, record and tracefs are counted in the same windows.
  replay    records per CPU second (one thread) replaying a recording and
            importing the same events as ftrace text.
  memory    peak RSS of check, record and top (from the overhead windows) and
            of replay on inputs of N and 4N events, as a ratio.
  tracedat  `mbecscope replay` of trace-cmd's trace.dat against `trace-cmd
            report FILE >/dev/null` (the peer) on the same file, in the same
            repetition: CPU time ratio, and peak RSS at N and 4N events.  The
            files are written by tools/text2tracedat.py from the overhead
            section's tracefs capture, or (--only tracedat, which needs
            neither /dev/kvm nor BPF) from the committed workload capture.
  progcost  (needs root, BTF and the KVM module, not /dev/kvm) the BPF
            programs' time per run, by the kernel's run-time statistics, against
            a floor program (the pid filter and return) run in the same loop:
            tools/progcost runs each raw_tp program with BPF_PROG_TEST_RUN on
            synthetic arguments, watching another pid (filtered out) and this
            one (the work of a wanted event).  --lab-dir DIR adds the lab's
            measurement of the same while the storm runs in L1 (lab/run.sh
            --steps progcost): program runs per fault and ns per run against
            the floor program attached to every tracepoint.

Everything goes to --out (default build/bench): results.json (every window
and run, raw), figures.md (the tables), and what the observers printed.
Needs root, /dev/kvm, BPF and tracefs; bpftrace and time(1) (tools/deps.sh
bench).
"""
import argparse
import ctypes
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time

TRACEFS = "/sys/kernel/tracing"
INSTANCE = "mbecscope-bench-%d" % os.getpid()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def die(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(2)


def note(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def stats(values):
    """median, min, max of a list (None when empty)."""
    v = [x for x in values if x is not None]
    if not v:
        return None
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


class Proc:
    """A command run under GNU time, for its peak RSS and CPU time.

    Measuring from here (wait4) would not do: a child forked from this
    Python process starts with Python's resident set as its high-water mark,
    and exec keeps that in the maximum.  time(1) is small, so what it
    reports is the command's own peak (or time's few MiB, whichever is more).
    """

    def __init__(self, argv, out_path):
        self.out_path = out_path
        self.ru_path = out_path + ".rusage"
        self.status = None
        self.ru = None
        f = open(out_path, "w")
        self.outer = subprocess.Popen(["/usr/bin/time", "-o", self.ru_path, "-f",
                                       "%M %U %S %e"] + argv, stdout=f,
                                      stderr=subprocess.STDOUT)
        f.close()
        self.pid = None
        deadline = time.monotonic() + 10
        kids = "/proc/%d/task/%d/children" % (self.outer.pid, self.outer.pid)
        while self.pid is None and time.monotonic() < deadline:
            try:
                k = read(kids).split()
                if k:
                    self.pid = int(k[0])
                    break
            except OSError:
                pass
            if self.poll() is not None:
                break
            time.sleep(0.01)
        if self.pid is None:
            self.pid = -1

    def poll(self):
        """None while running; else the exit status.  Reaps with wait4 for the rusage."""
        if self.status is None:
            wpid, status, ru = os.wait4(self.outer.pid, os.WNOHANG)
            if wpid == self.outer.pid:
                # time(1) has reaped the command: its rusage is in ours (microseconds;
                # time(1) itself prints hundredths).
                self.status = self.outer.returncode = os.waitstatus_to_exitcode(status)
                self.ru = ru
        return self.status

    def kill(self):
        if self.poll() is None:
            for pid in (self.pid, self.outer.pid):
                try:
                    if pid > 0:
                        os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.finish(None, 10)

    def finish(self, sig=None, timeout=60):
        """Signal the command (unless sig is None), wait, return status, peak RSS, CPU time."""
        if sig is not None and self.poll() is None and self.pid > 0:
            try:
                os.kill(self.pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                for pid in (self.pid, self.outer.pid):
                    try:
                        if pid > 0:
                            os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            time.sleep(0.02)
        st = self.status
        lines = read(self.ru_path).strip().splitlines()
        m = re.search(r"terminated by signal (\d+)", lines[0]) if lines else None
        if m:
            st = -int(m.group(1))
        rss = lines[-1].split()[0] if lines else "0"
        return {"status": st, "maxrss_kib": int(rss),
                "cpu_s": self.ru.ru_utime + self.ru.ru_stime}


def bpf_attach_fds(pid):
    """How many BPF links / perf events (attached tracepoints) a process holds."""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if "bpf_link" in t or "perf_event" in t:
                n += 1
    except OSError:
        return -1
    return n


def wait_attached(proc, what, timeout=60.0):
    """Wait until proc's attached-tracepoint count is non-zero and stable."""
    deadline = time.monotonic() + timeout
    last, stable = -1, 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited before attaching: %s" %
                               (what, read(proc.out_path).strip()[-300:]))
        n = bpf_attach_fds(proc.pid)
        if n > 0 and n == last:
            stable += 1
            if stable >= 4:
                return n
        else:
            stable = 0
        last = n
        time.sleep(0.15)
    raise RuntimeError("%s did not attach in %.0f s" % (what, timeout))


def prog_ids(pid):
    """ids of the BPF programs a process holds (its fdinfo says prog_id)."""
    ids = set()
    try:
        fds = os.listdir("/proc/%d/fdinfo" % pid)
    except OSError:
        return ids
    for fd in fds:
        try:
            m = re.search(r"^prog_id:\s*(\d+)", read("/proc/%d/fdinfo/%s" % (pid, fd)), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def prog_run_stats(ids):
    """Sum of run_time_ns and run_cnt over BPF programs (while statistics are on)."""
    ns = cnt = 0
    for i in sorted(ids):
        r = subprocess.run(["bpftool", "prog", "show", "id", str(i), "--json"], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            continue
        j = json.loads(r.stdout)
        ns += j.get("run_time_ns", 0)
        cnt += j.get("run_cnt", 0)
    return ns, cnt


def bpf_enable_stats():
    """An fd that keeps BPF run-time statistics on while it is open (BPF_ENABLE_STATS).

    Unlike the kernel.bpf_stats_enabled sysctl it leaves no global state
    behind and cannot race with anyone else turning statistics on or off.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.c_uint32(0)	# union bpf_attr.enable_stats.type = BPF_STATS_RUN_TIME
    fd = libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr))	# bpf(BPF_ENABLE_STATS)
    if fd < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return fd


def tracepoint_names(src=None):
    """The tracepoints bpf/mbecscope.bpf.c attaches to: the second argument
    of each MBECS_PROGS(name, tracepoint, ...) line, however many follow."""
    with open(src or os.path.join(ROOT, "bpf", "mbecscope.bpf.c")) as f:
        return re.findall(r"^MBECS_PROGS\(\s*\w+\s*,\s*(\w+)\s*[,)]", f.read(), re.M)


def tracepoints(names):
    """(system, name) of each of names this kernel has, and the names it lacks."""
    out, missing = [], []
    for n in names:
        for system in ("kvmmmu", "kvm"):
            if os.path.isdir(os.path.join(TRACEFS, "events", system, n)):
                out.append((system, n))
                break
        else:
            missing.append(n)
    return out, missing


def recording_to_v1(src, dst):
    """Rewrite a format 2 recording (zstd chunks) as format 1 (zlib, level 1).

    Follows docs/recording-format.md: only the version, the header CRC and
    each chunk's payload, lengths and CRCs change.  Gives the codec a
    baseline in the same run: the same records in the format replay read
    before version 2.
    """
    import zlib
    data = open(src, "rb").read()
    version, hsize = struct.unpack_from("<II", data, 8)
    if data[:8] != b"MBECSREC" or version != 2:
        raise RuntimeError("%s is not a format 2 recording" % src)
    out = bytearray(data[:hsize])
    struct.pack_into("<II", out, 8, 1, hsize)
    struct.pack_into("<I", out, 16, 0)
    struct.pack_into("<I", out, 16, zlib.crc32(out))
    off = hsize
    while off < len(data):
        hdr = bytearray(data[off:off + 48])
        comp_len = struct.unpack_from("<I", hdr, 20)[0]
        raw = subprocess.run(["zstd", "-q", "-d", "-c"], input=data[off + 48:off + 48 + comp_len],
                             capture_output=True, check=True).stdout
        comp = zlib.compress(raw, 1)
        struct.pack_into("<I", hdr, 20, len(comp))
        struct.pack_into("<II", hdr, 40, zlib.crc32(comp), 0)
        struct.pack_into("<I", hdr, 44, zlib.crc32(hdr))
        out += hdr + comp
        off += 48 + comp_len
    with open(dst, "wb") as f:
        f.write(out)


def table_head(o, intro, cols):
    """Append a blank line, intro (if any) and a markdown table's header.

    The first column is left-aligned, the others are figures (right).
    """
    if intro:
        o += ["", intro]
    o += ["", "| " + " | ".join(cols) + " |",
          "|---|" + "---:|" * (len(cols) - 1)]


def f0(st, key="median", scale=1.0, fmt="%.0f"):
    """One figure of a stats() dict, or '-' when there is none."""
    if not st or st.get(key) is None:
        return "-"
    return fmt % (st[key] * scale)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


class Bench:
    def __init__(self, args):
        self.a = args
        self.mbec = os.path.abspath(args.mbecscope)
        self.out = os.path.abspath(args.out)
        self.results = {"machine": self.machine(), "args": vars(args), "overhead": None,
                        "tracefs_instance": INSTANCE,
                        "replay": None, "memory": None, "tracedat": None, "progcost": None,
                        "labcost": None, "pending": []}
        self.tps = []	# (system, name): set by check_env() once tracefs is mounted

    # ---- environment -----------------------------------------------------------
    def machine(self):
        cpu = "?"
        try:
            for line in read("/proc/cpuinfo").splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        mem = 0
        try:
            mem = int(read("/proc/meminfo").split()[1]) // 1024
        except (OSError, ValueError, IndexError):
            pass
        mods = sorted(d for d in os.listdir("/sys/module") if d.startswith("kvm_"))
        tdp = "KVM module %s" % ("/".join(mods) or "built in")
        for m in ("kvm_intel", "kvm_amd"):
            for p in ("ept", "npt"):
                try:
                    v = read("/sys/module/%s/parameters/%s" % (m, p)).strip()
                    tdp += " %s.%s=%s" % (m, p, v)
                except OSError:
                    pass
        try:
            tdp += " kvm.tdp_mmu=" + read("/sys/module/kvm/parameters/tdp_mmu").strip()
        except OSError:
            pass
        return {"kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(),
                "mem_mib": mem, "kvm": tdp, "host": platform.node(),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}

    def has_cmd(self, *cmd):
        r = subprocess.run([self.mbec] + list(cmd) + ["--help"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def check_env(self):
        if os.geteuid() != 0:
            die("must run as root (BPF, tracefs and /dev/kvm); run: sudo make bench")
        if not os.access(self.mbec, os.X_OK):
            die("no %s; run: make" % self.mbec)
        if set(self.a.only) <= {"progcost"}:
            os.makedirs(self.out, exist_ok=True)
            return
        only_tracedat = self.a.only == ["tracedat"]
        if not shutil.which("trace-cmd") and "tracedat" in self.a.only:
            die("no trace-cmd for the tracedat section; run: tools/deps.sh bench")
        if only_tracedat:
            os.makedirs(self.out, exist_ok=True)
            return
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            die("cannot open /dev/kvm read-write; load kvm_intel or kvm_amd")
        if not os.path.isdir(os.path.join(TRACEFS, "events")):
            r = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS])
            if r.returncode != 0:
                die("tracefs is not mounted; run: mount -t tracefs nodev " + TRACEFS)
        names = tracepoint_names()
        if not names:
            die("found no MBECS_PROGS(name, tracepoint, ...) line in bpf/mbecscope.bpf.c; "
                "update tracepoint_names() in bench/bench.py to its form")
        self.tps, missing = tracepoints(names)
        if not self.tps:
            die("none of the %d KVM tracepoints mbecscope uses (%s) is under %s/events; "
                "load kvm_intel or kvm_amd" % (len(names), ", ".join(names[:3]) + ", ...", TRACEFS))
        if missing:
            note("this kernel lacks %d of mbecscope's tracepoints (%s): bpftrace and tracefs "
                 "trace the other %d" % (len(missing), ", ".join(missing), len(self.tps)))
        self.results["tracepoints"] = ["%s:%s" % t for t in self.tps]
        self.results["tracepoints_missing"] = missing
        os.makedirs(self.out, exist_ok=True)

    # ---- the storm workload: one process for the whole section ----------------
    def start_storm(self):
        """Run the storm until stopped; a thread notes when each per-second rate arrives."""
        # (arrival time, faults/s over the second before it, the vCPU
        # threads' CPU ns per fault over that second or None)
        self.samples = []
        p = subprocess.Popen([self.mbec, "workload", "--pattern", "storm", "--vcpus",
                              str(self.a.vcpus), "--duration", "86400"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.storm_text = []
        pat = re.compile(r"^\s*[\d.]+s\s+(\d+) faults/s(?:\s+(\d+) ns CPU/fault)?")

        def reader():
            for line in p.stdout:
                t = time.monotonic()
                self.storm_text.append(line)
                m = pat.match(line)
                if m:
                    self.samples.append((t, float(m.group(1)),
                                         float(m.group(2)) if m.group(2) else None))
        self.storm_reader = threading.Thread(target=reader, daemon=True)
        self.storm_reader.start()
        deadline = time.monotonic() + 60
        while len(self.samples) < 2:	# skip the first second (VM creation)
            if p.poll() is not None or time.monotonic() > deadline:
                p.kill()
                raise RuntimeError("the storm workload did not start: " +
                                   "".join(self.storm_text).strip()[-300:])
            time.sleep(0.1)
        return p

    def stop_storm(self, p):
        p.send_signal(signal.SIGINT)
        try:
            st = p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            st = p.wait()
        self.storm_reader.join(5)
        return st

    def window_rate(self, t0, t1):
        """faults/s over the per-second intervals that lie wholly in [t0, t1].

        When the storm's reports came late (a loaded machine) and none lies
        wholly inside, the intervals overlapping the window, weighted by the
        overlap, stand in.
        """
        num = den = 0.0
        prev = None
        for t, rate, _ in self.samples:
            if prev is not None and prev >= t0 and t <= t1:
                num += rate * (t - prev)
                den += t - prev
            prev = t
        if den > 0:
            return num / den
        prev = None
        for t, rate, _ in self.samples:
            if prev is not None:
                ov = min(t, t1) - max(prev, t0)
                if ov > 0:
                    num += rate * ov
                    den += ov
            prev = t
        return num / den if den > 0 else None

    def window_cpu(self, t0, t1):
        """The vCPU threads' CPU ns per fault over the seconds wholly in [t0, t1].

        Each second counts with its faults.  Throughput moves with whatever
        else takes the CPU from the vCPU thread; the CPU each fault costs the
        thread does not, and it is where an observer's in-kernel work lands.
        None when the storm did not report it (or no second lies inside).
        """
        num = den = 0.0
        prev = None
        for t, rate, cpu in self.samples:
            if prev is not None and prev >= t0 and t <= t1 and cpu is not None:
                faults = rate * (t - prev)
                num += cpu * faults
                den += faults
            prev = t
        return num / den if den > 0 else None

    def pause_storm(self, pid):
        """SIGSTOP the storm and wait until every thread has stopped.

        An observer is stopped only while the storm is paused, so that all it
        saw can be drained and accounted for: nothing is in flight when it
        detaches.  The paused seconds lie outside every window.
        """
        os.kill(pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = []
            for t in os.listdir("/proc/%d/task" % pid):
                try:
                    states.append(read("/proc/%d/task/%s/stat" % (pid, t)).rsplit(")", 1)[1]
                                  .split()[0])
                except (OSError, IndexError):
                    pass
            if states and all(x in "tT" for x in states):
                return
            time.sleep(0.02)
        raise RuntimeError("the storm's threads did not stop within 5 s of SIGSTOP")

    def storm_alive(self, p):
        if p.poll() is not None:
            raise RuntimeError("the storm workload ended early (status %d): %s" %
                               (p.returncode, "".join(self.storm_text).strip()[-300:]))

    # ---- observers: start(pid) -> handle; stop(handle) -> dict ------------------
    def obs_mbec(self, name, argv_tail, tag, pid):
        path = os.path.join(self.out, "%s-%s.out" % (name, tag))
        p = Proc([self.mbec] + argv_tail + ["--pid", str(pid)], path)
        n = wait_attached(p, name)
        return {"proc": p, "path": path, "attached": n}

    def stop_proc(self, h, sig=signal.SIGINT, timeout=60):
        return h["proc"].finish(sig, timeout)

    def run_check(self, tag, pid):
        return self.obs_mbec("check", ["check", "--json"], tag, pid)

    def run_record(self, tag, pid):
        h = self.obs_mbec("record", ["record", "--json", "-o",
                                     os.path.join(self.out, "storm-%s.rec" % tag)], tag, pid)
        return h

    def run_top(self, tag, pid):
        return self.obs_mbec("top", ["top", "-b", "-d", "1"], tag, pid)

    def run_bpftrace(self, tag, pid):
        script = os.path.join(self.out, "count.bt")
        probes = ",\n".join("tracepoint:%s:%s" % t for t in self.tps)
        write(script, "// Count the tracepoints mbecscope attaches to, for one VMM ($1).\n" +
              probes + "\n/pid == $1/\n{\n\t@[probe] = count();\n}\n")
        path = os.path.join(self.out, "bpftrace-%s.out" % tag)
        p = Proc(["bpftrace", script, str(pid)], path)
        n = wait_attached(p, "bpftrace")
        return {"proc": p, "path": path, "attached": n}

    def tracefs_setup(self, pid):
        inst = os.path.join(TRACEFS, "instances", INSTANCE)
        self.tracefs_cleanup()
        os.mkdir(inst)
        # As large as check's ring buffer (8 MiB) in total.
        write(os.path.join(inst, "buffer_size_kb"), str(8192 // max(1, os.cpu_count())))
        write(os.path.join(inst, "options", "event-fork"), "1")
        # Every thread of the VMM (the vCPUs already run), and any it starts.
        tids = os.listdir("/proc/%d/task" % pid)
        write(os.path.join(inst, "set_event_pid"), " ".join(tids))
        for system, name in self.tps:
            write(os.path.join(inst, "events", system, name, "enable"), "1")
        return inst

    def tracefs_cleanup(self):
        """Disable our events and remove our instance (also after a failure)."""
        inst = os.path.join(TRACEFS, "instances", INSTANCE)
        if not os.path.isdir(inst):
            return
        for system, name in self.tps:
            try:
                write(os.path.join(inst, "events", system, name, "enable"), "0")
            except OSError:
                pass
        try:
            os.rmdir(inst)
        except OSError as e:
            note("could not remove %s: %s" % (inst, e))

    def tracefs_lost(self, inst):
        lost = 0
        for cpu in os.listdir(os.path.join(inst, "per_cpu")):
            for line in read(os.path.join(inst, "per_cpu", cpu, "stats")).splitlines():
                k, _, v = line.partition(":")
                if k.strip() in ("overrun", "dropped events"):
                    lost += int(v.split()[0])
        return lost

    def run_tracefs(self, tag, pid):
        inst = self.tracefs_setup(pid)
        path = os.path.join(self.out, "tracefs-%s.txt" % tag)
        p = Proc(["cat", os.path.join(inst, "trace_pipe")], path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            fds = []
            try:
                fds = [os.readlink("/proc/%d/fd/%s" % (p.pid, x))
                       for x in os.listdir("/proc/%d/fd" % p.pid)]
            except OSError:
                pass
            if any(x.endswith("trace_pipe") for x in fds):
                break
            time.sleep(0.05)
        return {"proc": p, "path": path, "inst": inst}

    def stop_tracefs(self, h):
        inst = h["inst"]
        write(os.path.join(inst, "tracing_on"), "0")
        # With tracing off, trace_pipe ends once cat has drained the buffer
        # (when cat has read anything at all); SIGTERM only if it does not.
        deadline = time.monotonic() + 5
        while h["proc"].poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        lost = self.tracefs_lost(inst)
        r = self.stop_proc(h, signal.SIGTERM)
        self.tracefs_cleanup()
        lines = 0
        with open(h["path"], "rb") as f:
            for _ in f:
                lines += 1
        r.update({"lost": lost, "events": lines, "bytes": os.path.getsize(h["path"])})
        return r

    # ---- one window with one observer attached ------------------------------------
    def observe(self, config, rep, pid):
        tag = "%s-%d" % (config, rep)
        starters = {"check": self.run_check, "record": self.run_record, "top": self.run_top,
                    "bpftrace": self.run_bpftrace, "tracefs": self.run_tracefs}
        h = starters[config](tag, pid)
        try:
            t0 = time.monotonic()
            la = loadavg()
            time.sleep(self.a.window)
            t1 = time.monotonic()
        except BaseException:
            h["proc"].kill()
            raise
        w = {"config": config, "rep": rep, "t0": t0, "t1": t1, "loadavg": la}
        try:
            self.pause_storm(pid)
            time.sleep(0.2)	# the observer drains what the last faults produced
            if config == "tracefs":
                obs = self.stop_tracefs(h)
            else:
                obs = self.stop_proc(h)
                obs["attached"] = h["attached"]
                try:
                    self.observer_result(config, h["path"], obs)
                except (RuntimeError, ValueError) as e:
                    # On a shared machine something may kill an observer: the
                    # window is reported as failed and left out, the run goes on.
                    w["failed"] = str(e).splitlines()[0][:200]
                    note("%s window %d failed: %s" % (config, rep, w["failed"]))
        finally:
            os.kill(pid, signal.SIGCONT)
        obs["path"] = h["path"]
        w["observer"] = obs
        return w

    def profile(self, configs, wl):
        """One more window per BPF observer with BPF run-time statistics on.

        Not part of the ratios (the statistics cost time themselves): it says
        how much of a fault's time the observer's programs take in the kernel,
        apart from the CPU its user space takes from everything else.
        """
        try:
            stats_fd = bpf_enable_stats()
        except OSError as e:
            self.results["pending"].append("BPF run-time profile: BPF_ENABLE_STATS: %s" % e)
            return {}
        prof = {}
        try:
            for c in configs:
                note("overhead: BPF run-time profile, %s" % c)
                tag = "%s-profile" % c
                starters = {"check": self.run_check, "record": self.run_record,
                            "top": self.run_top, "bpftrace": self.run_bpftrace}
                h = starters[c](tag, wl.pid)
                try:
                    ids = prog_ids(h["proc"].pid)
                    ns0, cnt0 = prog_run_stats(ids)
                    t0 = time.monotonic()
                    time.sleep(self.a.window)
                    t1 = time.monotonic()
                    ns1, cnt1 = prog_run_stats(ids)
                finally:
                    try:
                        self.pause_storm(wl.pid)
                        r = self.stop_proc(h)
                    finally:
                        os.kill(wl.pid, signal.SIGCONT)
                prof[c] = {"programs": len(ids), "run_ns": ns1 - ns0, "run_cnt": cnt1 - cnt0,
                           "t0": t0, "t1": t1, "cpu_s": r["cpu_s"]}
                self.storm_alive(wl)
        finally:
            os.close(stats_fd)
        return prof

    def base_window(self, rep):
        t0 = time.monotonic()
        la = loadavg()
        time.sleep(self.a.window)
        return {"config": "base", "rep": rep, "t0": t0, "t1": time.monotonic(), "loadavg": la}

    def observer_result(self, config, path, r):
        text = read(path)
        if config == "record":
            if r["status"] not in (0, 1):
                raise RuntimeError("record exited %d: %s" % (r["status"], text[-300:]))
            j = json.loads(text[text.index("{"):])
            r["file_bytes"] = j.get("bytes")
            r["records"] = j.get("records")
            # What the kernel saw and dropped is in the recording's end chunk.
            rp = subprocess.run([self.mbec, "replay", j["file"], "--json"], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            path = path + ".replay"
            write(path, rp.stdout)
            text = rp.stdout
        if config in ("check", "record"):
            try:
                j = json.loads(text[text.index("{"):])
            except ValueError:
                raise RuntimeError("%s printed no JSON summary: %s" % (config, text[:300]))
            ev = j.get("events", {})
            # Records user space writes itself (guest_pte) have no kernel
            # counters (0 or null): they are neither seen nor lost there.
            seen = sum(v.get("kernel_seen") or 0 for v in ev.values())
            rec = sum(v.get("received") or 0 for v in ev.values() if v.get("kernel_seen"))
            dropped = sum(v.get("kernel_dropped") or 0 for v in ev.values())
            # Left in the kernel by design (kvm_exit's exits other than
            # EPT/NPT faults: on a TDP MMU most of them).
            skipped = sum(v.get("kernel_skipped") or 0 for v in ev.values())
            r["events"] = seen
            r["received"] = rec
            r["skipped"] = skipped
            r["lost"] = j.get("lost_events", dropped)
            # Every loss counted: what the kernel saw is what arrived, what it
            # dropped and what it left out by design.
            r["accounted"] = (rec + dropped + skipped == seen)
            r["anomalies"] = j.get("anomalies", {}).get("total")
            if r["status"] not in (0, 1):
                raise RuntimeError("%s exited %d: %s" % (config, r["status"], text[-300:]))
        elif r["status"] not in (0, 1, -signal.SIGINT):
            raise RuntimeError("%s exited %d: %s" % (config, r["status"], text[-300:]))

    # ---- 1 + 2: overhead and lost events --------------------------------------------
    def overhead(self):
        """One storm; windows of nothing attached and of one observer alternate.

        Per repetition every observer gets one window (in rotated order),
        each preceded by a baseline window, and one baseline window closes the
        section: base c1 base c2 ... base.  An observer's ratio is its
        window's rate over the mean of the baseline windows either side, so
        what other load does to the machine over seconds cancels out.  The
        seconds an observer spends starting (loading BPF, compiling a
        script) and stopping lie outside every window.
        """
        configs = []
        for c in self.a.configs:
            if c == "base":
                continue
            if c in ("check", "record", "top") and not self.has_cmd(c):
                self.results["pending"].append("%s: 'mbecscope %s' is not in this build" % (c, c))
                continue
            if c == "bpftrace" and not shutil.which("bpftrace"):
                self.results["pending"].append("bpftrace: not installed (tools/deps.sh bench)")
                continue
            configs.append(c)
        wl = self.start_storm()
        wins = []
        try:
            for rep in range(self.a.reps):
                k = rep % max(1, len(configs))
                for c in configs[k:] + configs[:k]:
                    note("overhead: repetition %d/%d, %s" % (rep + 1, self.a.reps, c))
                    wins.append(self.base_window(rep))
                    self.storm_alive(wl)
                    wins.append(self.observe(c, rep, wl.pid))
                    self.storm_alive(wl)
            wins.append(self.base_window(self.a.reps - 1))
            self.storm_alive(wl)
            prof = self.profile([c for c in configs if c != "tracefs"], wl)
        except BaseException:
            wl.kill()
            raise
        st = self.stop_storm(wl)
        if st not in (0, -signal.SIGINT):
            raise RuntimeError("the storm workload failed (status %d): %s" %
                               (st, "".join(self.storm_text).strip()[-300:]))
        for w in wins:
            w["cpu_ns_per_fault"] = self.window_cpu(w["t0"], w["t1"])
            w["faults_per_s"] = self.window_rate(w["t0"], w["t1"])
            if w["faults_per_s"] is None:
                raise RuntimeError("the storm reported no rate during a %.1f s window; "
                                   "raise --window" % self.a.window)
        for i, w in enumerate(wins):
            if w["config"] != "base" and "failed" not in w:
                w["base_faults_per_s"] = (wins[i - 1]["faults_per_s"] +
                                          wins[i + 1]["faults_per_s"]) / 2
                w["ratio"] = w["faults_per_s"] / w["base_faults_per_s"]
                cpus = [wins[j]["cpu_ns_per_fault"] for j in (i - 1, i + 1)]
                if w["cpu_ns_per_fault"] is not None and None not in cpus:
                    w["base_cpu_ns_per_fault"] = sum(cpus) / 2
                    w["cpu_ratio"] = w["cpu_ns_per_fault"] / w["base_cpu_ns_per_fault"]
        summary = {}
        base = [w for w in wins if w["config"] == "base"]
        summary["base"] = {"faults_per_s": stats([w["faults_per_s"] for w in base]),
                           "ratio": stats([1.0])}
        cpu_base = [w["cpu_ns_per_fault"] for w in base if w["cpu_ns_per_fault"] is not None]
        if cpu_base:
            summary["base"]["cpu_ns_per_fault"] = stats(cpu_base)
            summary["base"]["cpu_ratio"] = stats([1.0])
        for c in configs:
            mine = [w for w in wins if w["config"] == c and "failed" not in w]
            failed = [w["failed"] for w in wins if w["config"] == c and "failed" in w]
            if not mine:
                self.results["pending"].append("%s: every window failed (%s)" % (c, failed[0]))
                continue
            s = {"faults_per_s": stats([w["faults_per_s"] for w in mine]),
                 "failed": failed,
                 "ratio": stats([w["ratio"] for w in mine])}
            cr = [w["cpu_ratio"] for w in mine if "cpu_ratio" in w]
            if cr:
                s["cpu_ns_per_fault"] = stats([w["cpu_ns_per_fault"] for w in mine
                                               if "cpu_ratio" in w])
                s["cpu_ratio"] = stats(cr)
            obs = [w["observer"] for w in mine]
            s["maxrss_kib"] = stats([o["maxrss_kib"] for o in obs])
            s["cpu_s"] = stats([o["cpu_s"] for o in obs])
            if "lost" in obs[0]:
                s["lost"] = [o["lost"] for o in obs]
                s["events"] = [o["events"] for o in obs]
            if "accounted" in obs[0]:
                s["accounted"] = all(o["accounted"] for o in obs)
            summary[c] = s
        summary["paired"] = self.paired(wins, configs)
        base_rate = summary["base"]["faults_per_s"]["median"]
        for p in prof.values():
            p["faults_per_s"] = self.window_rate(p["t0"], p["t1"])
            faults = (p["faults_per_s"] or 0) * (p["t1"] - p["t0"])
            p["ns_per_fault"] = p["run_ns"] / faults if faults else None
            p["runs_per_fault"] = p["run_cnt"] / faults if faults else None
            p["ns_per_run"] = p["run_ns"] / p["run_cnt"] if p["run_cnt"] else None
            # The share of a fault's time (at the baseline rate) spent in the programs.
            p["share_of_fault"] = (p["ns_per_fault"] * base_rate / 1e9
                                   if p["ns_per_fault"] is not None else None)
        configs = [c for c in configs if c in summary]
        self.results["overhead"] = {"configs": ["base"] + configs, "windows": wins,
                                    "bpf_profile": prof,
                                    "summary": summary, "storm": "".join(self.storm_text),
                                    "loadavg": stats([w["loadavg"] for w in wins])}

    @staticmethod
    def paired(wins, configs):
        """check against each other observer, repetition by repetition.

        Both were measured in the same repetition, seconds apart, each as a
        ratio to its own baseline windows: the difference of the two ratios
        leaves out what moved the machine between repetitions.  The sign
        test asks how likely check would come out ahead this often if the
        two cost the same (one-sided).
        """
        out = {}
        ratio = {}
        for w in wins:
            if "ratio" in w:
                ratio[(w["config"], w["rep"])] = w["ratio"]
        for c in configs:
            if c == "check":
                continue
            diffs = [ratio[("check", r)] - ratio[(c, r)]
                     for (cc, r) in ratio if cc == "check" and (c, r) in ratio]
            if not diffs:
                continue
            n, k = len(diffs), sum(1 for d in diffs if d > 0)
            p = sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n
            out[c] = {"n": n, "check_ahead": k, "sign_test_p": p, "diff": stats(diffs)}
        return out

    # ---- 3 + 4: replay throughput and memory ---------------------------------------
    def scale_text(self, src, dst, target):
        """Copy the text capture's event lines until there are target of them.

        Each copy's timestamps continue where the previous one ended, so the
        result reads as one longer storm of the same guest.
        """
        pat = re.compile(r"^(.*?\s)(\d+)\.(\d{6}): ")
        lines = []
        first = last = None
        with open(src, errors="replace") as f:
            for line in f:
                m = pat.match(line)
                if not m:
                    continue
                t = int(m.group(2)) * 1000000 + int(m.group(3))
                if first is None:
                    first = t
                last = t
                lines.append((m.group(1), t, line[m.end():]))
        if not lines:
            raise RuntimeError("the tracefs capture %s holds no events" % src)
        span = last - first + 1000
        n = 0
        with open(dst, "w") as f:
            copy = 0
            while n < target:
                off = copy * span
                buf = []
                for pre, t, rest in lines:
                    if n >= target:
                        break
                    t += off
                    buf.append("%s%d.%06d: %s" % (pre, t // 1000000, t % 1000000, rest))
                    n += 1
                f.write("".join(buf))
                copy += 1
        return n

    def time_replay(self, path, extra=()):
        argv = [self.mbec, "replay", path, "--json"] + list(extra)
        out = path + ".replay.json"
        t0 = time.monotonic()
        r = Proc(argv, out).finish(None, 3600)
        wall = time.monotonic() - t0
        st = r["status"]
        text = read(out)
        if st not in (0, 1):
            raise RuntimeError("replay %s exited %d: %s" % (path, st, text[-300:]))
        j = json.loads(text[text.index("{"):])
        records = j.get("records")
        if records is None:
            records = sum(v.get("received", 0) for v in j.get("events", {}).values())
        cpu = r["cpu_s"]
        return {"records": records, "wall_s": wall, "cpu_s": cpu, "maxrss_kib": r["maxrss_kib"],
                "per_cpu_s": records / cpu if cpu > 0 else None,
                "per_wall_s": records / wall if wall > 0 else None,
                "anomalies": j.get("anomalies", {}).get("total"), "status": st}

    def time_top(self, path):
        """mbectop -b driven by a recording, as fast as possible: its peak RSS."""
        out = path + ".top.txt"
        r = Proc([self.mbec, "top", "-b", "--replay", path, "--speed", "0"], out).finish(None, 3600)
        # 1: it found anomalies in the capture, which is a finding to show (the
        # replay table has the count), not a failed measurement.
        if r["status"] not in (0, 1):
            raise RuntimeError("mbectop -b --replay %s exited %d: %s" %
                               (path, r["status"], read(out)[-300:]))
        return {"cpu_s": r["cpu_s"], "maxrss_kib": r["maxrss_kib"], "status": r["status"]}

    def replay(self):
        if not self.has_cmd("replay"):
            self.results["pending"].append("replay/memory: 'mbecscope replay' is not in this build")
            return
        caps = [w for w in (self.results["overhead"] or {}).get("windows", [])
                if w["config"] == "tracefs"]
        if not caps:
            note("replay: capturing a storm with tracefs")
            wl = self.start_storm()
            try:
                caps = [self.observe("tracefs", 0, wl.pid)]
            finally:
                self.stop_storm(wl)
        cap = max(caps, key=lambda w: w["observer"]["events"])
        src = cap["observer"]["path"]
        n1 = self.a.events
        sizes = {"1x": n1, "4x": 4 * n1}
        files = {}
        for k, n in sizes.items():
            txt = os.path.join(self.out, "storm-%s.txt" % k)
            rec = os.path.join(self.out, "storm-%s.rec" % k)
            note("replay: writing %d events as ftrace text and as a recording (%s)" % (n, k))
            lines = self.scale_text(src, txt, n)
            # The recording is made by replay itself (-o): the same events, the project's writer.
            r = subprocess.run([self.mbec, "replay", txt, "--json", "-o", rec],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode not in (0, 1):
                raise RuntimeError("replay -o %s failed: %s" % (rec, r.stderr.strip()[:300]))
            files[k] = {"text": txt, "rec": rec, "lines": lines,
                        "text_bytes": os.path.getsize(txt), "rec_bytes": os.path.getsize(rec)}
        # The baseline of the codec: the 1x recording in format 1 (zlib).
        v1 = os.path.join(self.out, "storm-1x.v1.rec")
        note("replay: rewriting the 1x recording in format 1 (zlib)")
        recording_to_v1(files["1x"]["rec"], v1)
        files["1x"]["recv1"] = v1
        files["1x"]["recv1_bytes"] = os.path.getsize(v1)
        runs = []
        for rep in range(self.a.replay_reps):
            order = [("rec", "1x"), ("text", "1x"), ("rec", "4x"), ("text", "4x"),
                     ("recv1", "1x"), ("top", "1x"), ("top", "4x")]
            k = rep % len(order)
            for kind, size in order[k:] + order[:k]:
                note("replay: repetition %d/%d, %s %s" % (rep + 1, self.a.replay_reps, kind, size))
                if kind == "top":
                    r = self.time_top(files[size]["rec"])
                else:
                    r = self.time_replay(files[size][kind])
                r.update({"kind": kind, "size": size, "rep": rep, "loadavg": loadavg()})
                runs.append(r)

        def sel(kind, size):
            return [r for r in runs if r["kind"] == kind and r["size"] == size]
        summary = {}
        for kind, size in (("rec", "1x"), ("rec", "4x"), ("recv1", "1x"), ("text", "1x"),
                           ("text", "4x")):
            m = sel(kind, size)
            summary["%s-%s" % (kind, size)] = {
                "records": m[0]["records"],
                "per_cpu_s": stats([r["per_cpu_s"] for r in m]),
                "per_wall_s": stats([r["per_wall_s"] for r in m]),
                "maxrss_kib": stats([r["maxrss_kib"] for r in m]),
                "anomalies": m[0]["anomalies"]}
        # Ratios within a repetition: text import and format 1 against recording replay, and
        # the 4x recording's peak RSS against the 1x one.  The marginal rate
        # (the 3x events more of the 4x input over the CPU time they added)
        # leaves out the fixed cost of starting up.
        marginal = {"rec": [], "text": []}
        for rep in range(self.a.replay_reps):
            for kind in marginal:
                x = [r for r in sel(kind, "1x") if r["rep"] == rep][0]
                y = [r for r in sel(kind, "4x") if r["rep"] == rep][0]
                if y["cpu_s"] > x["cpu_s"]:
                    marginal[kind].append((y["records"] - x["records"]) /
                                          (y["cpu_s"] - x["cpu_s"]))
        ratio_text = []
        ratio_v1 = []
        rss_growth = {"rec": [], "text": [], "top": []}
        for rep in range(self.a.replay_reps):
            a = [r for r in sel("rec", "1x") if r["rep"] == rep][0]
            b = [r for r in sel("text", "1x") if r["rep"] == rep][0]
            c = [r for r in sel("recv1", "1x") if r["rep"] == rep][0]
            if a["per_cpu_s"] and b["per_cpu_s"]:
                ratio_text.append(b["per_cpu_s"] / a["per_cpu_s"])
            if a["per_cpu_s"] and c["per_cpu_s"]:
                ratio_v1.append(c["per_cpu_s"] / a["per_cpu_s"])
            for kind in rss_growth:
                x = [r for r in sel(kind, "1x") if r["rep"] == rep][0]
                y = [r for r in sel(kind, "4x") if r["rep"] == rep][0]
                rss_growth[kind].append(y["maxrss_kib"] / x["maxrss_kib"])
        self.results["replay"] = {"source": {"capture": src, "capture_events":
                                             cap["observer"]["events"],
                                             "capture_lost": cap["observer"]["lost"]},
                                  "files": files, "runs": runs, "summary": summary,
                                  "text_vs_rec": stats(ratio_text),
                                  "v1_vs_rec": stats(ratio_v1),
                                  "marginal_per_cpu_s": {k: stats(v) for k, v in marginal.items()},
                                  "loadavg": stats([r["loadavg"] for r in runs])}
        self.results["memory"] = {"rss_4x_vs_1x": {k: stats(v) for k, v in rss_growth.items()},
                                  "top_replay_kib": {size: stats([r["maxrss_kib"] for r in
                                                                  sel("top", size)])
                                                     for size in sizes}}
        if not self.a.keep:	# hundreds of MB of text: gone unless asked for
            for f in files.values():
                for k in ("text", "rec", "recv1"):
                    if k in f:
                        os.unlink(f[k])

    # ---- 5: trace.dat against trace-cmd report ---------------------------------
    def time_report(self, path):
        """trace-cmd report FILE >/dev/null: CPU time and peak RSS."""
        out = path + ".report.txt"
        r = Proc(["/bin/sh", "-c", 'exec trace-cmd report "$0" >/dev/null', path],
                 out).finish(None, 3600)
        if r["status"] != 0:
            raise RuntimeError("trace-cmd report %s exited %d: %s" %
                               (path, r["status"], read(out)[-300:]))
        return {"cpu_s": r["cpu_s"], "maxrss_kib": r["maxrss_kib"]}

    def tracedat(self):
        caps = [w for w in (self.results["overhead"] or {}).get("windows", [])
                if w["config"] == "tracefs"]
        if caps:
            src = max(caps, key=lambda w: w["observer"]["events"])["observer"]["path"]
            what = "the overhead section's tracefs capture of the storm"
        else:
            src = os.path.join(self.out, "workload-capture.trace")
            with open(src, "wb") as f:
                f.write(subprocess.run(["gzip", "-dc", os.path.join(
                    ROOT, "tests/golden/fixtures/workload-capture.trace.gz")],
                    stdout=subprocess.PIPE, check=True).stdout)
            what = "tests/golden/fixtures/workload-capture.trace.gz (check --workload)"
        n1 = self.a.tracedat_events
        files = {}
        for k, n in (("1x", n1), ("4x", 4 * n1)):
            dat = os.path.join(self.out, "td-%s.dat" % k)
            note("tracedat: writing %d events as a trace.dat (%s)" % (n, k))
            r = subprocess.run([sys.executable, os.path.join(ROOT, "tools/text2tracedat.py"),
                                src, dat, "--events", str(n)], stderr=subprocess.PIPE, text=True)
            if r.returncode:
                raise RuntimeError("text2tracedat %s: %s" % (src, r.stderr.strip()[-300:]))
            files[k] = {"dat": dat, "events": n, "bytes": os.path.getsize(dat)}
        runs = []
        for rep in range(self.a.replay_reps):
            order = [("replay", "1x"), ("report", "1x"), ("replay", "4x"), ("report", "4x")]
            k = rep % len(order)
            for kind, size in order[k:] + order[:k]:
                note("tracedat: repetition %d/%d, %s %s" % (rep + 1, self.a.replay_reps, kind,
                                                            size))
                if kind == "replay":
                    r = self.time_replay(files[size]["dat"])
                else:
                    r = self.time_report(files[size]["dat"])
                    r["per_cpu_s"] = files[size]["events"] / r["cpu_s"] if r["cpu_s"] else None
                r.update({"kind": kind, "size": size, "rep": rep, "loadavg": loadavg()})
                runs.append(r)

        def one(kind, size, rep):
            return [r for r in runs if r["kind"] == kind and r["size"] == size and
                    r["rep"] == rep][0]
        summary = {}
        for kind in ("replay", "report"):
            for size in ("1x", "4x"):
                m = [r for r in runs if r["kind"] == kind and r["size"] == size]
                summary["%s-%s" % (kind, size)] = {
                    "cpu_s": stats([r["cpu_s"] for r in m]),
                    "per_cpu_s": stats([r["per_cpu_s"] for r in m]),
                    "maxrss_kib": stats([r["maxrss_kib"] for r in m]),
                    "anomalies": m[0].get("anomalies")}
        speedup = {size: stats([one("report", size, rep)["cpu_s"] / one("replay", size, rep)["cpu_s"]
                                for rep in range(self.a.replay_reps)]) for size in ("1x", "4x")}
        rss = {kind: stats([one(kind, "4x", rep)["maxrss_kib"] / one(kind, "1x", rep)["maxrss_kib"]
                            for rep in range(self.a.replay_reps)]) for kind in ("replay", "report")}
        self.results["tracedat"] = {"source": what, "files": files, "runs": runs,
                                    "summary": summary, "speedup": speedup, "rss_4x_vs_1x": rss,
                                    "loadavg": stats([r["loadavg"] for r in runs])}
        if not self.a.keep:
            for f in files.values():
                os.unlink(f["dat"])

    # ---- progcost: the programs' time per run against the floor ---------------------
    def progcost(self):
        exe = self.a.progcost or os.path.join(os.path.dirname(self.mbec), "progcost")
        if not os.access(exe, os.X_OK):
            raise RuntimeError("no %s; run: make" % exe)
        runs = []
        for rep in range(self.a.progcost_reps):
            r = subprocess.run([exe, "testrun", "--runs", str(self.a.progcost_runs)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                raise RuntimeError("progcost testrun: %s" % (r.stderr.strip() or r.returncode))
            runs.append(json.loads(r.stdout))
            note("progcost: repetition %d of %d" % (rep + 1, self.a.progcost_reps))
        summ = {}
        for kind in ("filtered", "wanted"):
            summ[kind] = {}
            for prog in runs[0][kind]:
                rows = [r[kind][prog] for r in runs if r[kind][prog]["runs"]]
                if not rows:
                    continue
                summ[kind][prog] = {
                    "ns_per_run": stats([x["ns_per_run"] for x in rows]),
                    "floor_ns_per_run": stats([x["floor_ns_per_run"] for x in rows]),
                    "ratio": stats([x["ns_per_run"] / x["floor_ns_per_run"] for x in rows
                                    if x["floor_ns_per_run"]])}
        self.results["progcost"] = {"runs": runs, "summary": summ,
                                    "pointer": runs[0]["pointer"],
                                    "rounds": self.a.progcost_runs,
                                    "loadavg": loadavg()}

    def labcost(self):
        d = self.a.lab_dir
        wins = []
        try:
            for line in read(os.path.join(d, "progcost.out")).splitlines():
                if line.strip():
                    wins.append(json.loads(line))
        except (OSError, ValueError) as e:
            raise RuntimeError("--lab-dir %s: no progcost.out of a lab run with --steps "
                               "progcost (%s)" % (d, e))
        info = {}
        for f in ("uname.txt", "kvm.txt", "run.txt"):
            try:
                info[f] = read(os.path.join(d, f)).strip()
            except OSError:
                info[f] = ""
        self.results["labcost"] = {"dir": d, "windows": wins, "info": info}

    def figures_progcost(self, o):
        P = self.results["progcost"]
        if P:
            o.append("")
            o.append("### 6. In-kernel cost per program run (BPF_PROG_TEST_RUN)")
            o.append("")
            o.append("tools/progcost testrun, %d rounds a repetition, %d repetitions (medians); "
                     "pointer arguments point at %s.  Each raw_tp program is run on synthetic "
                     "arguments and followed by a floor program of its own (the pid filter and "
                     "return), as often: the ratio is the program's time per run over its "
                     "floor's.  A round is a shadow-paging fault (walk, 4 paging elements, "
                     "SPTE request, SPTE write), every other program once, a TDP change to a "
                     "present SPTE and (watch's programs) one to 0.  Load average %.1f." %
                     (P["rounds"], len(P["runs"]), P["pointer"], P["loadavg"]))
            table_head(o, None, ["program (raw_tp)", "filtered out: ns/run", "floor ns/run",
                                 "ratio", "wanted: ns/run", "floor ns/run", "ratio"])
            S = P["summary"]
            for prog in S["wanted"]:
                f = S["filtered"].get(prog)
                w = S["wanted"][prog]
                fcol = ("%.0f | %.0f | %.2f" % (f["ns_per_run"]["median"],
                                                f["floor_ns_per_run"]["median"],
                                                f["ratio"]["median"])) if f else "- | - | -"
                o.append("| %s | %s | %.0f | %.0f | %.2f |" %
                         (prog, fcol, w["ns_per_run"]["median"],
                          w["floor_ns_per_run"]["median"], w["ratio"]["median"]))
        L = self.results["labcost"]
        if not L:
            return
        o.append("")
        o.append("### 7. In-kernel cost while the storm runs in the lab")
        o.append("")
        o.append("%s; L1 kernel %s; %s.  tools/progcost live, one window each, the storm "
                 "running throughout (TCG: absolute times mean nothing, ratios in the same "
                 "run do)." % (L["info"]["run.txt"].split(" ")[0] if L["info"]["run.txt"]
                               else "lab", L["info"]["uname.txt"],
                               L["info"]["kvm.txt"].replace("\n", ", ")))
        floor = next((w for w in L["windows"] if w["use"] == "floor"), None)
        fl_ns = floor["programs"]["floor"]["ns"] / floor["programs"]["floor"]["runs"] \
            if floor and floor["programs"]["floor"]["runs"] else 0
        table_head(o, None, ["window", "programs attached", "runs/s", "faults/s",
                             "runs per fault", "ns per run", "ratio to floor",
                             "cost per fault (floor runs)", "records per fault"])
        for w in L["windows"]:
            progs = w["programs"]
            runs = sum(p["runs"] for p in progs.values())
            ns = sum(p["ns"] for p in progs.values())
            nattached = progs["floor"]["tracepoints"] if w["use"] == "floor" else \
                len(progs)
            faults = max(w.get("faults", 0), w.get("exits_faults", 0))
            emitted = sum(c[1] for c in w.get("counters", {}).values())
            name = "floor program" if w["use"] == "floor" else \
                ("%s, filtered out (pid %d)" % (w["use"], w["pid"]) if not faults else w["use"])
            o.append("| %s | %d | %.0f | %s | %s | %.0f | %s | %s | %s |" % (
                name, nattached, runs / w["seconds"],
                "%.0f" % (faults / w["seconds"]) if faults else "-",
                "%.1f" % (runs / faults) if faults else "-",
                ns / runs if runs else 0,
                "%.2f" % (ns / runs / fl_ns) if runs and fl_ns else "-",
                "%.1f" % (ns / faults / fl_ns) if faults and fl_ns else "-",
                "%.2f" % (emitted / faults) if faults else "-"))
        per = [w for w in L["windows"] if w["use"] not in ("floor",) and
               max(w.get("faults", 0), w.get("exits_faults", 0))]
        if per:
            o.append("")
            o.append("A fault is a kvm_page_fault (an NPF or EPT violation exit) when the "
                     "kernel fires them, else a kvm_mmu_spte_requested.  Runs per fault by "
                     "program:")
            names = []
            for w in per:
                for k in w["programs"]:
                    if k not in names:
                        names.append(k)
            table_head(o, None, ["window"] + names)
            for w in per:
                faults = max(w.get("faults", 0), w.get("exits_faults", 0))
                o.append("| %s | %s |" % (w["use"], " | ".join(
                    ("%.2f (%.1f)" % (w["programs"][k]["runs"] / faults,
                                      w["programs"][k]["ns"] / w["programs"][k]["runs"] / fl_ns
                                      if w["programs"][k]["runs"] and fl_ns else 0))
                    if k in w["programs"] else "-" for k in names)))
            o.append("")
            o.append("Each cell: runs per fault (ns per run as a ratio to the floor program's).")

    def figures_tracedat(self, o):
        T = self.results["tracedat"]
        if not T:
            return
        S, F = T["summary"], T["files"]
        o.append("")
        o.append("### 5. trace.dat: mbecscope replay against trace-cmd report")
        o.append("")
        o.append("Source: %s, repeated with shifted timestamps and written as trace.dat (format "
                 "6) by tools/text2tracedat.py: %d events (%.1f MiB) and %d (%.1f MiB).  Each "
                 "repetition runs `mbecscope replay FILE --json` (the full checks) and "
                 "`trace-cmd report FILE >/dev/null` on the same files.  Load average: median "
                 "%.1f." % (T["source"], F["1x"]["events"], F["1x"]["bytes"] / 2 ** 20,
                            F["4x"]["events"], F["4x"]["bytes"] / 2 ** 20,
                            T["loadavg"]["median"]))
        table_head(o, None, ["input", "events", "replay CPU s", "replay events per CPU s",
                             "trace-cmd report CPU s", "report events per CPU s",
                             "report / replay CPU median", "min", "max", "replay peak RSS",
                             "report peak RSS", "anomalies"])
        for size in ("1x", "4x"):
            a, b, r = S["replay-" + size], S["report-" + size], T["speedup"][size]
            o.append("| trace.dat %s | %d | %.2f | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f | "
                     "%.1f MiB | %.1f MiB | %s |" %
                     (size, F[size]["events"], a["cpu_s"]["median"], a["per_cpu_s"]["median"],
                      b["cpu_s"]["median"], b["per_cpu_s"]["median"], r["median"], r["min"],
                      r["max"], a["maxrss_kib"]["median"] / 1024,
                      b["maxrss_kib"]["median"] / 1024, a["anomalies"]))
        g = T["rss_4x_vs_1x"]
        o.append("")
        o.append("Peak RSS, 4x events against 1x (same repetition): replay median %.3f (min "
                 "%.3f, max %.3f); trace-cmd report median %.3f." %
                 (g["replay"]["median"], g["replay"]["min"], g["replay"]["max"],
                  g["report"]["median"]))

    # ---- report ------------------------------------------------------------------
    def figures(self):
        R = self.results
        m = R["machine"]
        o = []
        o.append("Machine: %s, %s CPUs (%s), %d MiB, Linux %s, %s. Run %s." %
                 (m["host"], m["cpus"], m["cpu"], m["mem_mib"], m["kernel"], m["kvm"], m["date"]))
        a = self.a
        quick = " (QUICK: a smoke run, not figures)" if a.quick else ""
        o.append("Settings: %d repetitions, %.1f s windows, storm with %d vCPU; replay %d "
                 "repetitions, %d and %d events%s." %
                 (a.reps, a.window, a.vcpus, a.replay_reps, a.events, 4 * a.events, quick))
        ov = R["overhead"]
        if ov:
            la = ov["loadavg"]
            o.append("")
            o.append("### 1. Live overhead (storm faults/s, ratio to the baseline of the same "
                     "repetition)")
            o.append("")
            o.append("Load average (1 min) during the runs: median %.1f, min %.1f, max %.1f." %
                     (la["median"], la["min"], la["max"]))
            table_head(o, None, ["configuration", "faults/s median", "ratio median", "min",
                                 "max", "overhead (1 - median)", "observer CPU s",
                                 "observer peak RSS"])
            for c in ov["configs"]:
                s = ov["summary"][c]
                cpu = "%.2f" % s["cpu_s"]["median"] if "cpu_s" in s else "-"
                rss = "%.1f MiB" % (s["maxrss_kib"]["median"] / 1024) if "maxrss_kib" in s else "-"
                o.append("| %s | %.0f | %.3f | %.3f | %.3f | %.1f%% | %s | %s |" %
                         (LABEL.get(c, c), s["faults_per_s"]["median"], s["ratio"]["median"],
                          s["ratio"]["min"], s["ratio"]["max"],
                          100 * (1 - s["ratio"]["median"]), cpu, rss))
            if any("cpu_ratio" in ov["summary"][c] for c in ov["configs"]):
                table_head(o, "The same windows seen from the vCPU thread: the CPU time each "
                           "fault cost it (the storm reads its threads' CPU clocks every "
                           "second), as a ratio to the baseline windows either side.  Other "
                           "work on the machine moves faults/s but hardly this; an observer's "
                           "work in the tracepoints lands here.",
                           ["configuration", "CPU ns per fault median", "ratio median", "min",
                            "max", "added cost (median - 1)"])
                for c in ov["configs"]:
                    s = ov["summary"][c]
                    if "cpu_ratio" not in s:
                        continue
                    o.append("| %s | %.0f | %.3f | %.3f | %.3f | %.1f%% |" %
                             (LABEL.get(c, c), s["cpu_ns_per_fault"]["median"],
                              s["cpu_ratio"]["median"], s["cpu_ratio"]["min"],
                              s["cpu_ratio"]["max"], 100 * (s["cpu_ratio"]["median"] - 1)))
            pair = ov["summary"].get("paired") or {}
            if pair:
                table_head(o, "check against the others, repetition by repetition (check's "
                           "ratio minus the other's, in the same repetition; positive: check "
                           "cost less). p: the chance of check coming out ahead that often if "
                           "both cost the same (one-sided sign test).",
                           ["against", "check ahead", "difference median", "min", "max", "p"])
                for c, q in pair.items():
                    o.append("| %s | %d of %d | %+.3f | %+.3f | %+.3f | %.3f |" %
                             (LABEL.get(c, c), q["check_ahead"], q["n"], q["diff"]["median"],
                              q["diff"]["min"], q["diff"]["max"], q["sign_test_p"]))
            for c in ov["configs"]:
                for why in ov["summary"][c].get("failed", []):
                    o.append("")
                    o.append("A window of %s failed and is left out: %s" % (LABEL.get(c, c), why))
            prof = ov.get("bpf_profile") or {}
            if prof:
                table_head(o, "In-kernel cost of the observers' BPF programs (one extra window "
                           "each with BPF run-time statistics on, not part of the ratios above):",
                           ["configuration", "programs", "runs per fault", "ns per run",
                            "ns per fault", "share of a fault's time at the baseline rate"])
                for c, p in prof.items():
                    o.append("| %s | %d | %s | %s | %s | %s |" %
                             (LABEL.get(c, c), p["programs"],
                              "-" if p["runs_per_fault"] is None else "%.1f" % p["runs_per_fault"],
                              "-" if p["ns_per_run"] is None else "%.0f" % p["ns_per_run"],
                              "-" if p["ns_per_fault"] is None else "%.0f" % p["ns_per_fault"],
                              "-" if p["share_of_fault"] is None else
                              "%.1f%%" % (100 * p["share_of_fault"])))
            o.append("")
            o.append("### 2. Lost events at the storm rate")
            o.append("")
            o.append("| configuration | events per run (kernel saw) | lost per run | "
                     "every loss counted |")
            o.append("|---|---|---|---|")
            for c in ov["configs"]:
                s = ov["summary"][c]
                if "lost" not in s:
                    continue
                acc = {True: "yes", False: "NO"}.get(s.get("accounted"), "(trace_pipe lines)")
                o.append("| %s | %s | %s | %s |" % (LABEL.get(c, c),
                                                    ", ".join(str(x) for x in s["events"]),
                                                    ", ".join(str(x) for x in s["lost"]), acc))
        rp = R["replay"]
        if rp:
            o.append("")
            o.append("### 3. Replay throughput (records per CPU second, one thread)")
            o.append("")
            o.append("Source: a tracefs capture of the storm (%d lines, %d lost), repeated "
                     "with shifted timestamps; the recording is `replay -o` of that text. "
                     "Load average: median %.1f." % (rp["source"]["capture_events"],
                                                     rp["source"]["capture_lost"],
                                                     rp["loadavg"]["median"]))
            table_head(o, None, ["input", "records", "per CPU-s median", "min", "max",
                                 "per wall-s median", "peak RSS median", "anomalies"])
            for k, s in rp["summary"].items():
                kind, size = k.split("-")
                name = {"rec": "recording ", "recv1": "recording, format 1 (zlib), ",
                        "text": "ftrace text "}[kind] + size
                o.append("| %s | %d | %s | %s | %s | %s | %s MiB | %s |" %
                         (name, s["records"], f0(s["per_cpu_s"]), f0(s["per_cpu_s"], "min"),
                          f0(s["per_cpu_s"], "max"), f0(s["per_wall_s"]),
                          f0(s["maxrss_kib"], scale=1 / 1024, fmt="%.1f"), s["anomalies"]))
            t = rp["text_vs_rec"]
            mg = rp["marginal_per_cpu_s"]
            o.append("")
            o.append("Marginal rate (the 3x more events of the 4x input over the CPU time they "
                     "added, so without start-up): recording median %s (min %s, max %s); "
                     "ftrace text median %s (min %s, max %s) records per CPU second." %
                     (f0(mg["rec"]), f0(mg["rec"], "min"), f0(mg["rec"], "max"),
                      f0(mg["text"]), f0(mg["text"], "min"), f0(mg["text"], "max")))
            o.append("")
            o.append("Text import against recording replay (1x, same repetition): median "
                     "%s, min %s, max %s." % (f0(t, fmt="%.3f"), f0(t, "min", fmt="%.3f"),
                                              f0(t, "max", fmt="%.3f")))
            v = rp.get("v1_vs_rec")
            f1 = rp["files"]["1x"]
            if v:
                o.append("")
                o.append("Format 1 (zlib) against format 2 (zstd), the same 1x records in the "
                         "same repetition: replay speed ratio median %s (min %s, max %s); "
                         "file size %.1f MiB against %.1f MiB (%.2f times)." %
                         (f0(v, fmt="%.3f"), f0(v, "min", fmt="%.3f"), f0(v, "max", fmt="%.3f"),
                          f1["recv1_bytes"] / 2**20, f1["rec_bytes"] / 2**20,
                          f1["recv1_bytes"] / f1["rec_bytes"]))
        mem = R["memory"]
        if mem:
            o.append("")
            o.append("### 4. Memory")
            o.append("")
            g = mem["rss_4x_vs_1x"]
            o.append("Replay peak RSS, 4x events against 1x (same repetition): recording "
                     "median %.3f (min %.3f, max %.3f); ftrace text median %.3f (min %.3f, "
                     "max %.3f)." % (g["rec"]["median"], g["rec"]["min"], g["rec"]["max"],
                                     g["text"]["median"], g["text"]["min"], g["text"]["max"]))
            t = mem["top_replay_kib"]
            o.append("mbectop -b --replay on the recordings (as fast as possible): peak RSS "
                     "median %.1f MiB at 1x, %.1f MiB at 4x; 4x against 1x median %.3f "
                     "(min %.3f, max %.3f)." % (t["1x"]["median"] / 1024, t["4x"]["median"] / 1024,
                                                g["top"]["median"], g["top"]["min"],
                                                g["top"]["max"]))
            if ov:
                for c in ("check", "record", "top"):
                    s = ov["summary"].get(c)
                    if s:
                        o.append("Peak RSS of %s during the storm: median %.1f MiB (min %.1f, "
                                 "max %.1f)." % (LABEL.get(c, c), s["maxrss_kib"]["median"] / 1024,
                                                 s["maxrss_kib"]["min"] / 1024,
                                                 s["maxrss_kib"]["max"] / 1024))
        self.figures_tracedat(o)
        self.figures_progcost(o)
        if R["pending"]:
            o.append("")
            o.append("Not measured in this run: " + "; ".join(R["pending"]) + ".")
        return "\n".join(o) + "\n"


LABEL = {"base": "nothing attached (baseline)", "check": "mbecscope check",
         "record": "mbecscope record", "top": "mbectop -b", "bpftrace": "bpftrace (count)",
         "tracefs": "tracefs -> file"}


def main():
    ap = argparse.ArgumentParser(description="mbecscope benchmarks (see bench/RESULTS.md)")
    ap.add_argument("--mbecscope", default=os.path.join(ROOT, "build", "mbecscope"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 repetition, 2.5 s windows, small replay inputs")
    ap.add_argument("--reps", type=int, help="overhead repetitions (default 10)")
    ap.add_argument("--window", type=float, help="seconds each configuration is measured "
                    "(default 3, at least 2)")
    ap.add_argument("--vcpus", type=int, default=1)
    ap.add_argument("--replay-reps", type=int, help="replay repetitions (default 3)")
    ap.add_argument("--events", type=int, help="events in the shorter replay input "
                    "(default 1000000; the longer one has 4 times as many)")
    ap.add_argument("--configs", default="base,check,record,top,bpftrace,tracefs",
                    help="overhead configurations, comma-separated")
    ap.add_argument("--keep", action="store_true",
                    help="keep the replay inputs (the 4x text is hundreds of MB)")
    ap.add_argument("--only", default="overhead,replay,tracedat",
                    help="sections: overhead, replay (replay includes memory), tracedat, "
                    "progcost (these two alone need no /dev/kvm)")
    ap.add_argument("--progcost", help="the tools/progcost binary (default: beside "
                    "--mbecscope)")
    ap.add_argument("--progcost-runs", type=int, help="progcost rounds a repetition "
                    "(default 20000)")
    ap.add_argument("--progcost-reps", type=int, help="progcost repetitions (default 5)")
    ap.add_argument("--lab-dir", help="a lab run's directory (lab/run.sh --steps progcost): "
                    "its figures go with the progcost section")
    ap.add_argument("--tracedat-events", type=int, help="events in the shorter trace.dat "
                    "(default 1000000; the longer one has 4 times as many)")
    a = ap.parse_args()
    q = a.quick
    a.reps = a.reps or (1 if q else 10)
    a.window = a.window or (2.5 if q else 3.0)
    a.replay_reps = a.replay_reps or (1 if q else 3)
    a.events = a.events or (50000 if q else 1000000)
    a.tracedat_events = a.tracedat_events or (20000 if q else 1000000)
    a.progcost_runs = a.progcost_runs or (2000 if q else 20000)
    a.progcost_reps = a.progcost_reps or (1 if q else 5)
    a.configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    a.only = [c.strip() for c in a.only.split(",") if c.strip()]
    for c in a.configs:
        if c not in LABEL:
            die("unknown configuration '%s' (%s)" % (c, ", ".join(LABEL)))
    for s in a.only:
        if s not in ("overhead", "replay", "tracedat", "progcost"):
            die("unknown section '%s' (overhead, replay, tracedat, progcost)" % s)
    if a.reps < 1 or a.replay_reps < 1 or a.events < 1 or a.vcpus < 1:
        die("--reps, --replay-reps, --events and --vcpus want positive numbers")
    if a.window < 2:
        die("--window wants at least 2 seconds (the storm reports its rate once a second)")

    b = Bench(a)
    b.check_env()
    try:
        if "overhead" in a.only:
            b.overhead()
        if "replay" in a.only:
            b.replay()
        if "tracedat" in a.only:
            b.tracedat()
        if "progcost" in a.only:
            b.progcost()
            if a.lab_dir:
                b.labcost()
    except RuntimeError as e:
        die(str(e))
    finally:
        b.tracefs_cleanup()
    with open(os.path.join(b.out, "results.json"), "w") as f:
        json.dump(b.results, f, indent=1)
    fig = b.figures()
    write(os.path.join(b.out, "figures.md"), fig)
    print(fig, end="")
    print("bench: raw results in %s/results.json, tables in %s/figures.md" % (b.out, b.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
