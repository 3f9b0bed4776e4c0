/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flow.c - fixed-size flow table: arena + open-addressed index + LRU lists. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "flow.h"

/* The lists, in eviction order: half-open flows go first. */
enum { LIST_HALF_OPEN, LIST_CLOSING, LIST_OPEN, NLISTS };

/* The per-client count: two rows of counters, each indexed by its own
 * hash of the client address; a client's count is the smaller of its two
 * counters (never below the truth; above it only when both its counters
 * are shared with heavy clients, which a random seed makes unlikely). */
#define CM_WIDTH 8192

struct lru {
	uint32_t head, tail;	/* arena index + 1; head = least recent */
};

struct flow_table {
	uint32_t count;
	uint32_t max, nslots;
	uint64_t seed;
	uint32_t free_head;	/* recycled entries, linked through flow.next */
	uint32_t fresh;		/* entries [fresh, max) were never used */
	uint32_t *slots;	/* arena index + 1, 0 = empty */
	struct flow *arena;
	struct lru lists[NLISTS];
	uint32_t clients[2][CM_WIDTH];
};

_Static_assert(sizeof(struct flow) == 64, "a flow is one cache line");

/* Two rounds of 64-bit multiply and xor-shift over the canonical key, keyed
 * by the table's random seed; the high half of the product is the
 * well-mixed one. IPv4 keys (the common case) take one 64-bit word. */
static inline uint64_t
mix64(uint64_t k, uint64_t v)
{
	k = (k ^ v) * 0x9e3779b97f4a7c15ull;
	return k ^ (k >> 32);
}

static inline uint32_t
hash_end(uint64_t k, uint16_t pa, uint16_t pb)
{
	k = (k ^ ((uint32_t)pa << 16 | pb)) * 0xd6e8feb86659fd93ull;
	return (uint32_t)(k >> 32);
}

static inline uint32_t
key_hash4(const struct flow_table *t, uint32_t wa, uint32_t wb, uint16_t pa, uint16_t pb)
{
	return hash_end(mix64(t->seed, (uint64_t)wa << 32 | wb), pa, pb);
}

static uint32_t
key_hash(const struct flow_table *t, uint8_t family, const uint8_t *a,
	 const uint8_t *b, uint16_t pa, uint16_t pb)
{
	uint64_t k = t->seed ^ 6;

	if (family == 4) {
		uint32_t wa, wb;

		memcpy(&wa, a, 4);
		memcpy(&wb, b, 4);
		return key_hash4(t, wa, wb, pa, pb);
	}
	for (size_t i = 0; i < 16; i += 4) {
		uint32_t wa, wb;

		memcpy(&wa, a + i, 4);
		memcpy(&wb, b + i, 4);
		k = mix64(k, (uint64_t)wa << 32 | wb);
	}
	return hash_end(k, pa, pb);
}

/* Map a hash onto [0, nslots) without a division (Lemire's reduction). */
static uint32_t
slot_of(const struct flow_table *t, uint32_t h)
{
	return (uint32_t)(((uint64_t)h * t->nslots) >> 32);
}

/* memcmp for the two address sizes, without a libc call. */
static int
addr_cmp(const uint8_t *x, const uint8_t *y, size_t n)
{
	uint32_t a, b;

	for (size_t i = 0; i < n; i += 4) {
		memcpy(&a, x + i, 4);
		memcpy(&b, y + i, 4);
		if (a != b)
			return __builtin_bswap32(a) < __builtin_bswap32(b) ? -1 : 1;
	}
	return 0;
}

/* Canonical (a, pa) < (b, pb) from a packet; returns true if the packet's
 * source is side a. */
static bool
canon(const struct pkt *p, const uint8_t **a, const uint8_t **b, uint16_t *pa,
      uint16_t *pb)
{
	int c = addr_cmp(p->saddr, p->daddr, p->addr_len);
	uint16_t sport = pkt_sport(p), dport = pkt_dport(p);

	if (c < 0 || (c == 0 && sport <= dport)) {
		*a = p->saddr, *b = p->daddr, *pa = sport, *pb = dport;
		return true;
	}
	*a = p->daddr, *b = p->saddr, *pa = dport, *pb = sport;
	return false;
}

