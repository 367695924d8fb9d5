#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mbecscope benchmarks: what the tool costs against what users would use instead.

Run by `make bench` (see bench/RESULTS.md for what each figure means):

  overhead  the built-in guest in storm mode (`mbecscope workload --pattern
            storm`), faults per second with nothing attached (the baseline)
            and with each observer attached: `mbecscope check`, `mbecscope
            record`, `mbectop -b`, a bpftrace script counting the same
            tracepoints, and the same tracefs events streamed from trace_pipe
            into a file.  Configurations are interleaved within every
            repetition (rotated, so none always runs first) and each figure is
            the ratio to the baseline of the same repetition.  Events lost by
            check, record and tracefs are counted in the same runs.
  replay    events per second (one process, one thread) replaying a
            recording and importing the same events as ftrace text.
  memory    peak RSS of check and top (from the overhead runs) and of replay
            on recordings of two lengths (N and 4N events), as a ratio.

Everything goes to --out (default build/bench): results.json (every run, raw),
figures.md (the tables), and the files the runs made.  Needs root, /dev/kvm,
BPF and tracefs; bpftrace for its configuration (tools/deps.sh bench).
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
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


def wait_rusage(pid, timeout=None):
    """Reap a child, returning its exit status (-signal when it died of one)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        flags = 0 if deadline is None else os.WNOHANG
        wpid, status = os.waitpid(pid, flags)
        if wpid == pid:
            if os.WIFSIGNALED(status):
                return -os.WTERMSIG(status)
            return os.WEXITSTATUS(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = None
        time.sleep(0.05)


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
            if self.outer.poll() is not None:
                break
            time.sleep(0.01)
        if self.pid is None:
            self.pid = -1

    def poll(self):
        return self.outer.poll()

    def kill(self):
        if self.pid > 0 and self.outer.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self.outer.wait()

    def finish(self, sig=None, timeout=60):
        """Signal the command (unless sig is None), wait, return status, peak RSS, CPU time."""
        if sig is not None and self.outer.poll() is None and self.pid > 0:
            try:
                os.kill(self.pid, sig)
            except OSError:
                pass
        # wait4 on time(1) reports its reaped child's CPU time too, in
        # microseconds (time(1) itself prints hundredths).
        deadline = time.monotonic() + timeout
        while True:
            wpid, status, ru = os.wait4(self.outer.pid, os.WNOHANG)
            if wpid == self.outer.pid:
                break
            if time.monotonic() > deadline and self.pid > 0:
                os.kill(self.pid, signal.SIGKILL)
            time.sleep(0.02)
        st = self.outer.returncode = os.waitstatus_to_exitcode(status)
        lines = read(self.ru_path).strip().splitlines()
        m = re.search(r"terminated by signal (\d+)", lines[0]) if lines else None
        if m:
            st = -int(m.group(1))
        rss = lines[-1].split()[0]
        return {"status": st, "maxrss_kib": int(rss), "cpu_s": ru.ru_utime + ru.ru_stime}


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


def tracepoints():
    """(system, name) of every tracepoint bpf/mbecscope.bpf.c attaches to."""
    with open(os.path.join(ROOT, "bpf", "mbecscope.bpf.c")) as f:
        names = re.findall(r"^MBECS_PROGS\(\w+,\s*(\w+)\)", f.read(), re.M)
    out = []
    for n in names:
        for system in ("kvmmmu", "kvm"):
            if os.path.isdir(os.path.join(TRACEFS, "events", system, n)):
                out.append((system, n))
                break
    return out


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
                        "replay": None, "memory": None, "pending": []}
        self.tps = tracepoints()

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
        tdp = "?"
        for m in ("kvm_intel", "kvm_amd"):
            for p in ("ept", "npt"):
                try:
                    tdp = "%s.%s=%s" % (m, p, read("/sys/module/%s/parameters/%s" % (m, p)).strip())
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
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            die("cannot open /dev/kvm read-write; load kvm_intel or kvm_amd")
        if not os.path.isdir(os.path.join(TRACEFS, "events")):
            r = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS])
            if r.returncode != 0:
                die("tracefs is not mounted; run: mount -t tracefs nodev " + TRACEFS)
        if not self.tps:
            die("no KVM MMU tracepoints under %s/events; is KVM built in or loaded?" % TRACEFS)
        os.makedirs(self.out, exist_ok=True)

    # ---- the storm workload, held until the observer is attached ----------------
    def spawn_workload(self, tag):
        """Start the storm, blocked on a FIFO; exec keeps the pid the observers filter on."""
        fifo = os.path.join(self.out, "go.fifo")
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo)
        out = open(os.path.join(self.out, "workload-%s.json" % tag), "w")
        p = subprocess.Popen(["sh", "-c", 'read _ < "$0" && exec "$@"', fifo, self.mbec,
                              "workload", "--pattern", "storm", "--vcpus", str(self.a.vcpus),
                              "--duration", str(self.a.duration), "--json"],
                             stdout=out, stderr=subprocess.STDOUT)
        out.close()
        return p, fifo

    def release_workload(self, fifo):
        with open(fifo, "w") as f:
            f.write("go\n")
        os.unlink(fifo)

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
        write(os.path.join(inst, "set_event_pid"), str(pid))
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
        time.sleep(0.3)	# let cat drain what is left in the buffer
        lost = self.tracefs_lost(inst)
        r = self.stop_proc(h, signal.SIGTERM)
        self.tracefs_cleanup()
        lines = 0
        with open(h["path"], "rb") as f:
            for _ in f:
                lines += 1
        r.update({"lost": lost, "events": lines, "bytes": os.path.getsize(h["path"])})
        return r

    # ---- one storm run with one observer ------------------------------------------
    def one_run(self, config, rep):
        tag = "%s-%d" % (config, rep)
        la = loadavg()
        wl, fifo = self.spawn_workload(tag)
        h = None
        try:
            if config == "check":
                h = self.run_check(tag, wl.pid)
            elif config == "record":
                h = self.run_record(tag, wl.pid)
            elif config == "top":
                h = self.run_top(tag, wl.pid)
            elif config == "bpftrace":
                h = self.run_bpftrace(tag, wl.pid)
            elif config == "tracefs":
                h = self.run_tracefs(tag, wl.pid)
            self.release_workload(fifo)
            st = wait_rusage(wl.pid, self.a.duration + 120)
            wl.returncode = st
        except BaseException:
            if wl.poll() is None:
                wl.kill()
                wl.wait()
            if h:
                h["proc"].kill()
            raise
        res = {"config": config, "rep": rep, "loadavg": la}
        if h is not None:
            time.sleep(0.2)	# the observer drains what the last faults produced
            if config == "tracefs":
                res["observer"] = self.stop_tracefs(h)
            else:
                res["observer"] = self.stop_proc(h)
                res["observer"]["attached"] = h["attached"]
                self.observer_result(config, h["path"], res["observer"])
        wtext = read(os.path.join(self.out, "workload-%s.json" % tag))
        if st != 0:
            raise RuntimeError("storm workload (%s) failed with status %d: %s" %
                               (config, st, wtext.strip()[:300]))
        w = json.loads(wtext)
        res["faults_per_s"] = w["faults_per_s"]
        res["faults"] = w["faults"]
        res["kvm_pf_fixed"] = w.get("kvm_stats", {}).get("pf_fixed")
        return res

    def observer_result(self, config, path, r):
        text = read(path)
        if config in ("check", "record"):
            try:
                j = json.loads(text[text.index("{"):])
            except ValueError:
                raise RuntimeError("%s printed no JSON summary: %s" % (config, text[:300]))
            ev = j.get("events", {})
            seen = sum(v.get("kernel_seen", 0) for v in ev.values())
            rec = sum(v.get("received", 0) for k, v in ev.items() if v.get("kernel_seen", 0))
            dropped = sum(v.get("kernel_dropped", 0) for v in ev.values())
            r["events"] = seen
            r["received"] = rec
            r["lost"] = j.get("lost_events", dropped)
            # Every loss counted: what the kernel saw is what arrived plus what it dropped.
            r["accounted"] = (rec + dropped == seen)
            r["anomalies"] = j.get("anomalies", {}).get("total")
            if config == "record":
                r["file_bytes"] = j.get("bytes")
            if r["status"] not in (0, 1):
                raise RuntimeError("%s exited %d: %s" % (config, r["status"], text[-300:]))
        elif r["status"] not in (0, 1, -signal.SIGINT):
            raise RuntimeError("%s exited %d: %s" % (config, r["status"], text[-300:]))

    # ---- 1 + 2: overhead and lost events --------------------------------------------
    def overhead(self):
        configs = ["base"]
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
        runs = []
        for rep in range(self.a.reps):
            k = rep % len(configs)
            order = configs[k:] + configs[:k]
            for c in order:
                note("overhead: repetition %d/%d, %s" % (rep + 1, self.a.reps, c))
                runs.append(self.one_run(c, rep))
        summary = {}
        for c in configs:
            mine = [r for r in runs if r["config"] == c]
            ratios = []
            for r in mine:
                base = [b for b in runs if b["config"] == "base" and b["rep"] == r["rep"]][0]
                ratios.append(r["faults_per_s"] / base["faults_per_s"])
            s = {"faults_per_s": stats([r["faults_per_s"] for r in mine]),
                 "ratio": stats(ratios)}
            obs = [r["observer"] for r in mine if "observer" in r]
            if obs:
                s["maxrss_kib"] = stats([o["maxrss_kib"] for o in obs])
                s["cpu_s"] = stats([o["cpu_s"] for o in obs])
                if "lost" in obs[0]:
                    s["lost"] = [o["lost"] for o in obs]
                    s["events"] = [o["events"] for o in obs]
                if "accounted" in obs[0]:
                    s["accounted"] = all(o["accounted"] for o in obs)
            summary[c] = s
        self.results["overhead"] = {"configs": configs, "runs": runs, "summary": summary,
                                    "loadavg": stats([r["loadavg"] for r in runs])}

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

    def replay(self):
        if not self.has_cmd("replay"):
            self.results["pending"].append("replay/memory: 'mbecscope replay' is not in this build")
            return
        caps = [r for r in (self.results["overhead"] or {}).get("runs", [])
                if r["config"] == "tracefs"]
        if not caps:
            note("replay: capturing a storm with tracefs")
            caps = [self.one_run("tracefs", 0)]
        cap = max(caps, key=lambda r: r["observer"]["events"])
        src = os.path.join(self.out, "tracefs-tracefs-%d.txt" % cap["rep"])
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
        runs = []
        for rep in range(self.a.replay_reps):
            order = [("rec", "1x"), ("text", "1x"), ("rec", "4x"), ("text", "4x")]
            k = rep % len(order)
            for kind, size in order[k:] + order[:k]:
                note("replay: repetition %d/%d, %s %s" % (rep + 1, self.a.replay_reps, kind, size))
                r = self.time_replay(files[size][kind])
                r.update({"kind": kind, "size": size, "rep": rep, "loadavg": loadavg()})
                runs.append(r)

        def sel(kind, size):
            return [r for r in runs if r["kind"] == kind and r["size"] == size]
        summary = {}
        for kind in ("rec", "text"):
            for size in sizes:
                m = sel(kind, size)
                summary["%s-%s" % (kind, size)] = {
                    "records": m[0]["records"],
                    "per_cpu_s": stats([r["per_cpu_s"] for r in m]),
                    "per_wall_s": stats([r["per_wall_s"] for r in m]),
                    "maxrss_kib": stats([r["maxrss_kib"] for r in m]),
                    "anomalies": m[0]["anomalies"]}
        # Ratios within a repetition: text import against recording replay, and
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
        rss_growth = {"rec": [], "text": []}
        for rep in range(self.a.replay_reps):
            a = [r for r in sel("rec", "1x") if r["rep"] == rep][0]
            b = [r for r in sel("text", "1x") if r["rep"] == rep][0]
            if a["per_cpu_s"] and b["per_cpu_s"]:
                ratio_text.append(b["per_cpu_s"] / a["per_cpu_s"])
            for kind in ("rec", "text"):
                x = [r for r in sel(kind, "1x") if r["rep"] == rep][0]
                y = [r for r in sel(kind, "4x") if r["rep"] == rep][0]
                rss_growth[kind].append(y["maxrss_kib"] / x["maxrss_kib"])
        self.results["replay"] = {"source": {"capture": src, "capture_events":
                                             cap["observer"]["events"],
                                             "capture_lost": cap["observer"]["lost"]},
                                  "files": files, "runs": runs, "summary": summary,
                                  "text_vs_rec": stats(ratio_text),
                                  "marginal_per_cpu_s": {k: stats(v) for k, v in marginal.items()},
                                  "loadavg": stats([r["loadavg"] for r in runs])}
        self.results["memory"] = {"rss_4x_vs_1x": {k: stats(v) for k, v in rss_growth.items()}}

    # ---- report ------------------------------------------------------------------
    def figures(self):
        R = self.results
        m = R["machine"]
        o = []
        o.append("Machine: %s, %s CPUs (%s), %d MiB, Linux %s, %s. Run %s." %
                 (m["host"], m["cpus"], m["cpu"], m["mem_mib"], m["kernel"], m["kvm"], m["date"]))
        a = self.a
        o.append("Settings: %d repetitions x %.1f s storm, %d vCPU; replay %d repetitions, "
                 "%d and %d events%s." % (a.reps, a.duration, a.vcpus, a.replay_reps, a.events,
                                           4 * a.events, " (QUICK: a smoke run, not figures)"
                                           if a.quick else ""))
        ov = R["overhead"]
        if ov:
            la = ov["loadavg"]
            o.append("")
            o.append("### 1. Live overhead (storm faults/s, ratio to the baseline of the same "
                     "repetition)")
            o.append("")
            o.append("Load average (1 min) during the runs: median %.1f, min %.1f, max %.1f." %
                     (la["median"], la["min"], la["max"]))
            o.append("")
            o.append("| configuration | faults/s median | ratio median | min | max | "
                     "overhead (1 - median) | observer CPU s | observer peak RSS |")
            o.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            for c in ov["configs"]:
                s = ov["summary"][c]
                cpu = "%.2f" % s["cpu_s"]["median"] if "cpu_s" in s else "-"
                rss = "%.1f MiB" % (s["maxrss_kib"]["median"] / 1024) if "maxrss_kib" in s else "-"
                o.append("| %s | %.0f | %.3f | %.3f | %.3f | %.1f%% | %s | %s |" %
                         (LABEL.get(c, c), s["faults_per_s"]["median"], s["ratio"]["median"],
                          s["ratio"]["min"], s["ratio"]["max"],
                          100 * (1 - s["ratio"]["median"]), cpu, rss))
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
            o.append("")
            o.append("| input | records | per CPU-s median | min | max | per wall-s median | "
                     "peak RSS median | anomalies |")
            o.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            for k, s in rp["summary"].items():
                kind, size = k.split("-")
                name = ("recording " if kind == "rec" else "ftrace text ") + size
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
            if ov:
                for c in ("check", "record", "top"):
                    s = ov["summary"].get(c)
                    if s:
                        o.append("Peak RSS of %s during the storm: median %.1f MiB (min %.1f, "
                                 "max %.1f)." % (LABEL.get(c, c), s["maxrss_kib"]["median"] / 1024,
                                                 s["maxrss_kib"]["min"] / 1024,
                                                 s["maxrss_kib"]["max"] / 1024))
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
                    help="smoke run: 1 repetition, 1 s, small replay inputs")
    ap.add_argument("--reps", type=int, help="overhead repetitions (default 5)")
    ap.add_argument("--duration", type=float, help="storm seconds per run (default 5)")
    ap.add_argument("--vcpus", type=int, default=1)
    ap.add_argument("--replay-reps", type=int, help="replay repetitions (default 3)")
    ap.add_argument("--events", type=int, help="events in the shorter replay input "
                    "(default 1000000; the longer one has 4 times as many)")
    ap.add_argument("--configs", default="base,check,record,top,bpftrace,tracefs",
                    help="overhead configurations, comma-separated")
    ap.add_argument("--only", default="overhead,replay",
                    help="sections: overhead, replay (replay includes memory)")
    a = ap.parse_args()
    q = a.quick
    a.reps = a.reps or (1 if q else 5)
    a.duration = a.duration or (1.0 if q else 5.0)
    a.replay_reps = a.replay_reps or (1 if q else 3)
    a.events = a.events or (50000 if q else 1000000)
    a.configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    a.only = [c.strip() for c in a.only.split(",") if c.strip()]
    for c in a.configs:
        if c not in LABEL:
            die("unknown configuration '%s' (%s)" % (c, ", ".join(LABEL)))
    for s in a.only:
        if s not in ("overhead", "replay"):
            die("unknown section '%s' (overhead, replay)" % s)
    if a.reps < 1 or a.duration <= 0 or a.replay_reps < 1 or a.events < 1 or a.vcpus < 1:
        die("--reps, --duration, --replay-reps, --events and --vcpus want positive numbers")

    b = Bench(a)
    b.check_env()
    try:
        if "overhead" in a.only:
            b.overhead()
        if "replay" in a.only:
            b.replay()
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
