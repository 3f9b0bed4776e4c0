/* SPDX-License-Identifier: GPL-2.0-or-later */
/* legacy_model.c - tcp_tw_recycle peer cache and per-connection PAWS, after
 * tcp_peer_is_proven() / tcp_tw_remember_stamp() (3.10) and
 * tcp_conn_request() (4.4). */
#include <stdlib.h>
#include <string.h>

#include "legacy_model.h"

#define PAWS_WINDOW 1		/* TCP_PAWS_WINDOW */
#define PAWS_MSL 60		/* TCP_PAWS_MSL, seconds */
#define METRICS_TIMEOUT 3600	/* TCP_METRICS_TIMEOUT, seconds */
#define MAX_PEERS 4096
#define MAX_CONNS 65536

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

struct peer_entry {
	bool used;
	uint8_t family;
	uint8_t local[16], peer[16];	/* local is zero for V310 */
	uint32_t ts, stamp;
	uint32_t touched;
};

struct conn {
	bool used;
	uint8_t family;
	uint8_t local[16], peer[16];
	uint16_t lport, pport;
	bool used_ts;			/* the SYN carried a timestamp */
	uint32_t ts_recent, ts_recent_stamp;
	bool server_fin, peer_fin, server_closed_first, closed;
	uint32_t peer_fin_end;		/* the sequence number just past the peer's FIN */
};

struct legacy {
	enum legacy_variant variant;
	struct peer_entry peers[MAX_PEERS];
	struct conn *conns;
	struct legacy_counts counts;
};

struct legacy *
legacy_new(enum legacy_variant v)
{
	struct legacy *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->conns = calloc(MAX_CONNS, sizeof(*l->conns));
	if (!l->conns) {
		free(l);
		return NULL;
	}
	l->variant = v;
	return l;
}

void
legacy_free(struct legacy *l)
{
	if (l)
		free(l->conns);
	free(l);
}

const struct legacy_counts *
legacy_counts(const struct legacy *l)
{
	return &l->counts;
}

int
legacy_variant_parse(const char *s, enum legacy_variant *v)
{
	if (strcmp(s, "310") == 0)
		*v = LEGACY_V310;
	else if (strcmp(s, "4x") == 0)
		*v = LEGACY_V4X;
	else
		return -1;
	return 0;
}

/* The peer-cache key: V310 keys on the peer alone, V4X on (local, peer). */
static struct peer_entry *
peer_find(struct legacy *l, const struct legacy_seg *s, bool create, uint32_t now)
{
	struct peer_entry *free_e = NULL, *oldest = &l->peers[0];
	uint8_t local[16] = { 0 };

	if (l->variant == LEGACY_V4X)
		memcpy(local, s->local, 16);
	for (int i = 0; i < MAX_PEERS; i++) {
		struct peer_entry *e = &l->peers[i];

		if (!e->used) {
			if (!free_e)
				free_e = e;
			continue;
		}
		if (e->family == s->family && !memcmp(e->peer, s->peer, 16) &&
		    !memcmp(e->local, local, 16)) {
			/* tcp_get_metrics(): an entry idle for an hour is reset */
			if (now - e->touched > METRICS_TIMEOUT)
				e->ts = e->stamp = 0;
			e->touched = now;
			return e;
		}
		if (e->touched < oldest->touched)
			oldest = e;
	}
	if (!create)
		return NULL;
	if (!free_e)
		free_e = oldest;
	memset(free_e, 0, sizeof(*free_e));
	free_e->used = true;
	free_e->family = s->family;
	memcpy(free_e->peer, s->peer, 16);
	memcpy(free_e->local, local, 16);
	free_e->touched = now;
	return free_e;
}

/* tcp_tw_remember_stamp(): keep the higher timestamp within the window. */
static void
peer_remember(struct legacy *l, const struct legacy_seg *s, uint32_t ts,
	      uint32_t stamp, uint32_t now)
{
	struct peer_entry *e = peer_find(l, s, true, now);

	if ((int32_t)(e->ts - ts) <= 0 ||
	    (now - e->stamp > PAWS_MSL && e->stamp <= stamp)) {
		e->ts = ts;
		e->stamp = stamp;
		l->counts.recorded++;
	}
}

static struct conn *
conn_find(struct legacy *l, const struct legacy_seg *s)
{
	size_t h = ((size_t)s->pport * 31 + s->lport + s->peer[15] * 7u) % MAX_CONNS;

	for (size_t n = 0; n < MAX_CONNS; n++) {
		struct conn *c = &l->conns[(h + n) % MAX_CONNS];

		if (!c->used)	/* open addressing, never deleted: a hole ends it */
			return NULL;
		if (c->family == s->family && c->lport == s->lport &&
		    c->pport == s->pport && !memcmp(c->peer, s->peer, 16) &&
		    !memcmp(c->local, s->local, 16))
			return c;
	}
	return NULL;
}

