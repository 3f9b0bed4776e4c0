/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_takeover.c - the clocks a gateway starts from when it takes over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "takeover.h"

#define NOW 5000000u
static const uint8_t VIP[4] = { 203, 0, 113, 1 }, VIP2[4] = { 203, 0, 113, 2 },
		     CLIENT[4] = { 192, 0, 2, 5 }, SERVER[4] = { 198, 51, 100, 10 };

static struct conf conf = { .ha_labels = true, .ha_label_first = CTLABEL_FIRST_DEFAULT,
			    .ha_clock_skew = 100 };
static struct domains *d;
static struct discovery *disc;
static struct takeover t;

static int
setup(void **state)
{
	(void)state;
	d = domains_new(2);
	disc = discovery_new(16);
	t = (struct takeover){ .conf = &conf, .d = d, .disc = disc, .now_ms = NOW, .now_s = 50 };
	return d && disc ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	domains_free(d);
	discovery_free(disc);
	return 0;
}

/* A conntrack entry SNATed to vip, with a record of the other gateway's
 * (flags 0: no record). */
static struct ct_entry
entry(const uint8_t *vip, uint8_t flags, uint32_t syn_val, uint32_t syn_age, unsigned first)
{
	struct ct_entry e = { .orig = { .family = 4, .sport = 1, .dport = 2 } };
	struct ctlabel l = { .flags = flags, .offset = 7, .syn_val = syn_val,
			     .syn_wall = NOW - syn_age };
	uint8_t mask[CTLABEL_SIZE];

	memcpy(e.orig.src, CLIENT, 4);
	memcpy(e.orig.dst, SERVER, 4);
	memcpy(e.reply_dst, vip, 4);
	if (flags) {
		ctlabel_encode(&l, first, e.labels, mask);
		e.has_labels = true;
	}
	return e;
}

static uint32_t
mark_of(const uint8_t *vip)
{
	uint32_t m = 0;

	assert_true(domains_hwm(d, domains_intern(d, 4, vip), &m));
	return m;
}

static void
record_raises_its_translated_sources_clock_to_the_flows_bound(void **state)
{
	struct ct_entry e = entry(VIP, CTLABEL_SHIFT, NOW + 3000, 10240, CTLABEL_FIRST_DEFAULT);

	(void)state;
	takeover_entry(&t, &e);
	/* age 10240 + 100 ms of skew, at the bound's rate margin */
	assert_int_equal(mark_of(VIP), NOW + 3000 + 10340 + 10);
	assert_int_equal(t.labelled, 1);
}

static void
highest_record_of_a_source_wins(void **state)
{
	struct ct_entry a = entry(VIP, CTLABEL_SHIFT, NOW + 9000, 0, CTLABEL_FIRST_DEFAULT),
			b = entry(VIP, CTLABEL_SHIFT, NOW + 100, 0, CTLABEL_FIRST_DEFAULT);

	(void)state;
	takeover_entry(&t, &a);
	takeover_entry(&t, &b);
	assert_int_equal(mark_of(VIP), NOW + 9000 + 100);
}

static void
each_translated_source_gets_its_own_floor(void **state)
{
	struct ct_entry a = entry(VIP, CTLABEL_SHIFT, NOW + 9000, 0, CTLABEL_FIRST_DEFAULT),
			b = entry(VIP2, CTLABEL_SHIFT, NOW + 100, 0, CTLABEL_FIRST_DEFAULT);

	(void)state;
	takeover_entry(&t, &a);
	takeover_entry(&t, &b);
	assert_int_equal(mark_of(VIP2), NOW + 100 + 100);
}

static void
entry_without_record_changes_nothing(void **state)
{
	struct ct_entry e = entry(VIP, 0, 0, 0, CTLABEL_FIRST_DEFAULT),
			o = entry(VIP, CTLABEL_SHIFT, NOW + 9000, 0, 0);
	uint32_t m;

	(void)state;
	takeover_entry(&t, &e);
	takeover_entry(&t, &o);		/* another range of label bits */
	assert_int_equal(t.entries, 2);
	assert_int_equal(t.labelled, 0);
	assert_int_equal(domains_count(d), 1);
	assert_false(domains_hwm(d, DOMAIN_SHARED, &m));
}

static void
clock_floor_starts_every_domain_a_skew_ahead(void **state)
{
	struct ct_entry e = entry(VIP, CTLABEL_SHIFT, NOW - 500000, 0, CTLABEL_FIRST_DEFAULT);

	(void)state;
	takeover_entry(&t, &e);
	takeover_clock(&t);
	assert_int_equal(mark_of(VIP), NOW + 100);
	assert_int_equal(domains_next_tsval(d, DOMAIN_SHARED, NOW), NOW + 100);
}

static void
clock_floor_carries_the_highest_record_to_every_domain(void **state)
{
	struct ct_entry e = entry(VIP, CTLABEL_SHIFT, NOW + 9000, 0, CTLABEL_FIRST_DEFAULT);

	(void)state;
	domains_intern(d, 4, VIP2);	/* the interface's own address, as an "auto"
					 * translated source keys the flows */
	takeover_entry(&t, &e);
	takeover_clock(&t);
	assert_int_equal(mark_of(VIP2), NOW + 9000 + 100);
}

static void
raise_never_lowers_what_a_worker_sent(void **state)
{
	uint16_t dom = domains_intern(d, 4, VIP);
	struct ct_entry e = entry(VIP, CTLABEL_SHIFT, NOW, 0, CTLABEL_FIRST_DEFAULT);

	(void)state;
	domains_note(d, 1, dom, NOW + 70000);
	takeover_entry(&t, &e);
	assert_int_equal(mark_of(VIP), NOW + 70000);
}

static void
auto_flag_makes_its_server_legacy(void **state)
{
	struct ct_entry e = entry(VIP, CTLABEL_AUTO, 0, 0, CTLABEL_FIRST_DEFAULT);
	uint16_t dom;

	(void)state;
	takeover_entry(&t, &e);
	dom = domains_intern(d, 4, VIP);
	assert_int_equal(discovery_verdict(disc, dom, 4, SERVER), DISCOVERY_LEGACY);
	assert_int_equal(t.legacy, 1);
	takeover_entry(&t, &e);		/* already legacy: not counted again */
	assert_int_equal(t.legacy, 1);
}

static void
server_without_auto_flag_stays_unknown(void **state)
{
	struct ct_entry e = entry(VIP, CTLABEL_SHIFT, NOW, 0, CTLABEL_FIRST_DEFAULT);

	(void)state;
	takeover_entry(&t, &e);
	assert_int_equal(discovery_verdict(disc, domains_intern(d, 4, VIP), 4, SERVER),
			 DISCOVERY_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(record_raises_its_translated_sources_clock_to_the_flows_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(highest_record_of_a_source_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(each_translated_source_gets_its_own_floor, setup, teardown),
		cmocka_unit_test_setup_teardown(entry_without_record_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(clock_floor_starts_every_domain_a_skew_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(clock_floor_carries_the_highest_record_to_every_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(raise_never_lowers_what_a_worker_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(auto_flag_makes_its_server_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(server_without_auto_flag_stays_unknown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
