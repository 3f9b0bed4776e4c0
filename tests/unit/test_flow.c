/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_flow.c - the rewrite flow table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"
#include "packet.h"
#include "pktbuild.h"

/* The parsed packet client:cport -> server:80 (or the reverse). A parsed
 * packet points into its buffer: each of the last 16 has its own. */
static struct pkt
P(int family, unsigned client, uint16_t cport, bool reply)
{
	static uint8_t bufs[16][PB_MAX];
	static unsigned next;
	uint8_t *buf = bufs[next++ % 16];
	char c[64], s[64];
	struct pkt p;
	size_t n;

	if (family == 4) {
		snprintf(c, sizeof(c), "192.0.2.%u", client);
		snprintf(s, sizeof(s), "198.51.100.10");
	} else {
		snprintf(c, sizeof(c), "2001:db8::%x", client);
		snprintf(s, sizeof(s), "2001:db8:1::10");
	}
	n = pb_build(buf, &(struct pb_spec){ .family = family,
		.saddr = reply ? s : c, .daddr = reply ? c : s,
		.sport = reply ? 80 : cport, .dport = reply ? cport : 80 });
	assert_int_equal(pkt_parse(buf, n, &p), PKT_OK);
	return p;
}

/* Timeouts: open flows idle, closing flows, half-open flows. */
static const struct flow_timeouts *
TO(uint32_t idle, uint32_t closing, uint32_t half_open)
{
	static struct flow_timeouts to;

	to = (struct flow_timeouts){ .idle = idle, .closing = closing, .half_open = half_open };
	return &to;
}

/* A flow whose server has answered. */
static struct flow *
open_flow(struct flow_table *t, const struct pkt *p, uint32_t now)
{
	struct flow *f = flow_insert(t, p, now);

	assert_non_null(f);
	flow_answered(t, f);
	return f;
}

static void
lookup_finds_a_flow_in_both_directions(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt out = P(4, 5, 40000, false), back = P(4, 5, 40000, true);
	struct flow *f;
	bool fc = false;
	(void)state;

	f = flow_insert(t, &out, 100);
	assert_non_null(f);
	assert_ptr_equal(flow_lookup(t, &out, &fc), f);
	assert_true(fc);
	assert_ptr_equal(flow_lookup(t, &back, &fc), f);
	assert_false(fc);
	flow_table_free(t);
}

static void
client_side_is_kept_when_client_sorts_after_server(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt out = P(4, 5, 40000, false), back = P(4, 5, 40000, true);
	bool fc = true;
	(void)state;

	/* insert from the server's side: that side is then the "client" */
	assert_non_null(flow_insert(t, &back, 100));
	flow_lookup(t, &back, &fc);
	assert_true(fc);
	flow_lookup(t, &out, &fc);
	assert_false(fc);
	flow_table_free(t);
}

static void
ipv6_flows_are_separate_by_port(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt a = P(6, 5, 40000, false), b = P(6, 5, 40001, false);
	bool fc;
	(void)state;

	assert_non_null(flow_insert(t, &a, 1));
	assert_null(flow_lookup(t, &b, &fc));
	assert_non_null(flow_insert(t, &b, 1));
	assert_int_equal(flow_count(t), 2);
	flow_table_free(t);
}

static void
inserting_an_existing_flow_fails(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt a = P(4, 5, 40000, false);
	(void)state;

	assert_non_null(flow_insert(t, &a, 1));
	assert_null(flow_insert(t, &a, 1));
	flow_table_free(t);
}

static void
full_table_refuses_new_flows(void **state)
{
	struct flow_table *t = flow_table_new(8, 1);
	(void)state;

	for (unsigned i = 0; i < 8; i++) {
		struct pkt p = P(4, 1 + i, 1000, false);

		assert_non_null(flow_insert(t, &p, 1));
	}
	struct pkt extra = P(4, 100, 1000, false);
	assert_null(flow_insert(t, &extra, 1));
	assert_int_equal(flow_count(t), 8);
	flow_table_free(t);
}

static void
evict_idle_removes_the_least_recently_used(void **state)
{
	struct flow_table *t = flow_table_new(3, 1);
	struct pkt a = P(4, 1, 1, false), b = P(4, 2, 1, false), c = P(4, 3, 1, false),
		   d = P(4, 4, 1, false);
	bool fc;
	(void)state;

	flow_insert(t, &a, 1);
	flow_insert(t, &b, 2);
	flow_insert(t, &c, 3);
	flow_touch(t, flow_lookup(t, &a, &fc), 4);	/* b is now the oldest */
	assert_true(flow_evict_idle(t));
	assert_null(flow_lookup(t, &b, &fc));
	assert_non_null(flow_lookup(t, &a, &fc));
	assert_non_null(flow_insert(t, &d, 5));
	flow_table_free(t);
}

