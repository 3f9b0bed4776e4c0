/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_property.c - for many random valid TCP packets, the incrementally
 * updated checksum after strip or shift equals a full recomputation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bytes.h"
#include "csum.h"
#include "packet_int.h"
#include "pktbuild.h"
#include "testrand.h"
#include "tsopt.h"

#define RUNS 12000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	return test_rand(&rng);
}

/* Random option list holding one or two timestamps among other options. */
static void
random_options(struct pb_opts *o)
{
	int ts_left = 1 + (rnd() % 4 == 0);

	while (o->n < 30) {
		switch (rnd() % 7) {
		case 0: pb_nop(o); break;
		case 1: if (o->n <= 26) pb_mss(o, (uint16_t)rnd()); break;
		case 2: if (o->n <= 27) pb_ws(o, (uint8_t)(rnd() % 15)); break;
		case 3: if (o->n <= 28) pb_sackok(o); break;
		default:
			if (ts_left && o->n <= 30) {
				pb_ts(o, rnd(), rnd() % 5 ? rnd() : 0);
				ts_left--;
			}
		}
		if (!ts_left && rnd() % 3 == 0)
			break;
	}
	if (ts_left && o->n <= 30)
		pb_ts(o, rnd(), rnd());
}

static void
random_spec(struct pb_spec *s, struct pb_opts *o, uint8_t *ext)
{
	memset(s, 0, sizeof(*s));
	memset(o, 0, sizeof(*o));
	random_options(o);
	s->opts = o;
	s->family = rnd() % 3 ? 4 : 6;
	s->flags = (uint8_t)(rnd() & 0x3f);
	s->sport = (uint16_t)rnd();
	s->dport = (uint16_t)rnd();
	s->payload = rnd() % 1400;
	if (s->family == 4) {
		s->ip_opts = (rnd() % 4) * 4;
	} else {
		s->v6_ext_n = rnd() % 3;
		for (size_t i = 0; i < s->v6_ext_n; i++)
			ext[i] = (uint8_t[]){ 0, 43, 60 }[rnd() % 3];
		s->v6_ext = ext;
		s->v6_ext_len = 8 * (1 + rnd() % 3);
	}
}

static uint16_t
recomputed(const uint8_t *buf, const struct pkt *p)
{
	return csum_tcp(p->saddr, p->daddr, p->addr_len, buf + p->l4_off, p->tcp_len);
}

static void
incremental_strip_equals_full_recomputation(void **state)
{
	static uint8_t buf[PB_MAX];
	struct pb_spec s;
	struct pb_opts o;
	uint8_t ext[4];
	struct pkt p;
	(void)state;

	for (int i = 0; i < RUNS; i++) {
		size_t n;

		random_spec(&s, &o, ext);
		n = pb_build(buf, &s);
		assert_int_equal(pkt_parse(buf, n, &p), PKT_OK);
		assert_true(p.ts_count >= 1);
		assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), p.ts_count);
		assert_int_equal(pkt_get16(buf + p.l4_off + 16), recomputed(buf, &p));
		assert_true(pb_tcp_csum_ok(buf, n));
	}
}

static void
incremental_shift_equals_full_recomputation(void **state)
{
	static uint8_t buf[PB_MAX];
	struct pb_spec s;
	struct pb_opts o;
	uint8_t ext[4];
	struct pkt p, after;
	(void)state;

	for (int i = 0; i < RUNS; i++) {
		uint32_t add = rnd(), sub = rnd();
		size_t n;

		random_spec(&s, &o, ext);
		n = pb_build(buf, &s);
		assert_int_equal(pkt_parse(buf, n, &p), PKT_OK);
		assert_int_equal(tsopt_shift(buf, &p, add, sub, CSUM_INCREMENTAL), p.ts_count);
		assert_int_equal(pkt_get16(buf + p.l4_off + 16), recomputed(buf, &p));
		assert_true(pb_tcp_csum_ok(buf, n));
		assert_int_equal(pkt_parse(buf, n, &after), PKT_OK);
		assert_int_equal(after.tsval, p.tsval + add);
		assert_int_equal(after.tsecr, p.tsecr ? p.tsecr - sub : 0);
	}
}

