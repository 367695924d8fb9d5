// SPDX-License-Identifier: GPL-2.0
/*
 * The workload child dies with its parent, however the parent dies: an
 * intermediate process spawns the workload child and is killed with
 * SIGKILL; the child must be killed by the kernel (PR_SET_PDEATHSIG)
 * rather than linger.  Needs no KVM: the child is caught while it waits
 * for its go byte.  This test process is a child subreaper, so the
 * orphan comes to it and its end can be read with waitpid: killed by
 * SIGKILL is the death signal.  A sibling keeps the go pipe open, as a
 * started guest would not be reading it: the pipe's EOF must not be what
 * ends the child.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "workload/workload.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Is @pid blocked in read(2) (syscall 0 on x86-64)?  -1: cannot tell. */
static int in_read(pid_t pid)
{
	char path[64], buf[64];
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		ret = strncmp(buf, "0 ", 2) == 0;
	fclose(f);
	return ret;
}

int main(void)
{
	struct workload_opts o;
	int p[2], st = 0, rd = -1;
	pid_t mid, child = -1, w = 0, pids[2] = { -1, -1 };
	double deadline;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		return skip_all("cannot become a child subreaper");
	if (pipe(p))
		return skip_all("no pipe");
	workload_opts_init(&o);
	o.quiet = true;
	mid = fork();
	if (mid == 0) {
		struct workload_child c;
		char err[256];

		close(p[0]);
		pid_t pids[2];

		if (workload_spawn(&o, &c, err, sizeof(err)))
			_exit(3);
		pids[0] = c.pid;
		pids[1] = fork();	/* holds the go pipe's write end */
		if (pids[1] == 0)
			for (;;)
				pause();
		if (write(p[1], pids, sizeof(pids)) != sizeof(pids))
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	if (mid > 0 && read(p[0], pids, sizeof(pids)) == sizeof(pids))
		child = pids[0];
	ok(child > 0, "the intermediate parent spawned the workload child %d", (int)child);
	close(p[0]);
	if (child <= 0) {
		kill(mid, SIGKILL);
		waitpid(mid, NULL, 0);
		return done_testing();
	}

	/* The child is set up (death signal armed) once it blocks on the go pipe. */
	deadline = now() + 10;
	while (now() < deadline && (rd = in_read(child)) == 0)
		nap();
	ok(rd != 0, "the child waits for its go byte (%s)",
	   rd < 0 ? "cannot read /proc/PID/syscall; going on" : "blocked in read");

	kill(mid, SIGKILL);
	ok(waitpid(mid, &st, 0) == mid && WIFSIGNALED(st), "kill -9 of the parent");

	deadline = now() + 10;
	while (now() < deadline) {
		w = waitpid(child, &st, WNOHANG);
		if (w != 0)
			break;
		nap();
	}
	ok(w == child, "the child is gone within 10 s of its parent (waitpid: %d%s%s)", (int)w,
	   w < 0 ? ", " : "", w < 0 ? strerror(errno) : "");
	if (w == 0) {
		kill(child, SIGKILL);
		waitpid(child, &st, 0);
	}
	ok(w == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "it was killed by the death signal (status %#x)", st);
	if (pids[1] > 0) {
		kill(pids[1], SIGKILL);
		waitpid(pids[1], NULL, 0);
	}
	return done_testing();
}