/* A fresh connection for s's 4-tuple in slot c (new, or a closed one whose
 * tuple a new SYN reuses). */
static struct conn *
conn_init(struct conn *c, const struct legacy_seg *s)
{
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->family = s->family;
	memcpy(c->local, s->local, 16);
	memcpy(c->peer, s->peer, 16);
	c->lport = s->lport;
	c->pport = s->pport;
	return c;
}

static struct conn *
conn_new(struct legacy *l, const struct legacy_seg *s)
{
	size_t h = ((size_t)s->pport * 31 + s->lport + s->peer[15] * 7u) % MAX_CONNS;

	for (size_t n = 0; n < MAX_CONNS; n++) {
		struct conn *c = &l->conns[(h + n) % MAX_CONNS];

		if (!c->used)
			return conn_init(c, s);
	}
	return NULL;
}

static enum legacy_verdict
on_syn(struct legacy *l, const struct legacy_seg *s, struct conn *c, uint32_t now)
{
	struct peer_entry *e;
	uint32_t tsr = s->has_ts ? s->tsval : 0;

	l->counts.syns++;
	if (c && !c->closed)
		return LEGACY_ACCEPT;	/* retransmission: the request sock matches */
	if (l->variant == LEGACY_V310 && !s->has_ts)
		goto accept;
	e = peer_find(l, s, false, now);
	if (e && e->stamp && now - e->stamp < PAWS_MSL &&
	    (!s->has_ts || (int32_t)(e->ts - tsr) > PAWS_WINDOW)) {
		l->counts.paws_passive++;
		return LEGACY_DROP_PASSIVE;
	}
accept:
	if (c)				/* reuse of a closed connection's tuple */
		conn_init(c, s);
	else if (!(c = conn_new(l, s))) {
		return LEGACY_ACCEPT;
	}
	c->used_ts = s->has_ts;
	c->ts_recent = tsr;
	c->ts_recent_stamp = now;
	return LEGACY_ACCEPT;
}

static enum legacy_verdict
on_inbound(struct legacy *l, const struct legacy_seg *s, struct conn *c, uint32_t now)
{
	if (!c || c->closed)
		return LEGACY_ACCEPT;
	if (s->has_ts && c->ts_recent != 0 && !(s->flags & F_RST) &&
	    (int32_t)(c->ts_recent - s->tsval) > PAWS_WINDOW) {
		l->counts.paws_estab++;
		return LEGACY_DROP_ESTAB;
	}
	if (s->has_ts && (int32_t)(s->tsval - c->ts_recent) >= 0) {
		c->ts_recent = s->tsval;
		c->ts_recent_stamp = now;
	}
	if (s->flags & F_RST) {
		c->closed = true;
		return LEGACY_ACCEPT;
	}
	if ((s->flags & F_FIN) && !c->peer_fin) {
		c->peer_fin = true;
		c->peer_fin_end = s->seq + s->payload + 1;
	}
	/* Server closed first: the socket is (or enters) FIN-WAIT2/TIME-WAIT,
	 * where tcp_time_wait() and the timewait code remember the stamp. */
	if (c->server_closed_first && c->used_ts)
		peer_remember(l, s, c->ts_recent, c->ts_recent_stamp, now);
	if (c->peer_fin && c->server_fin)
		c->closed = true;
	return LEGACY_ACCEPT;
}

/* The server's FIN closes first unless it acknowledges the peer's FIN:
 * FINs that cross both lead to TIME-WAIT (FIN-WAIT-1, CLOSING), whatever
 * order this queue saw them in. */
static void
on_outbound(const struct legacy_seg *s, struct conn *c)
{
	if (!c || c->closed)
		return;
	if (s->flags & F_RST) {
		c->closed = true;
		return;
	}
	if ((s->flags & F_FIN) && !c->server_fin) {
		bool acks_peer_fin = c->peer_fin && (s->flags & F_ACK) &&
				     (int32_t)(s->ack - c->peer_fin_end) >= 0;

		c->server_fin = true;
		c->server_closed_first = !acks_peer_fin;
		if (acks_peer_fin)
			c->closed = true;	/* passive close: nothing recorded */
	}
}

enum legacy_verdict
legacy_segment(struct legacy *l, const struct legacy_seg *s, uint32_t now)
{
	struct conn *c = conn_find(l, s);

	if (!s->inbound) {
		on_outbound(s, c);
		return LEGACY_ACCEPT;
	}
	if ((s->flags & (F_SYN | F_ACK)) == F_SYN)
		return on_syn(l, s, c, now);
	return on_inbound(l, s, c, now);
}
