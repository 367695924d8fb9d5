// SPDX-License-Identifier: GPL-2.0
/*
 * The workload in a child process, for `check --workload` and friends:
 * fork now, let the parent attach tracing filtered on the child's pid,
 * then release the child with one byte on a pipe.
 *
 * The child never outlives its parent, whatever kills the parent (kill -9
 * included): the kernel sends it SIGKILL when the parent goes
 * (PR_SET_PDEATHSIG), and a parent that died before that was set is seen
 * with getppid().  Before the go byte, a dead parent also shows as EOF on
 * the pipe.  The death signal follows the thread that forked, so call
 * workload_spawn from the thread that lives as long as the run (the
 * commands call it from main).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload/workload.h"

int workload_spawn(const struct workload_opts *o, struct workload_child *c,
		   char *err, size_t errlen)
{
	struct workload_opts co = *o;
	struct workload_result r;
	pid_t pid, parent = getpid();
	int p[2];

	c->pid = -1;
	c->go_fd = -1;
	/* One shared page per spawn, kept so the report outlives the child. */
	c->report = mmap(NULL, sizeof(*c->report), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->report == MAP_FAILED)
		c->report = NULL;	/* the run goes on without a report */
	if (pipe2(p, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(2);
		close(p[1]);
		co.go_fd = p[0];
		co.out = stdout;
		workload_run(&co, &r);
		if (c->report) {
			c->report->status = r.status;
			c->report->cpl0 = r.cpl0;
			c->report->cpl0_modes = r.cpl0_modes;
			snprintf(c->report->cpl0_note, sizeof(c->report->cpl0_note), "%s",
				 r.cpl0_note);
			__atomic_store_n(&c->report->valid, true, __ATOMIC_RELEASE);
		}
		if (r.status && co.go_fd >= 0 && strncmp(r.error, "not started", 11))
			fprintf(stderr, "workload: %s\n", r.error);
		fflush(NULL);
		_exit(r.status);
	}
	close(p[0]);
	c->pid = pid;
	c->go_fd = p[1];
	return 0;
}

int workload_start(struct workload_child *c)
{
	char b = 'g';
	ssize_t n;

	if (c->go_fd < 0)
		return -1;
	do
		n = write(c->go_fd, &b, 1);
	while (n < 0 && errno == EINTR);
	close(c->go_fd);
	c->go_fd = -1;
	return n == 1 ? 0 : -1;
}

int workload_wait(struct workload_child *c)
{
	int st;
	pid_t w;

	if (c->go_fd >= 0) {		/* never started: let it go away */
		close(c->go_fd);
		c->go_fd = -1;
	}
	if (c->pid <= 0)
		return 2;
	do
		w = waitpid(c->pid, &st, 0);
	while (w < 0 && errno == EINTR);
	c->pid = -1;
	if (w < 0)
		return 2;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 2;
}

const struct workload_report *workload_child_report(const struct workload_child *c)
{
	if (!c->report || !__atomic_load_n(&c->report->valid, __ATOMIC_ACQUIRE))
		return NULL;
	return c->report;
}

void workload_kill(struct workload_child *c)
{
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	workload_wait(c);
}
