/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control.h - the control socket's protocol, pure: a request (ctlreq.h)
 * in, an answer out, given the data the daemon gathered for it. No
 * syscalls: the socket is ctlsock.h's, the gathering ctlsrv.h's.
 *
 * Answer: "ok\n" then the body (a table, a JSON document, or the
 * Prometheus text), or "error MESSAGE\n" and, for a refused reload, the
 * file's errors after it, one "file:line: message" a line; then the
 * daemon closes. */
#ifndef TSNATD_CONTROL_H
#define TSNATD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ctlreq.h"
#include "discovery.h"
#include "rulescheck.h"
#include "stats.h"
#include "textbuf.h"

#define CONTROL_RELOAD_ERRORS_MAX 50	/* lines of a refused file's errors */

/* One queue: its number, counters and flows. */
struct control_queue {
	unsigned queue;
	struct stats st;
	uint64_t flows;
};

/* One rewritten flow, already oriented client -> server. */
struct control_flow {
	unsigned queue;
	uint8_t family;			/* 4 or 6 */
	uint8_t client[16], server[16];
	uint16_t client_port, server_port;
	uint16_t domain;
	uint32_t offset;		/* TSval' - TSval */
	uint32_t age_ms;		/* since its SYN */
	uint32_t idle_s;		/* since its last packet */
};

/* One clock domain (translated source). family 0: the shared domain. */
struct control_domain {
	uint16_t id;
	uint8_t family;
	uint8_t addr[16];
	bool has_mark;
	uint32_t mark;
	int64_t distance_ms;		/* mark - wall clock (mod 2^32, signed) */
};

/* What a command needs; the fields a command does not use may be empty. */
/* Rewrite's kernel data path, as the main thread last saw it. */
enum control_offload_state {
	CONTROL_OFFLOAD_UNNEEDED,	/* no policy rewrites */
	CONTROL_OFFLOAD_OFF,		/* not used: reason says why */
	CONTROL_OFFLOAD_ACTIVE,
	CONTROL_OFFLOAD_DRAINING,	/* offload = false, an earlier one's flows */
};
#define CONTROL_OFFLOAD_COUNTERS 7	/* SHIFT_NCOUNTERS */
struct control_offload {
	enum control_offload_state state;
	bool adopted;
	const char *reason;		/* OFF */
	const char *dir;
	char interfaces[256];
	uint32_t flows;			/* map entries at the last sweep */
	uint32_t open;			/* of which not closed (no RST, not both FINs) */
	/* shifted in, shifted out, clamped, no timestamp, not ours, errors,
	 * resets (SHIFT_*) */
	uint64_t counters[CONTROL_OFFLOAD_COUNTERS];
};

/* HA pairs: the last takeover (tsnatctl takeover, or a translated
 * source's address appearing). */
struct control_ha {
	uint64_t takeovers;		/* since start */
	uint64_t at_s;			/* monotonic seconds of the last */
	bool failed;			/* the table could not be read */
	unsigned long entries, labelled, legacy;
	uint32_t highest;		/* the highest floor a record gave */
};

struct control_data {
	const char *version;
	const char *config_path;
	uint64_t uptime_s;
	const struct conf *conf;
	const struct control_queue *q;
	unsigned nq;
	const struct control_flow *flows;
	size_t nflows;
	uint64_t flows_total;		/* in the tables when copied */
	const struct control_domain *dom;	/* index = domain id */
	size_t ndom;
	const struct discovery_server *srv;	/* most confirmed drops first */
	size_t nsrv;
	bool reload_ok;
	const char *reload_errors;	/* a refused file's, one a line; may be NULL */
	struct control_offload offload;
	struct rulescheck rules;	/* the firewall rules, last checked */
	struct control_ha ha;
	uint64_t mono_s;		/* now, for the check's age */
};

/* Append the whole answer to r ("ok\n" and the body, or "error ...\n"). */
void control_render(const struct control_req *r, const struct control_data *d,
		    struct textbuf *out);

/* An error answer: "error MESSAGE\n". */
void control_error(struct textbuf *out, const char *msg);

/* The address of domain id as text ("shared" for the shared domain, "?"
 * if unknown). */
void control_domain_name(const struct control_data *d, uint16_t id, char *out, size_t len);

/* The kernel map's entries as status and tsnatd --unload both say them:
 * "N map entries (M open)", open meaning not closed by a RST or both FINs
 * (closed ones linger a little before the sweep ends them). */
void control_map_entries(uint32_t entries, uint32_t open, char *out, size_t len);

/* Align "cell\tcell\n" rows into columns two spaces apart, appended to out. */
void control_table(const struct textbuf *rows, struct textbuf *out);

#endif
