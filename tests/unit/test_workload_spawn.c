// SPDX-License-Identifier: GPL-2.0
/*
 * The workload API the live checker uses: workload_run in-process, and
 * workload_spawn/start/wait/kill, where the child must not touch KVM
 * before it is started (so BPF attached to its pid sees everything).
 * Needs root and /dev/kvm; skips without them.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "workload/workload.h"

/* Does @pid hold a /dev/kvm or KVM VM file descriptor? */
static int holds_kvm(pid_t pid)
{
	char dir[64], path[320], target[256];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, "/dev/kvm") || strstr(target, "kvm-vm"))
			found = 1;
	}
	closedir(d);
	return found;
}

int main(void)
{
	struct workload_opts o;
	struct workload_result r;
	struct workload_child c;
	char err[256];
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	double t0;
	int ret;

	if (geteuid() != 0)
		return skip_all("needs root for /dev/kvm");
	if (access("/dev/kvm", R_OK | W_OK))
		return skip_all("no usable /dev/kvm");
	ok(workload_probe(err, sizeof(err)) == 0, "workload_probe: KVM usable");

	workload_opts_init(&o);
	o.quiet = true;
	ok(workload_run(&o, &r) == 0 && r.status == 0, "workload_run in-process: status 0 (%s)",
	   r.error);
	ok(r.pages == 64 && r.accesses - r.cpl0_accesses == 192 &&
	   r.faults - r.cpl0_faults == 128 && r.rounds == 1 && r.mismatches == 0,
	   "result: 64 pages, at CPL 3 192 accesses and 128 faults, 1 round");
	ok(r.cpl0_note[0] && (r.cpl0 ? r.cpl0_modes > 0 && r.cpl0_accesses == 192 * r.cpl0_modes
			   : r.cpl0_modes == 0 && r.cpl0_accesses == 0),
	   "supervisor passes: %s, said why (%s)", r.cpl0 ? "made" : "not made", r.cpl0_note);
	o.inject_mismatch = true;
	ok(workload_run(&o, &r) == 1 && strstr(r.error, "self-check failed") &&
	   (r.cpl0 ? r.mismatches >= 2 : r.mismatches == 2),
	   "workload_run with a lying entry: status 1, two mismatches at CPL 3 (%lu: %s)",
	   r.mismatches, r.error);
	o.inject_mismatch = false;
	o.vcpus = WORKLOAD_MAX_VCPUS + 1;
	ok(workload_run(&o, &r) == 2 && r.error[0], "workload_run with 17 vCPUs: status 2 (%s)",
	   r.error);
	o.vcpus = 2;

	memset(&c, 0, sizeof(c));
	ret = workload_spawn(&o, &c, err, sizeof(err));
	ok(ret == 0 && c.pid > 0, "spawn: child %d", (int)c.pid);
	nanosleep(&ts, NULL);
	ok(holds_kvm(c.pid) == 0, "the child has not opened KVM before start");
	ok(workload_start(&c) == 0, "start");
	ok(workload_wait(&c) == 0, "wait: the started child exits 0");

	ok(workload_spawn(&o, &c, err, sizeof(err)) == 0, "spawn again");
	ok(workload_wait(&c) == 2, "wait without start: the child gives up with status 2");

	o.inject_mismatch = true;
	ok(workload_spawn(&o, &c, err, sizeof(err)) == 0 && workload_start(&c) == 0 &&
	   workload_wait(&c) == 1, "a child whose self-check fails exits 1");
	o.inject_mismatch = false;

	o.pattern = WORKLOAD_STORM;
	o.duration = 600;
	t0 = time(NULL);
	ok(workload_spawn(&o, &c, err, sizeof(err)) == 0 && workload_start(&c) == 0,
	   "spawn and start a 600 s storm");
	nanosleep(&ts, NULL);
	workload_kill(&c);
	ok(c.pid == -1 && time(NULL) - t0 < 60, "workload_kill ends and reaps it");
	return done_testing();
}
