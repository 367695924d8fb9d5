// SPDX-License-Identifier: GPL-2.0
/*
 * The /metrics endpoint, served by libmicrohttpd on its own thread.  The
 * main loop renders the page and hands it over with alert_http_set(); the
 * server thread only copies the current page under a mutex.
 *
 * Bound to 127.0.0.1 unless told otherwise: metrics say which VMs exist
 * and how they fault, which is not for the whole network by default.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alert/sinks.h"

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

struct alert_http {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *page;
	size_t len;
	unsigned int port;
};

static mhd_result reply(struct MHD_Connection *conn, unsigned int status, const char *type,
			const char *body, size_t len, bool allow)
{
	struct MHD_Response *r;
	mhd_result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* RFC 9110 15.5.6: a 405 says which methods are allowed. */
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static mhd_result on_request(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload_data,
			     size_t *upload_data_size, void **con_cls)
{
	static const char index_page[] =
		"mbecscope watch: metrics are at /metrics\n";
	static const char not_found[] = "not found: try /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";
	static const char not_ready[] = "starting: no metrics yet\n";
	struct alert_http *h = cls;
	mhd_result ret;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*upload_data_size = 0;
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", bad_method,
			     sizeof(bad_method) - 1, true);
	}
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/plain", index_page, sizeof(index_page) - 1,
			     false);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     sizeof(not_found) - 1, false);
	pthread_mutex_lock(&h->lock);
	/* Before the first page: say so rather than serve an empty scrape. */
	if (h->page)
		ret = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", h->page,
			    h->len, false);
	else
		ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", not_ready,
			    sizeof(not_ready) - 1, false);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* "[ADDR:]PORT" -> sockaddr; loopback tells whether ADDR is 127.0.0.0/8. */
static int parse_listen(const char *s, struct sockaddr_in *sin, bool *loopback, char *err,
			size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char addr[64];
	unsigned long port;
	char *end;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (colon) {
		if ((size_t)(colon - s) >= sizeof(addr)) {
			snprintf(err, errlen, "--listen: address too long in '%s'", s);
			return -1;
		}
		memcpy(addr, s, colon - s);
		addr[colon - s] = 0;
	} else {
		strcpy(addr, "127.0.0.1");
	}
	if (!strcmp(addr, "localhost") || !addr[0])
		strcpy(addr, "127.0.0.1");
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		snprintf(err, errlen, "--listen: '%s' is not an IPv4 address (use 127.0.0.1:PORT, or ADDR:PORT with --allow-remote)",
			 addr);
		return -1;
	}
	errno = 0;
	port = strtoul(colon ? colon + 1 : s, &end, 10);
	if (errno || *end || !port || port > 65535) {
		snprintf(err, errlen, "--listen: '%s' is not [ADDR:]PORT with a port 1-65535", s);
		return -1;
	}
	sin->sin_port = htons((uint16_t)port);
	*loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return 0;
}

static int check_listen(const char *listen, bool allow_remote, struct sockaddr_in *sin,
			char *err, size_t errlen)
{
	bool loopback;

	if (parse_listen(listen, sin, &loopback, err, errlen))
		return -1;
	if (!loopback && !allow_remote) {
		snprintf(err, errlen, "--listen %s is not a loopback address: the metrics would be open to the network; add --allow-remote (allow-remote = yes) to mean it",
			 listen);
		return -1;
	}
	return 0;
}

int alert_listen_check(const char *listen, bool allow_remote, char *err, size_t errlen)
{
	struct sockaddr_in sin;

	return check_listen(listen, allow_remote, &sin, err, errlen);
}

int alert_http_start(struct alert_http **out, const char *listen, bool allow_remote,
		     char *err, size_t errlen)
{
	struct sockaddr_in sin;
	struct alert_http *h;
	unsigned int per_ip;

	*out = NULL;
	if (check_listen(listen, allow_remote, &sin, err, errlen))
		return -1;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->port = ntohs(sin.sin_port);
	/*
	 * Idle or slow clients must not keep scrapes out: a client that
	 * sends nothing for ALERT_HTTP_TIMEOUT_S is dropped, and the server
	 * holds up to ALERT_HTTP_MAX_CONN at once (poll or epoll, so not
	 * bounded by select's 1024 descriptors).  Every local client comes
	 * from 127.0.0.1, so a per-address limit there would let one local
	 * user fill it: it applies to remote listening only, where one
	 * address may hold ALERT_HTTP_MAX_PER_IP connections.
	 */
	per_ip = (ntohl(sin.sin_addr.s_addr) >> 24) == 127 ? 0 : ALERT_HTTP_MAX_PER_IP;
	errno = 0;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, h->port,
				NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)ALERT_HTTP_MAX_CONN,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ALERT_HTTP_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s: %s (is the port taken?)", listen,
			 errno ? strerror(errno) : "libmicrohttpd refused");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void alert_http_set(struct alert_http *h, const char *text, size_t len)
{
	char *copy;

	if (!h)
		return;
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, text, len);
	copy[len] = 0;
	pthread_mutex_lock(&h->lock);
	free(h->page);
	h->page = copy;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
}

unsigned int alert_http_port(const struct alert_http *h)
{
	return h ? h->port : 0;
}

void alert_http_stop(struct alert_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h->page);
	free(h);
}
