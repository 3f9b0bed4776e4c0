/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode.h - what a policy does with its traffic. Each mode is a unit,
 * daemon/mode_<name>.c, behind the same small table of operations; the
 * decision (process.c) dispatches to it and applies what it returns.
 * Adding a mode is one file and one row in mode_table (mode.c). */
#ifndef TSNATD_MODE_H
#define TSNATD_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "policy.h"
#include "process.h"

/* Which packets a mode's rules must queue, per direction. */
enum queue_sel {
	QUEUE_NONE,
	QUEUE_SYN,	/* client SYNs only */
	QUEUE_CTL,	/* SYN, FIN and RST */
	QUEUE_ALL,	/* every packet */
};

enum act_kind {
	ACT_PASS,	/* accept as received */
	ACT_STRIP,	/* overwrite the timestamp option(s) with NOPs */
	ACT_SHIFT,	/* TSval += add; TSecr -= sub (TSecr 0 stays 0) */
	ACT_DROP,
};

/* What the decision did to the packet's flow (the mode made the change;
 * this says which, for the caller and the tests). */
enum flow_change {
	FLOW_KEPT,	/* no flow, or nothing changed */
	FLOW_CREATED,
	FLOW_TOUCHED,
	FLOW_FINISHED,	/* a FIN recorded */
	FLOW_REMOVED,	/* RST */
	FLOW_RESYNCED,	/* the server adopted raw timestamps: removed */
};

/* The decision for one packet: what to do to its bytes. */
struct action {
	uint8_t kind;		/* enum act_kind */
	uint8_t flow;		/* enum flow_change */
	uint32_t add, sub;	/* ACT_SHIFT */
};

/* What an operation may read and change; packet and time are the batch's. */
struct mode_ctx {
	const struct conf *conf;
	struct proc_state *ps;
	const struct pkt *p;
	const struct proc_pkt *in;
	struct stats *s;
};

struct mode_ops {
	const char *name;			/* as in the config file */
	enum queue_sel queue_out, queue_in;	/* client->server, server->client */
	bool needs_flows;			/* keeps per-connection state */
	/* What a policy's rules queue, when it depends on the policy (NULL:
	 * queue_out and queue_in). */
	enum queue_sel (*queue_for)(const struct policy *pol, bool inbound);
	/* A client SYN that matched a policy of this mode. */
	struct action (*client_syn)(const struct policy *pol, const struct mode_ctx *x);
	/* A packet of a flow this mode created (needs_flows only); from_client
	 * says its direction. */
	struct action (*segment)(struct flow *f, bool from_client, const struct mode_ctx *x);
};

/* Every mode this version has: its policy_mode value and its name N; its
 * file daemon/mode_N.c defines mode_N (the operations) and N_client_syn().
 * The one list: the mode table and the decision's dispatch are made from
 * it, so that a mode is one file and one row here. */
#define MODE_LIST(X)			\
	X(MODE_PASS, pass)		\
	X(MODE_STRIP, strip)		\
	X(MODE_REWRITE, rewrite)	\
	X(MODE_OBSERVE, observe)	\
	X(MODE_AUTO, auto)

#define MODE_DECLARE(id, name)						\
	extern const struct mode_ops mode_##name;			\
	struct action name##_client_syn(const struct policy *pol,	\
					const struct mode_ctx *x);
MODE_LIST(MODE_DECLARE)
#undef MODE_DECLARE

/* The segment operations of the modes that keep flows: a flow created by
 * observe (or by auto while it observes) carries FLOW_OBSERVE, and
 * decide() (process.c) sends its packets to observe_segment(). */
struct action rewrite_segment(struct flow *f, bool from_client, const struct mode_ctx *x);
struct action observe_segment(struct flow *f, bool from_client, const struct mode_ctx *x);

/* A packet that is not a client SYN and has no flow here, with the
 * kernel data path on: if it is a client packet the programs did not
 * shift (mark lacks offload_mark) whose tuple has an entry in their map,
 * ACT_SHIFT by the entry's offset within its bound; else ACT_PASS
 * (mode_rewrite.c). Given fields: tcp is its TCP header. */
struct action rewrite_escaped(const struct conf *c, struct proc_state *ps, struct stats *s,
			      uint32_t mark, int family, const uint8_t *saddr,
			      const uint8_t *daddr, const uint8_t *tcp, uint32_t tsval,
			      unsigned ts_count);

/* A packet that is not a client SYN and has no flow here, with ha_labels
 * on (x->ps->ha): a packet of a rewrite policy's connection whose
 * conntrack entry holds tsnatd's record (ctlabel.h) is adopted (into the
 * kernel data path's map when it runs, else the flow table) and shifted
 * as the flow's own; one without is counted (flows_unadopted) and passes
 * (mode_rewrite.c). */
struct action rewrite_adopt(const struct mode_ctx *x);

/* The clock domain of a policy's connection: its explicit translated
 * source, or for "auto" the one of the packet's outbound interface. */
uint16_t mode_domain(const struct policy *pol, const struct mode_ctx *x);

/* The operations of mode m; NULL for a mode this version does not have. */
const struct mode_ops *mode_get(enum policy_mode m);

/* A note for the main thread to log (workers never log): kind, about a
 * client and a server (family 4/6), the policy's name copied. Kept quiet:
 * a SYN without timestamp once per (domain, server) hash, clamps and
 * quotas at most once a second per worker, verdicts always. Given fields,
 * never the packet or the context: the caller's parsed packet then stays
 * in registers. */
void mode_note(struct proc_notes *notes, uint32_t now, enum proc_note_kind kind,
	       const char *policy, uint16_t dom, uint32_t value, uint32_t value2,
	       int family, const uint8_t *client, const uint8_t *server);


#endif
