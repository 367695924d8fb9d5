// SPDX-License-Identifier: GPL-2.0
/*
 * watch's /metrics endpoint under idle and slow clients, on 127.0.0.1 only:
 * 40 connections that never finish their request headers must not keep a
 * scrape out (it answers within a deadline), such a client is dropped
 * after ALERT_HTTP_TIMEOUT_S, and a 405 carries Allow.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alert/sinks.h"
#include "tap.h"

#define IDLE_CLIENTS	40

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_local(unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Send @req and read the answer until the server closes, for at most
 * @deadline_s seconds.  Returns the bytes read (>= 0), or -1 on a refused
 * connection, an error or the deadline.
 */
static ssize_t ask(unsigned int port, const char *req, char *buf, size_t size,
		   double deadline_s)
{
	double end = now_s() + deadline_s;
	size_t got = 0;
	int fd = connect_local(port);

	if (fd < 0)
		return -1;
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto fail;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - now_s()) * 1000);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			goto fail;
		r = read(fd, buf + got, size - 1 - got);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		got += r;
		if (got == size - 1)
			break;
	}
	buf[got] = 0;
	close(fd);
	return got;
fail:
	close(fd);
	return -1;
}

/* A port that was free a moment ago. */
static unsigned int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned int port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	    !getsockname(fd, (struct sockaddr *)&sin, &len))
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int main(void)
{
	static const char page[] = "# HELP up_test a test\n# TYPE up_test gauge\nup_test 1\n";
	static const char scrape[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct alert_http *h = NULL;
	int idle[IDLE_CLIENTS], i, opened = 0, tries;
	char err[300] = "", listen[32], buf[4096];
	unsigned int port = 0;
	double t0, waited;
	ssize_t n;

	for (tries = 0; tries < 5 && !h; tries++) {
		port = free_port();
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
		if (port && alert_http_start(&h, listen, false, err, sizeof(err)))
			h = NULL;
	}
	if (!h) {
		printf("not ok 1 - cannot start the endpoint on 127.0.0.1: %s\n1..1\n", err);
		return 1;
	}
	alert_http_set(h, page, sizeof(page) - 1);

	n = ask(port, scrape, buf, sizeof(buf), 5);
	ok(n > 0 && strstr(buf, " 200 ") && strstr(buf, "up_test 1"), "a scrape answers");

	/* Half-open clients: headers started and never finished. */
	for (i = 0; i < IDLE_CLIENTS; i++) {
		idle[i] = connect_local(port);
		if (idle[i] >= 0 &&
		    write(idle[i], "GET /metrics HTTP/1.1\r\nHost: x\r\n", 32) == 32)
			opened++;
	}
	ok(opened == IDLE_CLIENTS, "%d idle clients connected", opened);
	t0 = now_s();
	n = ask(port, scrape, buf, sizeof(buf), 2);
	waited = now_s() - t0;
	ok(n > 0 && strstr(buf, " 200 ") && strstr(buf, "up_test 1"),
	   "with %d idle clients a scrape still answers within 2 s (%.3f s)", IDLE_CLIENTS,
	   waited);

	/* The server drops a silent client after its timeout (plus slack). */
	{
		struct pollfd p = { .fd = idle[0], .events = POLLIN };
		double end = now_s() + ALERT_HTTP_TIMEOUT_S + 3;
		bool closed = false;

		while (!closed && now_s() < end) {
			int left = (int)((end - now_s()) * 1000);

			/* Readable: end of file (or an error) once it closes. */
			if (poll(&p, 1, left > 0 ? left : 0) > 0)
				closed = read(idle[0], buf, sizeof(buf)) <= 0;
		}
		waited = now_s() - t0;
		ok(closed && waited < ALERT_HTTP_TIMEOUT_S + 3,
		   "a client that never finishes its headers is dropped (after %.1f s)", waited);
	}
	for (i = 0; i < IDLE_CLIENTS; i++)
		if (idle[i] >= 0)
			close(idle[i]);

	n = ask(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", buf, sizeof(buf), 5);
	ok(n > 0 && strstr(buf, " 405 ") && strstr(buf, "\r\nAllow: GET, HEAD\r\n"),
	   "POST: 405 with 'Allow: GET, HEAD'");
	n = ask(port, "GET /nothing HTTP/1.0\r\n\r\n", buf, sizeof(buf), 5);
	ok(n > 0 && strstr(buf, " 404 ") && !strstr(buf, "\r\nAllow:"), "404 without Allow");

	alert_http_stop(h);
	return done_testing();
}