static void
idle_flows_expire_and_active_ones_stay(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt a = P(4, 1, 1, false), b = P(4, 2, 1, false);
	bool fc;
	(void)state;

	open_flow(t, &a, 100);
	open_flow(t, &b, 100);
	flow_touch(t, flow_lookup(t, &b, &fc), 650);
	assert_int_equal(flow_expire(t, 701, TO(600, 30, 5), 100), 1);
	assert_null(flow_lookup(t, &a, &fc));
	assert_non_null(flow_lookup(t, &b, &fc));
	flow_table_free(t);
}

static void
closed_flows_expire_after_the_short_timeout(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt a = P(4, 1, 1, false);
	struct flow *f;
	bool fc;
	(void)state;

	f = open_flow(t, &a, 100);
	flow_fin(t, f, true, 100);
	assert_int_equal(flow_expire(t, 140, TO(600, 30, 5), 100), 0);	/* one FIN only */
	assert_false(flow_closing(f));
	flow_fin(t, f, false, 110);
	assert_true(flow_closing(f));
	assert_int_equal(flow_expire(t, 139, TO(600, 30, 5), 100), 0);
	assert_int_equal(flow_expire(t, 140, TO(600, 30, 5), 100), 1);
	assert_null(flow_lookup(t, &a, &fc));
	flow_table_free(t);
}

static void
expire_respects_its_limit(void **state)
{
	struct flow_table *t = flow_table_new(64, 1);
	(void)state;

	for (unsigned i = 0; i < 50; i++) {
		struct pkt p = P(4, 1 + i, 7, false);

		flow_insert(t, &p, 0);
	}
	assert_int_equal(flow_expire(t, 1000, TO(600, 30, 600), 20), 20);
	assert_int_equal(flow_count(t), 30);
	flow_table_free(t);
}

static void
half_open_flows_expire_after_their_short_timeout(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt a = P(4, 1, 1, false), b = P(4, 2, 1, false);
	bool fc;
	(void)state;

	flow_insert(t, &a, 100);	/* no answer yet */
	open_flow(t, &b, 100);
	assert_int_equal(flow_expire(t, 104, TO(600, 30, 5), 100), 0);
	assert_int_equal(flow_expire(t, 105, TO(600, 30, 5), 100), 1);
	assert_null(flow_lookup(t, &a, &fc));
	assert_non_null(flow_lookup(t, &b, &fc));
	flow_table_free(t);
}

static void
eviction_takes_a_half_open_flow_before_an_older_open_one(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt old = P(4, 1, 1, false), syn = P(4, 2, 1, false);
	bool fc;
	(void)state;

	open_flow(t, &old, 1);
	flow_insert(t, &syn, 500);
	assert_true(flow_evict_idle(t));
	assert_null(flow_lookup(t, &syn, &fc));
	assert_non_null(flow_lookup(t, &old, &fc));
	flow_table_free(t);
}

static void
eviction_takes_a_closing_flow_before_an_open_one(void **state)
{
	struct flow_table *t = flow_table_new(16, 1);
	struct pkt old = P(4, 1, 1, false), done = P(4, 2, 1, false);
	struct flow *f;
	bool fc;
	(void)state;

	open_flow(t, &old, 1);
	f = open_flow(t, &done, 500);
	flow_fin(t, f, true, 500);
	flow_fin(t, f, false, 500);
	assert_true(flow_evict_idle(t));
	assert_null(flow_lookup(t, &done, &fc));
	assert_non_null(flow_lookup(t, &old, &fc));
	flow_table_free(t);
}

static void
client_count_follows_inserts_and_removals(void **state)
{
	struct flow_table *t = flow_table_new(64, 3);
	struct pkt p[10];
	bool fc;
	(void)state;

	for (unsigned i = 0; i < 10; i++) {
		p[i] = P(4, 7, (uint16_t)(1000 + i), false);
		flow_insert(t, &p[i], 1);
	}
	assert_int_equal(flow_client_count(t, 4, p[0].saddr), 10);
	flow_remove(t, flow_lookup(t, &p[3], &fc));
	assert_int_equal(flow_client_count(t, 4, p[0].saddr), 9);
	/* the reply direction names the same client */
	assert_int_equal(flow_client_count(t, 4, P(4, 7, 1000, true).daddr), 9);
	flow_table_free(t);
}

static void
client_count_never_undercounts_among_many_clients(void **state)
{
	struct flow_table *t = flow_table_new(40000, 9);
	unsigned per[250] = { 0 };
	(void)state;

	for (unsigned i = 0; i < 30000; i++) {
		unsigned c = (i * 7919u) % 250;
		struct pkt p = P(6, c + 1, (uint16_t)(1 + i), false);

		assert_non_null(flow_insert(t, &p, 1));
		per[c]++;
	}
	for (unsigned c = 0; c < 250; c++) {
		struct pkt p = P(6, c + 1, 1, false);
		uint32_t n = flow_client_count(t, 6, p.saddr);

		assert_true(n >= per[c]);
		assert_true(n < per[c] + 200);	/* collisions stay rare */
	}
	flow_table_free(t);
}

