/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_domain.c - clock domains and their high-water marks. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain.h"

static const uint8_t A1[4] = { 198, 51, 100, 1 }, A2[4] = { 198, 51, 100, 2 };

static void
interning_the_same_address_gives_the_same_domain(void **state)
{
	struct domains *d = domains_new(1);
	(void)state;

	uint16_t a = domains_intern(d, 4, A1), b = domains_intern(d, 4, A2);
	assert_int_not_equal(a, DOMAIN_SHARED);
	assert_int_not_equal(a, b);
	assert_int_equal(domains_intern(d, 4, A1), a);
	domains_free(d);
}

static void
unknown_interface_is_the_shared_domain(void **state)
{
	struct domains *d = domains_new(1);
	(void)state;

	assert_int_equal(domains_for_ifindex(d, 4, 7), DOMAIN_SHARED);
	assert_int_equal(domains_for_ifindex(d, 4, 999999), DOMAIN_SHARED);
	domains_set_ifindex(d, 4, 7, domains_intern(d, 4, A1));
	assert_int_equal(domains_for_ifindex(d, 4, 7), domains_intern(d, 4, A1));
	assert_int_equal(domains_for_ifindex(d, 6, 7), DOMAIN_SHARED);
	domains_free(d);
}

static void
interface_address_change_moves_to_a_new_domain(void **state)
{
	struct domains *d = domains_new(1);
	uint16_t old, new;
	(void)state;

	old = domains_intern(d, 4, A1);
	domains_set_ifindex(d, 4, 3, old);
	new = domains_intern(d, 4, A2);
	domains_set_ifindex(d, 4, 3, new);
	assert_int_equal(domains_for_ifindex(d, 4, 3), new);
	assert_int_not_equal(old, new);
	domains_free(d);
}

static void
first_syn_uses_the_clock(void **state)
{
	struct domains *d = domains_new(1);
	(void)state;

	assert_int_equal(domains_next_tsval(d, 1, 123456), 123456);
	domains_free(d);
}

static void
syn_after_a_higher_mark_repeats_it(void **state)
{
	struct domains *d = domains_new(1);
	(void)state;

	/* a legacy server drops only when recorded - TSval > 1: equal passes */
	domains_note(d, 0, 1, 5000);
	assert_int_equal(domains_next_tsval(d, 1, 4000), 5000);
	assert_int_equal(domains_next_tsval(d, 1, 6000), 6000);
	domains_free(d);
}

static void
next_tsval_is_never_zero(void **state)
{
	struct domains *d = domains_new(1);
	(void)state;

	assert_int_equal(domains_next_tsval(d, 1, 0), 1);
	domains_note(d, 0, 2, 0);
	assert_int_equal(domains_next_tsval(d, 2, 0xfffffff0u), 1);	/* the mark 0 -> 1 */
	domains_free(d);
}

static void
mark_comparison_wraps_at_two_to_the_32(void **state)
{
	struct domains *d = domains_new(1);
	uint32_t hwm;
	(void)state;

	domains_note(d, 0, 1, 0xfffffff0u);
	domains_note(d, 0, 1, 0x00000010u);	/* later in serial arithmetic */
	assert_true(domains_hwm(d, 1, &hwm));
	assert_int_equal(hwm, 0x10);
	domains_note(d, 0, 1, 0xffffff00u);	/* earlier: ignored */
	assert_true(domains_hwm(d, 1, &hwm));
	assert_int_equal(hwm, 0x10);
	domains_free(d);
}

static void
mark_comparison_near_two_to_the_31(void **state)
{
	struct domains *d = domains_new(1);
	uint32_t hwm;
	(void)state;

	domains_note(d, 0, 1, 0x7ffffff0u);
	domains_note(d, 0, 1, 0x80000010u);
	assert_true(domains_hwm(d, 1, &hwm));
	assert_int_equal(hwm, 0x80000010u);
	assert_int_equal(domains_next_tsval(d, 1, 0x7fffffffu), 0x80000010u);
	domains_free(d);
}

