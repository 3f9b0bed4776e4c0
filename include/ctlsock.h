/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlsock.h - the control socket: a Unix stream socket served from the
 * main loop's poll, never blocking it.
 *
 * Who may talk: root, the daemon's own user, or a member (primary or
 * supplementary, SO_PEERCRED and SO_PEERGROUPS) of the daemon's group;
 * the socket file is 0660, owned by the daemon's user and group. Anyone
 * else gets one error line and is closed.
 *
 * Bounds: a request is one line of at most CONTROL_LINE_MAX bytes; at
 * most CTLSOCK_CONNS connections at once and CTLSOCK_RATE new ones per
 * second (the rest get "error busy"); a request must arrive within
 * CTLSOCK_REQUEST_MS of the connect and the answer be taken within
 * CTLSOCK_ANSWER_MS, or the connection is closed. All sockets are
 * non-blocking; a slow or silent client costs one slot until its deadline,
 * nothing else. */
#ifndef TSNATD_CTLSOCK_H
#define TSNATD_CTLSOCK_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "textbuf.h"

#define CTLSOCK_CONNS 4
#define CTLSOCK_RATE 20			/* connections per second, burst as many */
#define CTLSOCK_REQUEST_MS 1000
#define CTLSOCK_ANSWER_MS 5000
#define CTLSOCK_PENDING_MS 20		/* poll interval while an answer waits */
#define CTLSOCK_NFDS (CTLSOCK_CONNS + 1)

enum ctlsock_result {
	CTLSOCK_DONE,		/* out holds the answer */
	CTLSOCK_AGAIN,		/* not yet: call again on a later round */
};

/* Answer one request line (no newline) into out. first is true on the
 * first call for this request, false when called again after AGAIN. */
typedef enum ctlsock_result (*ctlsock_answer_fn)(void *ctx, const char *line, bool first,
						 struct textbuf *out);

struct ctlsock;

enum ctlsock_frame {
	CTLSOCK_MORE,		/* no whole line yet */
	CTLSOCK_LINE,		/* buf holds the line, without "\n" or "\r\n" */
	CTLSOCK_BAD,		/* too long, or a NUL before any newline */
};
#define CTLSOCK_BAD_REQUEST "request too long, or not one line of text"

/* The request in the got bytes a client sent so far into buf (cap bytes,
 * got < cap: one is kept for the NUL written at buf[got]). Pure: what the
 * connection does with each byte read, for the tests and fuzz_ctl. */
enum ctlsock_frame ctlsock_frame(char *buf, size_t got, size_t cap);

/* Listen on path (a stale socket file there is replaced; any other file,
 * or a socket another process answers on, is not). NULL after a warning. */
struct ctlsock *ctlsock_open(const char *path, ctlsock_answer_fn fn, void *ctx);

/* Close every connection and the listener, remove the socket file. */
void ctlsock_close(struct ctlsock *s);

/* The descriptors to poll (at most CTLSOCK_NFDS) into pfd; returns how
 * many. */
int ctlsock_pollfds(const struct ctlsock *s, struct pollfd *pfd);

/* timeout (ms, -1: none) shortened to the next deadline or pending answer. */
int ctlsock_timeout(const struct ctlsock *s, int timeout);

/* After poll: serve the events in pfd[0..n) (as ctlsock_pollfds filled
 * them), retry pending answers, close what passed its deadline. */
void ctlsock_run(struct ctlsock *s, const struct pollfd *pfd, int n);

/* May a peer with uid, gid and supplementary groups[0..ngroups) talk to a
 * daemon running as self_uid, self_gid? Root, self_uid, or a member of
 * self_gid. */
bool ctlsock_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, int ngroups,
			  uid_t self_uid, gid_t self_gid);

#endif
