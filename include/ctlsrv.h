/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlsrv.h - the daemon's side of the control socket: gathers what each
 * command needs (from the published counters, the domains, the discovery
 * table and the workers' flow copies), has control.c render it, serves it
 * on ctlsock.h's socket, and writes the metrics textfile on time. Main
 * thread only. */
#ifndef TSNATD_CTLSRV_H
#define TSNATD_CTLSRV_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "control.h"
#include "discovery.h"
#include "domain.h"
#include "engine.h"

#define CTLSRV_FLOWS_WAIT_MS 600	/* workers turn at least every 250 ms */
#define CTLSRV_NFDS 5			/* CTLSOCK_NFDS */

struct ctlsrv_deps {
	_Atomic(struct conf *) *current;
	struct engine *engine;
	struct domains *domains;
	struct discovery *discovery;	/* may be NULL */
	const char *config_path;
	const char *version;
	uint64_t start_ms;		/* monotonic ms at start */
	/* the SIGHUP reload; true if the new file was taken, else false
	 * with the file's errors appended to errs, one a line */
	bool (*reload)(void *ctx, struct textbuf *errs);
	void *reload_ctx;
	/* rewrite's kernel data path now (NULL: never used) */
	void (*offload)(struct control_offload *out);
	/* the firewall rules' last check (NULL: not watched) */
	void (*rules)(struct rulescheck *out);
	/* HA pairs: the last takeover; with run, a takeover first (NULL: none) */
	void (*ha)(struct control_ha *out, bool run);
};

struct ctlsrv;

/* Opens the socket of the current conf's control_socket (none if "", or
 * with a warning if it cannot be opened: the daemon runs on). */
struct ctlsrv *ctlsrv_new(const struct ctlsrv_deps *deps);

/* Close the socket (its file removed) and free. */
void ctlsrv_free(struct ctlsrv *s);

/* What to poll: up to CTLSRV_NFDS descriptors into pfd; returns how many. */
int ctlsrv_pollfds(const struct ctlsrv *s, struct pollfd *pfd);

/* timeout shortened to what the socket waits for. */
int ctlsrv_timeout(const struct ctlsrv *s, int timeout);

/* After poll: serve pfd[0..n). */
void ctlsrv_run(struct ctlsrv *s, const struct pollfd *pfd, int n);

/* Once per loop round: rewrite the metrics file when its interval is up. */
void ctlsrv_tick(struct ctlsrv *s);

/* The path the socket listens on ("" if none). */
const char *ctlsrv_path(const struct ctlsrv *s);

#endif