static void
the_highest_mark_of_any_worker_counts(void **state)
{
	struct domains *d = domains_new(4);
	uint32_t hwm;
	(void)state;

	domains_note(d, 0, 1, 100);
	domains_note(d, 3, 1, 900);
	domains_note(d, 1, 1, 500);
	assert_true(domains_hwm(d, 1, &hwm));
	assert_int_equal(hwm, 900);
	assert_false(domains_hwm(d, 2, &hwm));
	domains_free(d);
}

struct thr {
	struct domains *d;
	unsigned w;
	uint32_t last;
	int bad;
};

/* Each thread plays a worker: it takes TSval' for a new SYN, checks it is
 * past every mark it can see, then notes it (and a few later packets). */
static void *
worker(void *arg)
{
	struct thr *t = arg;

	for (uint32_t i = 0; i < 20000; i++) {
		uint32_t hwm = 0, v;
		bool seen = domains_hwm(t->d, 1, &hwm);

		/* marks only grow: a TSval' taken now is not below what we saw */
		v = domains_next_tsval(t->d, 1, 1000 + i / 4);
		if (seen && (int32_t)(v - hwm) < 0)
			t->bad++;
		if (i && (int32_t)(v - t->last) < 0)
			t->bad++;
		domains_note(t->d, t->w, 1, v);
		t->last = v;
	}
	return NULL;
}

static void
marks_stay_monotonic_under_concurrent_workers(void **state)
{
	struct domains *d = domains_new(4);
	struct thr th[4];
	pthread_t id[4];
	uint32_t hwm;
	(void)state;

	for (unsigned i = 0; i < 4; i++) {
		th[i] = (struct thr){ .d = d, .w = i };
		pthread_create(&id[i], NULL, worker, &th[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(id[i], NULL);
		assert_int_equal(th[i].bad, 0);
	}
	assert_true(domains_hwm(d, 1, &hwm));
	assert_true(hwm >= 1000 + 19999 / 4);
	domains_free(d);
}

/* No drift: 10,000 SYNs a second on one translated source for 60 s of a
 * simulated wall clock (each SYN also noted, as its flow's first packet
 * is): the domain's mark never runs ahead of the clock. With the old
 * mark + 1 per SYN it ran 9 ms ahead per ms, 540 s in the minute. */
static void
ten_thousand_syns_a_second_never_run_ahead_of_the_clock(void **state)
{
	struct domains *d = domains_new(1);
	uint32_t start = 1700000000u, wall = start, hwm = 0, v;
	(void)state;

	for (uint32_t syn = 0; syn < 600000; syn++) {
		wall = start + syn / 10;	/* 10 SYNs per ms */
		v = domains_next_tsval(d, 1, wall);
		domains_note(d, 0, 1, v);
		assert_true((int32_t)(v - wall) <= 0);
	}
	assert_true(domains_hwm(d, 1, &hwm));
	assert_int_equal(hwm, wall);
	assert_int_equal(wall - start, 59999);
	domains_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interning_the_same_address_gives_the_same_domain),
		cmocka_unit_test(unknown_interface_is_the_shared_domain),
		cmocka_unit_test(interface_address_change_moves_to_a_new_domain),
		cmocka_unit_test(first_syn_uses_the_clock),
		cmocka_unit_test(syn_after_a_higher_mark_repeats_it),
		cmocka_unit_test(ten_thousand_syns_a_second_never_run_ahead_of_the_clock),
		cmocka_unit_test(next_tsval_is_never_zero),
		cmocka_unit_test(mark_comparison_wraps_at_two_to_the_32),
		cmocka_unit_test(mark_comparison_near_two_to_the_31),
		cmocka_unit_test(the_highest_mark_of_any_worker_counts),
		cmocka_unit_test(marks_stay_monotonic_under_concurrent_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