struct flow_table *
flow_table_new(uint32_t max, uint32_t seed)
{
	struct flow_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = max;
	t->seed = ((uint64_t)seed << 32 | seed) * 0xff51afd7ed558ccdull;
	/* Load at most 80%: linear probing stays short, the index costs
	 * 5 bytes per flow. */
	t->nslots = max + max / 4 + 1;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	t->arena = calloc(max, sizeof(*t->arena));
	if (!t->slots || !t->arena) {
		flow_table_free(t);
		return NULL;
	}
	/* Entries are taken in order and recycled through a free list, so
	 * calloc's untouched pages stay unused until the table fills. */
	return t;
}

void
flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->arena);
	free(t);
}

static struct flow *
at(const struct flow_table *t, uint32_t ref)
{
	return &t->arena[ref - 1];
}

static uint32_t
ref_of(const struct flow_table *t, const struct flow *f)
{
	return (uint32_t)(f - t->arena) + 1;
}

bool
flow_closing(const struct flow *f)
{
	return (f->flags & (FLOW_FIN_CLIENT | FLOW_FIN_SERVER)) ==
	       (FLOW_FIN_CLIENT | FLOW_FIN_SERVER);
}

/* The list a flow belongs on follows from its flags. */
static struct lru *
list_of(struct flow_table *t, const struct flow *f)
{
	if (flow_closing(f))
		return &t->lists[LIST_CLOSING];
	if (!(f->flags & FLOW_ANSWERED))
		return &t->lists[LIST_HALF_OPEN];
	return &t->lists[LIST_OPEN];
}

static void
lru_unlink(struct flow_table *t, struct flow *f)
{
	struct lru *l = list_of(t, f);

	if (f->prev)
		at(t, f->prev)->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		at(t, f->next)->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = 0;
}

static void
lru_append(struct flow_table *t, struct flow *f)
{
	struct lru *l = list_of(t, f);
	uint32_t r = ref_of(t, f);

	f->prev = l->tail;
	f->next = 0;
	if (l->tail)
		at(t, l->tail)->next = r;
	else
		l->head = r;
	l->tail = r;
}

static bool
key_eq(const struct flow *f, uint8_t family, const uint8_t *a, const uint8_t *b,
       uint16_t pa, uint16_t pb, size_t n)
{
	return flow_family(f) == family && f->pa == pa && f->pb == pb &&
	       addr_cmp(f->a, a, n) == 0 && addr_cmp(f->b, b, n) == 0;
}

/* The index slot holding key, or the empty slot where it would go. */
static uint32_t
find_slot(const struct flow_table *t, uint8_t family, const uint8_t *a,
	  const uint8_t *b, uint16_t pa, uint16_t pb)
{
	size_t n = family == 4 ? 4 : 16;
	uint32_t i = slot_of(t, key_hash(t, family, a, b, pa, pb));

	for (;;) {
		uint32_t r = t->slots[i];

		if (r == 0 || key_eq(at(t, r), family, a, b, pa, pb, n))
			return i;
		if (++i == t->nslots)
			i = 0;
	}
}

/* flow_lookup4() compares both ports in one 32-bit load. */
_Static_assert(offsetof(struct flow, pb) == offsetof(struct flow, pa) + 2,
	       "pa and pb adjacent");

/* flow_lookup() of an IPv4 packet by its fields: addresses as they lie in
 * the packet (network order), ports in host order. */
static struct flow *
flow_lookup4(struct flow_table *t, uint32_t saddr, uint32_t daddr, uint16_t sport,
	     uint16_t dport, bool *from_client)
{
	/* the canonical order of canon(), on the addresses' numeric values */
	bool src_is_a = ntohl(saddr) < ntohl(daddr) || (saddr == daddr && sport <= dport);
	uint32_t wa = src_is_a ? saddr : daddr, wb = src_is_a ? daddr : saddr;
	struct { uint16_t pa, pb; } ports = { src_is_a ? sport : dport,
					      src_is_a ? dport : sport };
	uint32_t i = slot_of(t, key_hash4(t, wa, wb, ports.pa, ports.pb)), r, kp;

	memcpy(&kp, &ports, sizeof(kp));
	/* An empty table has only empty slots: no count check needed. */
	while ((r = t->slots[i]) != 0) {
		struct flow *f = at(t, r);
		uint32_t fa, fb, fp;

		memcpy(&fa, f->a, 4);
		memcpy(&fb, f->b, 4);
		memcpy(&fp, &f->pa, 4);		/* pa and pb, adjacent */
		if (fa == wa && fb == wb && fp == kp && !(f->flags & FLOW_V6)) {
			*from_client = src_is_a == !!(f->flags & FLOW_CLIENT_IS_A);
			return f;
		}
		if (++i == t->nslots)
			i = 0;
	}
	return NULL;
}

