/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tsnatctl.c - the operator's client of tsnatd's control socket: sends
 * one request line, prints the answer. The daemon renders everything
 * (tables, JSON, metrics); this program only carries it. The request is
 * parsed first with the daemon's own parser (ctlreq.c), so that a usage
 * error is one before any daemon is asked, and options may stand before
 * or after the command.
 * Exit: 0 ok, 1 an error answer or no daemon reachable, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlreq.h"

#define TSNATCTL_TIMEOUT_S 10

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tsnatctl [-s PATH] [--json] COMMAND\n"
		"commands: status, stats, flows [--limit N], domains, servers, reload, metrics,\n"
		"          takeover\n"
		"options may stand before or after COMMAND; default PATH: "
		CONTROL_SOCKET_DEFAULT "\n");
}

/* The command line: -s PATH and -h/--help are tsnatctl's own, wherever
 * they stand; every other word belongs to the request, parsed as the
 * daemon parses it and written back in the order every daemon reads.
 * 0 (the request in line), 1 (help wanted), or 2 after a usage message. */
static int
arguments(int argc, char **argv, const char **path, char *line, size_t len)
{
	char words[CONTROL_LINE_MAX + 1], err[160];
	struct control_req r;
	size_t used = 0;

	words[0] = '\0';
	for (int i = 1; i < argc; i++) {
		int n;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
		if (!strcmp(argv[i], "-s")) {
			if (++i == argc) {
				fprintf(stderr, "tsnatctl: -s needs the socket's PATH\n");
				usage(stderr);
				return 2;
			}
			*path = argv[i];
			continue;
		}
		n = snprintf(words + used, sizeof(words) - used, "%s%s", used ? " " : "",
			     argv[i]);
		if (n < 0 || (size_t)n >= sizeof(words) - used) {
			fprintf(stderr, "tsnatctl: request too long\n");
			return 2;
		}
		used += (size_t)n;
	}
	if (control_parse(words, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "tsnatctl: %s\n", err);
		usage(stderr);
		return 2;
	}
	return control_format(&r, line, len) < 0 ? 2 : 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { TSNATCTL_TIMEOUT_S, 0 };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tsnatctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("tsnatctl: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno == ENOENT)
		fprintf(stderr, "tsnatctl: %s: no such socket: is tsnatd running, and is this "
			"its control_socket (tsnatd.conf)?\n", path);
	else if (errno == EACCES || errno == EPERM)
		fprintf(stderr, "tsnatctl: %s: permission denied: run as root, as tsnatd's user "
			"or as a member of its group\n", path);
	else if (errno == ECONNREFUSED)
		fprintf(stderr, "tsnatctl: %s: nobody listens on it (tsnatd stopped?)\n", path);
	else
		fprintf(stderr, "tsnatctl: %s: %s\n", path, strerror(errno));
	close(fd);
	return -1;
}

/* Read the whole answer; NULL on a receive error (or timeout). */
static char *
receive(int fd, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap);
	ssize_t n;

	*len = 0;
	while (buf) {
		if (*len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		if (!buf)
			break;
		n = read(fd, buf + *len, cap - *len - 1);
		if (n == 0) {
			buf[*len] = '\0';
			return buf;
		}
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tsnatctl: reading the answer: %s\n",
				errno == EAGAIN ? "timed out" : strerror(errno));
			break;
		}
		*len += n > 0 ? (size_t)n : 0;
	}
	free(buf);
	return NULL;
}

/* "ok\n" + body to stdout: 0; "error ...\n" to stderr: 1. */
static int
answer(const char *buf, size_t len)
{
	if (len >= 3 && strncmp(buf, "ok\n", 3) == 0) {
		fwrite(buf + 3, 1, len - 3, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strncmp(buf, "error ", 6) == 0)
		fprintf(stderr, "tsnatctl: %s", buf + 6);
	else
		fprintf(stderr, "tsnatctl: unexpected answer from the daemon\n");
	return 1;
}

int
main(int argc, char **argv)
{
	const char *path = CONTROL_SOCKET_DEFAULT;
	char line[CONTROL_LINE_MAX + 2], *buf;
	size_t len;
	int fd, ret;

	switch (arguments(argc, argv, &path, line, sizeof(line))) {
	case 0:
		break;
	case 1:
		usage(stdout);
		return 0;
	default:
		return 2;
	}
	if ((fd = connect_to(path)) < 0)
		return 1;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "tsnatctl: sending the request: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	shutdown(fd, SHUT_WR);
	buf = receive(fd, &len);
	close(fd);
	if (!buf)
		return 1;
	ret = answer(buf, len);
	free(buf);
	return ret;
}
