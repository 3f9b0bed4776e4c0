/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlsock.c - the control socket: listener, peer checks, bounded
 * non-blocking connections (see ctlsock.h). What is answered is the
 * callback's (ctlsrv.c, rendering in control.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ctlsock.h"
#include "log.h"

#define CTLSOCK_GROUPS_MAX 256

enum conn_state { CONN_FREE, CONN_READ, CONN_PENDING, CONN_WRITE };

struct conn {
	enum conn_state state;
	int fd;
	uint64_t deadline;		/* monotonic ms */
	char line[CONTROL_LINE_MAX + 2];
	size_t got;
	struct textbuf out;
	size_t sent;
};

struct ctlsock {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctlsock_answer_fn fn;
	void *ctx;
	struct conn c[CTLSOCK_CONNS];
	uint64_t tokens_at;		/* ms when the bucket was last filled */
	unsigned tokens;
};

static uint64_t
ctlsock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A socket file at path that nobody answers on may go. */
static bool
ctlsock_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket %s: a file that is not a socket is there", path);
		return false;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0) {
		log_warnx("control socket %s: another process answers on it", path);
		return false;
	}
	return unlink(path) == 0 || errno == ENOENT;
}

struct ctlsock *
ctlsock_open(const char *path, ctlsock_answer_fn fn, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctlsock *s;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("control socket %s: path too long", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (!ctlsock_stale(path, &sa))
		return NULL;
	if (!(s = calloc(1, sizeof(*s))))
		fatal("calloc");
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 || listen(s->fd, CTLSOCK_CONNS * 2) < 0) {
		log_warn("control socket %s", path);
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return NULL;
	}
	memcpy(s->path, path, strlen(path) + 1);
	s->fn = fn;
	s->ctx = ctx;
	s->tokens = CTLSOCK_RATE;
	s->tokens_at = ctlsock_now();
	return s;
}

static void
conn_close(struct conn *c)
{
	if (c->state == CONN_FREE)
		return;
	close(c->fd);
	textbuf_free(&c->out);
	*c = (struct conn){ .state = CONN_FREE, .fd = -1 };
}

void
ctlsock_close(struct ctlsock *s)
{
	if (!s)
		return;
	for (int i = 0; i < CTLSOCK_CONNS; i++)
		conn_close(&s->c[i]);
	close(s->fd);
	unlink(s->path);
	free(s);
}

bool
ctlsock_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, int ngroups, uid_t self_uid,
		     gid_t self_gid)
{
	if (uid == 0 || uid == self_uid || gid == self_gid)
		return true;
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == self_gid)
			return true;
	return false;
}

/* The peer's credentials, checked. SO_PEERGROUPS (Linux 4.13) gives the
 * supplementary groups the peer had at connect(). */
static bool
ctlsock_peer_ok(int fd)
{
	struct ucred cr;
	gid_t groups[CTLSOCK_GROUPS_MAX];
	socklen_t len = sizeof(cr), glen = sizeof(groups);
	int ng = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		ng = (int)(glen / sizeof(gid_t));
	return ctlsock_peer_allowed(cr.uid, cr.gid, groups, ng, geteuid(), getegid());
}

/* Start writing an answer; the deadline is the answer's now. */
static void
conn_answer(struct conn *c, uint64_t now)
{
	c->state = CONN_WRITE;
	c->sent = 0;
	c->deadline = now + CTLSOCK_ANSWER_MS;
}

/* A rate-limit token, refilled at CTLSOCK_RATE per second. */
static bool
ctlsock_token(struct ctlsock *s, uint64_t now)
{
	uint64_t add = (now - s->tokens_at) * CTLSOCK_RATE / 1000;

	if (add) {
		s->tokens = (unsigned)(s->tokens + add > CTLSOCK_RATE ? CTLSOCK_RATE :
				       s->tokens + add);
		s->tokens_at = now;
	}
	if (!s->tokens)
		return false;
	s->tokens--;
	return true;
}