struct flow *
flow_lookup(struct flow_table *t, const struct pkt *p, bool *from_client)
{
	const uint8_t *a, *b;
	uint16_t pa, pb;
	bool src_is_a;
	uint32_t r;

	if (t->count == 0)
		return NULL;
	if (p->family == 4)
		return flow_lookup4(t, pkt_raw32(p->saddr), pkt_raw32(p->daddr), pkt_sport(p),
				    pkt_dport(p), from_client);
	src_is_a = canon(p, &a, &b, &pa, &pb);
	r = t->slots[find_slot(t, p->family, a, b, pa, pb)];
	if (!r)
		return NULL;
	*from_client = src_is_a == !!(at(t, r)->flags & FLOW_CLIENT_IS_A);
	return at(t, r);
}

/* once per connection, not per packet: out of line, and given fields
 * rather than the packet, which then stays in registers */
static __attribute__((noinline, cold)) struct flow *
insert_key(struct flow_table *t, uint8_t family, const uint8_t *a, const uint8_t *b,
	   uint16_t pa, uint16_t pb, uint32_t now)
{
	uint32_t i = find_slot(t, family, a, b, pa, pb), r;
	struct flow *f;

	if (t->slots[i])
		return NULL;
	if (t->free_head) {
		r = t->free_head;
		t->free_head = at(t, r)->next;
	} else if (t->fresh < t->max) {
		r = ++t->fresh;
	} else {
		return NULL;
	}
	f = at(t, r);
	memset(f, 0, sizeof(*f));
	f->flags = family == 6 ? FLOW_V6 : 0;
	memcpy(f->a, a, family == 4 ? 4 : 16);
	memcpy(f->b, b, family == 4 ? 4 : 16);
	f->pa = pa;
	f->pb = pb;
	f->last = (uint16_t)now;
	t->slots[i] = r;
	t->count++;
	lru_append(t, f);
	return f;
}

/* The two counters of a client address. */
static void
client_cells(const struct flow_table *t, int family, const uint8_t *addr,
	     uint32_t *c0, uint32_t *c1)
{
	uint32_t w[4] = { 0 };
	uint64_t k = t->seed;

	memcpy(w, addr, family == 4 ? 4 : 16);
	for (int i = 0; i < (family == 4 ? 1 : 4); i++)
		k = mix64(k, w[i]);
	k = mix64(k, (uint64_t)family);
	*c0 = (uint32_t)k % CM_WIDTH;
	*c1 = (uint32_t)(k >> 32) % CM_WIDTH;
}

static const uint8_t *
client_addr(const struct flow *f)
{
	return (f->flags & FLOW_CLIENT_IS_A) ? f->a : f->b;
}

static void
client_add(struct flow_table *t, const struct flow *f, int32_t n)
{
	uint32_t c0, c1;

	client_cells(t, flow_family(f), client_addr(f), &c0, &c1);
	t->clients[0][c0] += (uint32_t)n;
	t->clients[1][c1] += (uint32_t)n;
}

uint32_t
flow_client_count(const struct flow_table *t, int family, const uint8_t *addr)
{
	uint32_t c0, c1;

	client_cells(t, family, addr, &c0, &c1);
	return t->clients[0][c0] < t->clients[1][c1] ? t->clients[0][c0] : t->clients[1][c1];
}

struct flow *
flow_insert(struct flow_table *t, const struct pkt *p, uint32_t now)
{
	const uint8_t *a, *b;
	uint16_t pa, pb;
	bool src_is_a = canon(p, &a, &b, &pa, &pb);
	struct flow *f = insert_key(t, p->family, a, b, pa, pb, now);

	if (!f)
		return NULL;
	if (src_is_a)
		f->flags |= FLOW_CLIENT_IS_A;
	client_add(t, f, 1);
	return f;
}

/* Change f's flags, moving it to the list they call for. A closing flow
 * no longer counts for its client: a client that opens and closes
 * connections at a steady pace would otherwise hold the last 30 s of them
 * against its quota (and closing flows are evicted early anyway). */
static void
set_flags(struct flow_table *t, struct flow *f, uint8_t flags)
{
	bool was_closing = flow_closing(f);

	if (list_of(t, f) == list_of(t, &(struct flow){ .flags = flags & FLOW_FLAGS })) {
		f->flags = flags & FLOW_FLAGS;
		return;
	}
	lru_unlink(t, f);
	f->flags = flags & FLOW_FLAGS;
	lru_append(t, f);
	if (!was_closing && flow_closing(f))
		client_add(t, f, -1);
}

