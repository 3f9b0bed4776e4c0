/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_warn.c - live warnings on a simulated clock: said at once, at most
 * once per counter per interval, increases held meanwhile and summed into
 * the next line, each counter on its own, only the table's counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "warn.h"

/* What was said, line by line. */
static char said[16][512];
static unsigned nsaid;

static void
capture(void *ctx, const char *line)
{
	(void)ctx;
	assert_true(nsaid < 16);
	snprintf(said[nsaid++], sizeof(said[0]), "%s", line);
}

static struct warn_state ws;
static struct stats tot;

static int
setup(void **state)
{
	(void)state;
	memset(&ws, 0, sizeof(ws));
	memset(&tot, 0, sizeof(tot));
	nsaid = 0;
	return 0;
}

/* One check at time now; returns the lines said. */
static unsigned
check(uint64_t now)
{
	return warn_check(&ws, &tot, now, capture, NULL);
}

static void
first_increase_is_said_at_once_with_its_meaning(void **state)
{
	(void)state;
	tot.flows_full = 3;
	assert_int_equal(check(100), 1);
	assert_non_null(strstr(said[0], "flows_full went up by 3: "));
	assert_non_null(strstr(said[0], "flows.max"));
}

static void
unchanged_counters_say_nothing(void **state)
{
	(void)state;
	assert_int_equal(check(100), 0);
	tot.send_errors = 1;
	assert_int_equal(check(101), 1);
	assert_int_equal(check(200), 0);
	assert_int_equal(check(300), 0);
}

static void
increases_within_the_interval_are_held_and_summed(void **state)
{
	(void)state;
	tot.ts_clamped = 1;
	assert_int_equal(check(100), 1);
	tot.ts_clamped = 5;
	assert_int_equal(check(101), 0);
	tot.ts_clamped = 12;
	assert_int_equal(check(109), 0);
	assert_int_equal(check(110), 1);
	assert_non_null(strstr(said[1], "ts_clamped went up by 11 more since its last "
					"warning 10 s ago: "));
	/* and the interval starts again from that line */
	tot.ts_clamped = 13;
	assert_int_equal(check(115), 0);
	assert_int_equal(check(120), 1);
	assert_non_null(strstr(said[2], "by 1 more since its last warning 10 s ago"));
}

static void
a_late_increase_is_said_at_once(void **state)
{
	(void)state;
	tot.enobufs = 2;
	assert_int_equal(check(100), 1);
	tot.enobufs = 3;
	assert_int_equal(check(500), 1);
	assert_non_null(strstr(said[1], "enobufs went up by 1 more since its last warning 400 s ago"));
}

static void
each_counter_is_limited_on_its_own(void **state)
{
	(void)state;
	tot.flows_full = 1;
	assert_int_equal(check(100), 1);
	tot.flows_full = 2;
	tot.flows_over_quota = 7;
	assert_int_equal(check(101), 1);	/* quota said, full held */
	assert_non_null(strstr(said[1], "flows_over_quota went up by 7: "));
	assert_int_equal(check(110), 1);
	assert_non_null(strstr(said[2], "flows_full went up by 1 more"));
}

static void
counters_outside_the_table_never_warn(void **state)
{
	(void)state;
	tot.packets = 1000;
	tot.malformed = 5;
	tot.stripped = 9;
	assert_int_equal(check(100), 0);
}

static void
every_counter_of_the_table_warns_under_its_name(void **state)
{
	(void)state;
	/* each table counter, found by name in the counter names */
#define SET(name, desc)							\
	for (size_t i = 0; i < warn_count(); i++)			\
		if (strcmp(warn_name(i), #name) == 0)			\
			tot.name = 1;
	STATS_FIELDS(SET)
#undef SET
	assert_int_equal(check(100), warn_count());
	for (size_t i = 0; i < warn_count(); i++)
		assert_ptr_equal(strstr(said[i], warn_name(i)), said[i]);
	assert_null(warn_name(warn_count()));
}

static void
a_total_that_goes_back_is_a_new_baseline(void **state)
{
	(void)state;
	tot.verdict_errors = 10;
	assert_int_equal(check(100), 1);
	tot.verdict_errors = 4;			/* fewer workers summed */
	assert_int_equal(check(200), 0);
	tot.verdict_errors = 6;
	assert_int_equal(check(300), 1);
	assert_non_null(strstr(said[1], "verdict_errors went up by 2 more"));
}

/* The rules watcher's drifting checks: a counter kept outside the stats,
 * under the same rule. */
static void
a_counter_outside_the_stats_is_limited_the_same_way(void **state)
{
	struct warn_slot w = { 0 };

	(void)state;
	assert_true(warn_counter(&w, 1, 100, "rules_drift", "the rules drift", capture, NULL));
	assert_string_equal(said[0], "rules_drift went up by 1: the rules drift");
	assert_false(warn_counter(&w, 2, 105, "rules_drift", "the rules drift", capture, NULL));
	assert_false(warn_counter(&w, 3, 109, "rules_drift", "the rules drift", capture, NULL));
	assert_true(warn_counter(&w, 3, 110, "rules_drift", "the rules drift", capture, NULL));
	assert_string_equal(said[1], "rules_drift went up by 2 more since its last warning 10 s "
			    "ago: the rules drift");
	assert_false(warn_counter(&w, 3, 200, "rules_drift", "the rules drift", capture, NULL));
	assert_int_equal(nsaid, 2);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(first_increase_is_said_at_once_with_its_meaning),
		T(unchanged_counters_say_nothing),
		T(increases_within_the_interval_are_held_and_summed),
		T(a_late_increase_is_said_at_once),
		T(each_counter_is_limited_on_its_own),
		T(counters_outside_the_table_never_warn),
		T(every_counter_of_the_table_warns_under_its_name),
		T(a_total_that_goes_back_is_a_new_baseline),
		T(a_counter_outside_the_stats_is_limited_the_same_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