static void
full_mode_from_partial_equals_reference(void **state)
{
	static uint8_t buf[PB_MAX];
	struct pb_spec s;
	struct pb_opts o;
	uint8_t ext[4];
	struct pkt p;
	(void)state;

	for (int i = 0; i < RUNS / 4; i++) {
		size_t n;

		random_spec(&s, &o, ext);
		n = pb_build(buf, &s);
		pb_make_partial(buf, n);
		assert_int_equal(pkt_parse(buf, n, &p), PKT_OK);
		if (i & 1)
			tsopt_strip(buf, &p, CSUM_FULL);
		else
			tsopt_shift(buf, &p, rnd(), rnd(), CSUM_FULL);
		assert_true(pb_tcp_csum_ok(buf, n));
	}
}

static void
expect_same_parse(const uint8_t *buf, size_t n)
{
	struct pkt a, b;
	enum pkt_status sa, sb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	sa = pkt_parse(buf, n, &a);
	sb = pkt_parse_general(buf, n, &b);
	assert_int_equal(sa, sb);
	if (sa != PKT_OK)
		return;
	assert_int_equal(a.family, b.family);
	assert_int_equal(a.addr_len, b.addr_len);
	assert_int_equal(a.tcp_flags, b.tcp_flags);
	assert_int_equal(a.ts_count, b.ts_count);
	assert_int_equal(a.l4_off, b.l4_off);
	assert_int_equal(a.tcp_hlen, b.tcp_hlen);
	assert_int_equal(a.tcp_len, b.tcp_len);
	assert_int_equal(a.ts_off, b.ts_off);
	assert_int_equal(a.complete, b.complete);
	assert_int_equal(pkt_sport(&a), pkt_sport(&b));
	assert_ptr_equal(a.tcp, b.tcp);
	assert_int_equal(pkt_dport(&a), pkt_dport(&b));
	if (a.ts_count) {
		assert_int_equal(a.tsval, b.tsval);
		assert_int_equal(a.tsecr, b.tsecr);
	}
	assert_ptr_equal(a.saddr, b.saddr);
	assert_ptr_equal(a.daddr, b.daddr);
}

/* The fast path must agree with the general parser on everything: random
 * packets (Linux layouts included), every truncation, and random damage. */
static void
fast_parse_path_agrees_with_the_general_one(void **state)
{
	static uint8_t buf[PB_MAX];
	struct pb_spec s;
	struct pb_opts o;
	uint8_t ext[4];
	(void)state;

	for (int i = 0; i < RUNS; i++) {
		size_t n;

		random_spec(&s, &o, ext);
		if (i % 2) {		/* a Linux layout */
			memset(&o, 0, sizeof(o));
			if (i % 4 == 1) {
				pb_mss(&o, (uint16_t)rnd());
				pb_sackok(&o);
				pb_ts(&o, rnd(), rnd());
				pb_nop(&o);
				pb_ws(&o, (uint8_t)rnd());
			} else {
				pb_nop(&o);
				pb_nop(&o);
				pb_ts(&o, rnd(), rnd());
			}
			s.family = 4;
			s.ip_opts = rnd() % 4 ? 0 : 4;
		}
		n = pb_build(buf, &s);
		expect_same_parse(buf, n);
		expect_same_parse(buf, rnd() % (n + 1));	/* cut */
		buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));	/* damage */
		expect_same_parse(buf, n);
		expect_same_parse(buf, n + rnd() % 8);		/* trailing bytes */
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(incremental_strip_equals_full_recomputation),
		cmocka_unit_test(incremental_shift_equals_full_recomputation),
		cmocka_unit_test(full_mode_from_partial_equals_reference),
		cmocka_unit_test(fast_parse_path_agrees_with_the_general_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