bool
flow_restore(struct flow_table *t, const struct flow *saved, uint32_t now)
{
	struct flow *f = insert_key(t, (uint8_t)flow_family(saved), saved->a, saved->b,
				    saved->pa, saved->pb, now);

	if (!f)
		return false;
	f->offset = saved->offset;
	f->last_raw = saved->last_raw;
	f->syn_val = saved->syn_val;
	f->syn_ms = saved->syn_ms;
	f->domain = saved->domain;
	/* the flags first: they say which side is the client, and the list */
	lru_unlink(t, f);
	f->flags = saved->flags & FLOW_FLAGS;	/* includes FLOW_V6, as inserted */
	lru_append(t, f);
	if (!flow_closing(f))
		client_add(t, f, 1);
	return true;
}

/* once per connection: out of the per-packet path */
__attribute__((noinline, cold)) void
flow_answered(struct flow_table *t, struct flow *f)
{
	set_flags(t, f, f->flags | FLOW_ANSWERED);
}

/* once per connection: out of the per-packet path */
__attribute__((noinline, cold)) void
flow_remove(struct flow_table *t, struct flow *f)
{
	uint32_t i = find_slot(t, (uint8_t)flow_family(f), f->a, f->b, f->pa, f->pb), j = i;

	lru_unlink(t, f);
	if (!flow_closing(f))
		client_add(t, f, -1);
	/* Backward-shift deletion keeps linear probing free of tombstones. */
	t->slots[i] = 0;
	for (;;) {
		uint32_t r, home;
		struct flow *g;

		if (++j == t->nslots)
			j = 0;
		r = t->slots[j];
		if (!r)
			break;
		g = at(t, r);
		home = slot_of(t, key_hash(t, (uint8_t)flow_family(g), g->a, g->b, g->pa, g->pb));
		/* move g back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = r;
			t->slots[j] = 0;
			i = j;
		}
	}
	f->next = t->free_head;
	t->free_head = ref_of(t, f);
	t->count--;
}

/* once per connection: out of the per-packet path */
__attribute__((noinline, cold)) bool
flow_evict_idle(struct flow_table *t)
{
	for (int l = 0; l < NLISTS; l++) {
		if (t->lists[l].head) {
			flow_remove(t, at(t, t->lists[l].head));
			return true;
		}
	}
	return false;
}

void
flow_touch(struct flow_table *t, struct flow *f, uint32_t now)
{
	if (f->last == (uint16_t)now)
		return;
	f->last = (uint16_t)now;
	if (list_of(t, f)->tail != ref_of(t, f)) {
		lru_unlink(t, f);
		lru_append(t, f);
	}
}

/* once per connection: out of the per-packet path */
__attribute__((noinline, cold)) void
flow_fin(struct flow_table *t, struct flow *f, bool from_client, uint32_t now)
{
	set_flags(t, f, f->flags | (from_client ? FLOW_FIN_CLIENT : FLOW_FIN_SERVER));
	f->last = (uint16_t)now;
}

uint32_t
flow_expire(struct flow_table *t, uint32_t now, const struct flow_timeouts *to,
	    uint32_t limit)
{
	uint32_t n = 0;

	for (int l = 0; l < NLISTS; l++) {
		uint32_t timeout = l == LIST_HALF_OPEN ? to->half_open :
				   l == LIST_CLOSING ? to->closing : to->idle;

		while (n < limit && t->lists[l].head) {
			struct flow *f = at(t, t->lists[l].head);

			if ((uint16_t)(now - f->last) < timeout)
				break;
			flow_remove(t, f);
			n++;
		}
	}
	return n;
}

size_t
flow_table_bytes(const struct flow_table *t)
{
	return sizeof(*t) + (size_t)t->nslots * sizeof(*t->slots) +
	       (size_t)t->max * sizeof(*t->arena);
}

void
flow_foreach(const struct flow_table *t, void (*fn)(const struct flow *f, void *arg),
	     void *arg)
{
	for (int l = 0; l < NLISTS; l++)
		for (uint32_t r = t->lists[l].head; r; r = at(t, r)->next)
			fn(at(t, r), arg);
}

uint32_t
flow_count(const struct flow_table *t)
{
	return t->count;
}

int
flow_family(const struct flow *f)
{
	return (f->flags & FLOW_V6) ? 6 : 4;
}
