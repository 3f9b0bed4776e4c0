/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulescheck.h - are the firewall rules queueing to the daemon's queues?
 * Pure: what `iptables -t mangle -S` (ip6tables) and `nft list table inet
 * tsnatd` print is read here and judged against the queues the daemon
 * listens on; ruleswatch.h runs the tools. */
#ifndef TSNATD_RULESCHECK_H
#define TSNATD_RULESCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* One tool's listing, read. */
struct rulescheck_seen {
	bool chain;		/* chain TSNATD (iptables) or table inet tsnatd (nft) */
	unsigned jumps;		/* "-A FORWARD -j TSNATD" (nft: its hook, 1) */
	unsigned nqueue;	/* rules that queue */
	unsigned first, last;	/* the queues they name, all of them */
	bool mixed;		/* not every rule names the same queues */
};

/* Read `iptables -t mangle -S` / `ip6tables ...` output. */
void rulescheck_read_ipt(const char *listing, struct rulescheck_seen *s);

/* Read `nft list table inet tsnatd` output ("" or NULL: no such table):
 * "queue num 0", "queue num 0-1" (nft up to 1.0.6) and "queue to 0-1"
 * (later nft) alike; a queue statement naming none is queue 0. */
void rulescheck_read_nft(const char *listing, struct rulescheck_seen *s);

enum rulescheck_state {
	RULESCHECK_UNCHECKED,	/* no check done yet */
	RULESCHECK_NOT_CHECKED,	/* rules = "none": the operator's own */
	RULESCHECK_UNNEEDED,	/* the policies queue nothing */
	RULESCHECK_MATCH,	/* present, naming exactly the daemon's queues */
	RULESCHECK_UNKNOWN,	/* a tool failed or is missing: detail says */
	RULESCHECK_MISSING,	/* the rules are not there: nothing is queued */
	RULESCHECK_OTHER_QUEUES,	/* they queue to queues nobody listens on */
};

/* The verdict, for status and the log. */
struct rulescheck {
	enum rulescheck_state state;
	char tools[32];		/* "iptables, ip6tables", "nft" */
	bool have_queues;	/* first..last below are the rules' */
	unsigned first, last;
	char detail[192];	/* what is missing, or why unknown */
	uint64_t at_s;		/* monotonic second of the check */
};

/* Is the state one the rules and the daemon disagree in? */
bool rulescheck_drifts(enum rulescheck_state s);

/* The state's name: "match", "missing", "other-queues", ... */
const char *rulescheck_state_name(enum rulescheck_state s);

/* Judge one tool's listing for the queues qfirst .. qfirst+qcount-1:
 * into out (whose tools and detail it extends), keeping the worst state
 * of the tools judged so far (MISSING and OTHER_QUEUES over UNKNOWN over
 * MATCH). */
void rulescheck_judge(enum rules_kind kind, const struct rulescheck_seen *s,
		      unsigned qfirst, unsigned qcount, struct rulescheck *out);

/* A tool that could not be run or listed: UNKNOWN unless worse, why in
 * detail. */
void rulescheck_unknown(enum rules_kind kind, const char *why, struct rulescheck *out);

/* One line for status and the log, e.g. "iptables: present, queues 0..0,
 * as the daemon's", "MISSING (iptables: no chain TSNATD in table mangle):
 * ..." or "nft: queues 0..1, but the daemon listens on 0..0: ...". */
void rulescheck_format(const struct rulescheck *r, unsigned qfirst, unsigned qcount,
		       char *out, size_t len);

#endif
