/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulesguard.c - the running daemon's queues against the file's, before
 * --apply-rules replaces the rules (see rulesguard.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rulesguard.h"

/* The unsigned number after "key": in text; false if there is none. */
static bool
json_uint(const char *text, const char *key, unsigned *out)
{
	char pat[64];
	const char *p;
	char *end;
	unsigned long v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (!(p = strstr(text, pat)))
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || v > 65535 + 64)
		return false;
	*out = (unsigned)v;
	return true;
}

int
rulesguard_parse(const char *answer, unsigned *first, unsigned *count)
{
	if (strncmp(answer, "ok\n", 3) != 0)
		return -1;
	if (!json_uint(answer, "queue_first", first) || !json_uint(answer, "queue_count", count) ||
	    *count == 0)
		return -1;
	return 0;
}

/* One request, the whole answer into buf. 1 answered, 0 nobody listens,
 * -1 with why. */
static int
ask_once(const char *sock, char *buf, size_t len, char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { RULESGUARD_TIMEOUT_S, 0 };
	static const char req[] = "status --json\n";
	size_t got = 0;
	ssize_t n;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "%s: path too long", sock);
		return -1;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		/* no file, or a file nobody accepts on (the daemon died) */
		if (e == ENOENT || e == ECONNREFUSED)
			return 0;
		snprintf(why, whylen, "%s: %s", sock, strerror(e));
		return -1;
	}
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
		snprintf(why, whylen, "%s: sending: %s", sock, strerror(errno));
		close(fd);
		return -1;
	}
	while (got + 1 < len && (n = recv(fd, buf + got, len - got - 1, 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "%s: no answer: %s", sock,
				 errno == EAGAIN ? "timed out" : strerror(errno));
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return 1;
}

int
rulesguard_ask(const char *sock, unsigned *first, unsigned *count, char *why, size_t whylen)
{
	/* status --json of a daemon with many policies fits easily */
	size_t len = 256 * 1024;
	char *buf = malloc(len);
	int rc = -1;

	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	/* "error busy": the socket serves a few clients at once; try again */
	for (int tries = 0; tries < 10; tries++) {
		struct timespec pause = { 0, 200 * 1000 * 1000 };

		if ((rc = ask_once(sock, buf, len, why, whylen)) <= 0)
			break;
		if (rulesguard_parse(buf, first, count) == 0)
			break;
		rc = -1;
		snprintf(why, whylen, "%s: the daemon did not say its queues (%.80s)", sock,
			 strncmp(buf, "error ", 6) == 0 ? buf + 6 : "unexpected answer");
		why[strcspn(why, "\n")] = '\0';
		if (strncmp(buf, "error busy", 10) != 0)
			break;
		nanosleep(&pause, NULL);
	}
	free(buf);
	return rc;
}

int
rulesguard_check(const struct conf *c, const char *conf_path, FILE *err)
{
	unsigned first = 0, count = 0;
	char why[256];
	int rc;

	if (!c->control_socket[0]) {
		fprintf(err, "tsnatd: warning: %s has control_socket = \"\": a running tsnatd "
			"cannot be asked which queues it listens on; if it runs with other "
			"queue settings than the file's, restart it\n", conf_path);
		return 0;
	}
	rc = rulesguard_ask(c->control_socket, &first, &count, why, sizeof(why));
	if (rc == 0)
		return 0;
	if (rc < 0) {
		fprintf(err, "tsnatd: cannot ask the running tsnatd which queues it listens on "
			"(%s): rules not changed\n", why);
		return -1;
	}
	if (first == c->queue_first && count == c->queue_count)
		return 0;
	fprintf(err, "tsnatd: %s names queues %u..%u, the running tsnatd listens on %u..%u: "
		"restart required (systemctl restart tsnatd); rules not changed, a reload "
		"cannot move the queues\n", conf_path, c->queue_first,
		c->queue_first + c->queue_count - 1, first, first + count - 1);
	return -1;
}
