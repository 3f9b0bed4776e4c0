/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_discovery.c - the legacy server's model per (translated source,
 * server), the evidence and the verdict. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "discovery.h"

static const uint8_t srv[4] = { 198, 51, 100, 10 }, other[4] = { 203, 0, 113, 10 };

static void
syn_behind_a_fresh_record_is_predicted_for_both_variants(void **state)
{
	struct discovery *d = discovery_new(16);
	(void)state;

	assert_int_equal(discovery_syn(d, 1, 4, srv, true, 5000, 100), 0);
	discovery_record(d, 1, 4, srv, 9000, 100);
	assert_int_equal(discovery_syn(d, 1, 4, srv, true, 5000, 101),
			 DISCOVERY_DROP_310 | DISCOVERY_DROP_4X);
	/* one behind passes: a legacy server drops only when more than 1 */
	assert_int_equal(discovery_syn(d, 1, 4, srv, true, 8999, 101), 0);
	assert_int_equal(discovery_syn(d, 1, 4, srv, true, 9000, 101), 0);
	discovery_free(d);
}

static void
syn_without_timestamp_is_predicted_for_4x_only(void **state)
{
	struct discovery *d = discovery_new(16);
	(void)state;

	discovery_record(d, 1, 4, srv, 9000, 100);
	assert_int_equal(discovery_syn(d, 1, 4, srv, false, 0, 110), DISCOVERY_DROP_4X);
	discovery_free(d);
}

static void
record_lasts_sixty_seconds(void **state)
{
	struct discovery *d = discovery_new(16);
	(void)state;

	discovery_record(d, 1, 4, srv, 9000, 100);
	assert_int_not_equal(discovery_syn(d, 1, 4, srv, true, 5000, 159), 0);
	assert_int_equal(discovery_syn(d, 1, 4, srv, true, 5000, 160), 0);
	discovery_free(d);
}

static void
record_keeps_the_higher_value_and_other_keys_are_apart(void **state)
{
	struct discovery *d = discovery_new(16);
	(void)state;

	discovery_record(d, 1, 4, srv, 9000, 100);
	discovery_record(d, 1, 4, srv, 7000, 101);	/* lower: kept 9000 */
	assert_int_not_equal(discovery_syn(d, 1, 4, srv, true, 8000, 102), 0);
	assert_int_equal(discovery_syn(d, 2, 4, srv, true, 8000, 102), 0);	/* other source */
	assert_int_equal(discovery_syn(d, 1, 4, other, true, 8000, 102), 0);	/* other server */
	discovery_free(d);
}

static void
three_confirmed_drops_make_a_legacy_server(void **state)
{
	struct discovery *d = discovery_new(16);
	bool changed = false;
	(void)state;

	assert_int_equal(discovery_evidence(d, 1, 4, srv, true, 100, &changed), DISCOVERY_UNKNOWN);
	assert_int_equal(discovery_evidence(d, 1, 4, srv, true, 100, &changed), DISCOVERY_UNKNOWN);
	assert_false(changed);
	assert_int_equal(discovery_evidence(d, 1, 4, srv, true, 100, &changed), DISCOVERY_LEGACY);
	assert_true(changed);
	assert_int_equal(discovery_verdict(d, 1, 4, srv), DISCOVERY_LEGACY);
	discovery_free(d);
}

static void
three_answered_predictions_and_no_drop_make_a_server_not_legacy(void **state)
{
	struct discovery *d = discovery_new(16);
	bool changed;
	(void)state;

	for (int i = 0; i < 3; i++)
		discovery_evidence(d, 1, 4, other, false, 100, &changed);
	assert_int_equal(discovery_verdict(d, 1, 4, other), DISCOVERY_NOT_LEGACY);
	discovery_evidence(d, 1, 4, other, true, 100, &changed);	/* one drop: unsure */
	assert_int_equal(discovery_verdict(d, 1, 4, other), DISCOVERY_UNKNOWN);
	discovery_free(d);
}

static void
snapshot_lists_most_confirmed_first_and_the_table_stays_bounded(void **state)
{
	struct discovery *d = discovery_new(4);
	struct discovery_server s[8];
	bool changed;
	(void)state;

	for (uint8_t i = 0; i < 6; i++) {
		uint8_t a[4] = { 198, 51, 100, (uint8_t)(20 + i) };

		discovery_syn(d, 1, 4, a, true, 1, 100 + i);
		for (uint8_t k = 0; k < i; k++)
			discovery_evidence(d, 1, 4, a, true, 100 + i, &changed);
	}
	assert_int_equal(discovery_count(d), 4);	/* the two oldest made room */
	assert_int_equal(discovery_snapshot(d, s, 8), 4);
	assert_int_equal(s[0].server[3], 25);
	assert_int_equal(s[0].confirmed, 5);
	assert_int_equal(s[3].server[3], 22);
	assert_string_equal(discovery_verdict_name(s[0].verdict), "legacy");
	discovery_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syn_behind_a_fresh_record_is_predicted_for_both_variants),
		cmocka_unit_test(syn_without_timestamp_is_predicted_for_4x_only),
		cmocka_unit_test(record_lasts_sixty_seconds),
		cmocka_unit_test(record_keeps_the_higher_value_and_other_keys_are_apart),
		cmocka_unit_test(three_confirmed_drops_make_a_legacy_server),
		cmocka_unit_test(three_answered_predictions_and_no_drop_make_a_server_not_legacy),
		cmocka_unit_test(snapshot_lists_most_confirmed_first_and_the_table_stays_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