/* Restored flows count for their client (not their server), closing
 * ones not at all, and removing them brings the count back to 0. */
static void
restored_flows_count_for_their_client(void **state)
{
	struct flow_table *t = flow_table_new(16, 1), *u = flow_table_new(16, 1);
	struct pkt a = P(4, 9, 1, false), b = P(4, 9, 2, false);
	struct flow *f, *g;
	bool fc;
	(void)state;

	/* the client sorts after the server: the canonical side a is the server */
	f = open_flow(t, &a, 1);
	g = open_flow(t, &b, 1);
	flow_fin(t, g, true, 1);
	flow_fin(t, g, false, 1);
	assert_true(flow_restore(u, f, 1));
	assert_true(flow_restore(u, g, 1));
	assert_int_equal(flow_client_count(u, 4, a.saddr), 1);
	assert_int_equal(flow_client_count(u, 4, a.daddr), 0);
	flow_remove(u, flow_lookup(u, &a, &fc));
	flow_remove(u, flow_lookup(u, &b, &fc));
	assert_int_equal(flow_client_count(u, 4, a.saddr), 0);
	assert_int_equal(flow_count(u), 0);
	flow_table_free(t);
	flow_table_free(u);
}

/* Many inserts and removals in a small table: every remaining flow must
 * still be found (backward-shift deletion keeps probe chains intact). */
static void
removals_keep_every_other_flow_reachable(void **state)
{
	struct flow_table *t = flow_table_new(200, 7);
	bool present[200] = { false }, fc;
	uint32_t x = 12345;
	(void)state;

	for (int round = 0; round < 5000; round++) {
		unsigned i;
		struct pkt p;
		struct flow *f;

		x = x * 1103515245u + 12345u;
		i = (x >> 8) % 200;
		p = P(4, 1 + i % 250, (uint16_t)(1000 + i), false);
		f = flow_lookup(t, &p, &fc);
		assert_int_equal(f != NULL, present[i]);
		if (f)
			flow_remove(t, f);
		else
			assert_non_null(flow_insert(t, &p, (uint32_t)round));
		present[i] = !present[i];
	}
	for (unsigned i = 0; i < 200; i++) {
		struct pkt p = P(4, 1 + i % 250, (uint16_t)(1000 + i), false);

		assert_int_equal(flow_lookup(t, &p, &fc) != NULL, present[i]);
	}
	flow_table_free(t);
}

static void
restore_recreates_a_saved_flow(void **state)
{
	struct flow_table *t = flow_table_new(16, 1), *t2 = flow_table_new(16, 99);
	struct pkt a = P(4, 1, 1, false), back = P(4, 1, 1, true);
	struct flow *f, saved, *g;
	bool fc = true;
	(void)state;

	f = flow_insert(t, &a, 1);
	f->offset = 0xdeadbeef;
	f->domain = 3;
	saved = *f;
	assert_true(flow_restore(t2, &saved, 50));
	g = flow_lookup(t2, &back, &fc);
	assert_non_null(g);
	assert_false(fc);
	assert_int_equal(g->offset, 0xdeadbeef);
	assert_int_equal(g->domain, 3);
	flow_table_free(t);
	flow_table_free(t2);
}

static void
flow_costs_one_cache_line_and_its_index_slot(void **state)
{
	struct flow_table *t = flow_table_new(100000, 1);
	(void)state;

	/* one cache line: the real-time bound needs the SYN's TSval' and time */
	assert_int_equal(sizeof(struct flow), 64);
	/* arena + index (80% load) per flow */
	assert_true(flow_table_bytes(t) / 100000 <= 70);
	flow_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookup_finds_a_flow_in_both_directions),
		cmocka_unit_test(client_side_is_kept_when_client_sorts_after_server),
		cmocka_unit_test(ipv6_flows_are_separate_by_port),
		cmocka_unit_test(inserting_an_existing_flow_fails),
		cmocka_unit_test(full_table_refuses_new_flows),
		cmocka_unit_test(evict_idle_removes_the_least_recently_used),
		cmocka_unit_test(idle_flows_expire_and_active_ones_stay),
		cmocka_unit_test(closed_flows_expire_after_the_short_timeout),
		cmocka_unit_test(expire_respects_its_limit),
		cmocka_unit_test(half_open_flows_expire_after_their_short_timeout),
		cmocka_unit_test(eviction_takes_a_half_open_flow_before_an_older_open_one),
		cmocka_unit_test(eviction_takes_a_closing_flow_before_an_open_one),
		cmocka_unit_test(client_count_follows_inserts_and_removals),
		cmocka_unit_test(client_count_never_undercounts_among_many_clients),
		cmocka_unit_test(restored_flows_count_for_their_client),
		cmocka_unit_test(removals_keep_every_other_flow_reachable),
		cmocka_unit_test(restore_recreates_a_saved_flow),
		cmocka_unit_test(flow_costs_one_cache_line_and_its_index_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