/* One line, best effort, then close: for those who get no service. */
static void
ctlsock_refuse(int fd, const char *line)
{
	if (send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control socket: refusal not sent: %s", strerror(errno));
	close(fd);
}

static void
ctlsock_accept(struct ctlsock *s, uint64_t now)
{
	for (int k = 0; k < CTLSOCK_RATE; k++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < CTLSOCK_CONNS && !c; i++)
			if (s->c[i].state == CONN_FREE)
				c = &s->c[i];
		if (!ctlsock_peer_ok(fd)) {
			ctlsock_refuse(fd, "error permission denied: not root, not the "
				       "daemon's user, not in its group\n");
		} else if (!c || !ctlsock_token(s, now)) {
			ctlsock_refuse(fd, "error busy: too many control connections, try again\n");
		} else {
			*c = (struct conn){ .state = CONN_READ, .fd = fd,
					    .deadline = now + CTLSOCK_REQUEST_MS };
		}
	}
}

/* Ask the callback; DONE starts the write. */
static void
conn_run(struct ctlsock *s, struct conn *c, bool first, uint64_t now)
{
	if (s->fn(s->ctx, c->line, first, &c->out) == CTLSOCK_AGAIN)
		c->state = CONN_PENDING;
	else
		conn_answer(c, now);
}

enum ctlsock_frame
ctlsock_frame(char *buf, size_t got, size_t cap)
{
	char *nl;

	buf[got] = '\0';
	nl = memchr(buf, '\n', got);
	if (nl) {
		*nl = '\0';
		if (nl > buf && nl[-1] == '\r')
			nl[-1] = '\0';
		return CTLSOCK_LINE;
	}
	if (got >= cap - 1 || memchr(buf, '\0', got))
		return CTLSOCK_BAD;
	return CTLSOCK_MORE;
}

/* Read what is there; a whole line goes to the callback. */
static void
conn_read(struct ctlsock *s, struct conn *c, uint64_t now)
{
	ssize_t n = recv(c->fd, c->line + c->got, sizeof(c->line) - 1 - c->got, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->got += (size_t)n;
	switch (ctlsock_frame(c->line, c->got, sizeof(c->line))) {
	case CTLSOCK_LINE:
		conn_run(s, c, true, now);
		break;
	case CTLSOCK_BAD:
		control_error(&c->out, CTLSOCK_BAD_REQUEST);
		conn_answer(c, now);
		break;
	case CTLSOCK_MORE:
		break;
	}
}

static void
conn_write(struct conn *c)
{
	ssize_t n = send(c->fd, c->out.p + c->sent, c->out.len - c->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent == c->out.len)
		conn_close(c);
}

int
ctlsock_pollfds(const struct ctlsock *s, struct pollfd *pfd)
{
	int n = 0;

	pfd[n++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (int i = 0; i < CTLSOCK_CONNS; i++) {
		const struct conn *c = &s->c[i];

		if (c->state == CONN_READ || c->state == CONN_WRITE)
			pfd[n++] = (struct pollfd){ .fd = c->fd,
				.events = c->state == CONN_READ ? POLLIN : POLLOUT };
	}
	return n;
}

int
ctlsock_timeout(const struct ctlsock *s, int timeout)
{
	uint64_t now = ctlsock_now();

	for (int i = 0; i < CTLSOCK_CONNS; i++) {
		const struct conn *c = &s->c[i];
		int left;

		if (c->state == CONN_FREE)
			continue;
		left = c->deadline > now ? (int)(c->deadline - now) : 0;
		if (c->state == CONN_PENDING && left > CTLSOCK_PENDING_MS)
			left = CTLSOCK_PENDING_MS;
		if (timeout < 0 || left < timeout)
			timeout = left;
	}
	return timeout;
}

static struct conn *
ctlsock_conn(struct ctlsock *s, int fd)
{
	for (int i = 0; i < CTLSOCK_CONNS; i++)
		if (s->c[i].state != CONN_FREE && s->c[i].fd == fd)
			return &s->c[i];
	return NULL;
}

void
ctlsock_run(struct ctlsock *s, const struct pollfd *pfd, int n)
{
	uint64_t now = ctlsock_now();

	for (int i = 1; i < n; i++) {
		struct conn *c = ctlsock_conn(s, pfd[i].fd);

		if (!c || !pfd[i].revents)
			continue;
		if (c->state == CONN_READ)
			conn_read(s, c, now);
		else if (c->state == CONN_WRITE)
			conn_write(c);
	}
	for (int i = 0; i < CTLSOCK_CONNS; i++) {
		struct conn *c = &s->c[i];

		if (c->state == CONN_PENDING)
			conn_run(s, c, false, now);
		if (c->state != CONN_FREE && now >= c->deadline)
			conn_close(c);
	}
	if (n > 0 && (pfd[0].revents & POLLIN))
		ctlsock_accept(s, now);
}
