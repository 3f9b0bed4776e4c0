/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_offload_reload.c - rewrite's kernel data path follows a reload
 * (issue 20: after a reload from strip to rewrite, status still said
 * "off: no policy rewrites" and nothing was logged). offload_reload.c is
 * linked alone: offload_start() and the accessors of offload.c, which
 * need libbpf and a kernel, are fakes over struct offload. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "confutil.h"
#include "control.h"
#include "offload_int.h"

/* ---- fakes of offload.c and offload_map.c ---- */
char offload_last_why[OFFLOAD_WHY];
const struct offload_ops offload_worker_ops, offload_drain_ops;
static struct offload started;		/* what offload_start "loads" */
static unsigned starts;
static bool start_fails;

struct offload *
offload_start(const struct conf *c)
{
	(void)c;
	starts++;
	if (start_fails) {
		snprintf(offload_last_why, OFFLOAD_WHY, "no bpf file system");
		return NULL;
	}
	offload_last_why[0] = '\0';
	started = (struct offload){ .adopted = true };
	started.path = (struct offload_path){ &offload_worker_ops, &started };
	return &started;
}

const char *offload_why(void) { return offload_last_why; }
bool offload_unloaded(const struct offload *o) { return o && o->unloaded; }
bool offload_draining(const struct offload *o) { return o && o->drain; }
bool offload_adopted(const struct offload *o) { return o && o->adopted; }
uint32_t offload_flows(const struct offload *o) { return o ? o->flows : 0; }
uint32_t offload_open_flows(const struct offload *o) { return o ? o->open : 0; }
void offload_interfaces(struct offload *o, char *out, size_t len) { (void)o; snprintf(out, len, "lan1"); }
void offload_counters(struct offload *o, uint64_t out[SHIFT_NCOUNTERS])
{
	(void)o;
	memset(out, 0, SHIFT_NCOUNTERS * sizeof(out[0]));
}

#define STRIP "policies = ( { name = \"p\"; mode = \"strip\"; destinations = \"198.51.100.0/24\"; } );\n"
#define REWRITE "policies = ( { name = \"p\"; mode = \"rewrite\"; destinations = \"198.51.100.0/24\"; } );\n"

static struct conf *strip_conf, *rewrite_conf, *rewrite_no_offload;
static struct offload active;		/* loaded at start */

static int
setup(void **state)
{
	(void)state;
	strip_conf = conf_from_text(STRIP, NULL);
	rewrite_conf = conf_from_text(REWRITE, NULL);
	rewrite_no_offload = conf_from_text("offload = false;\n" REWRITE, NULL);
	assert_non_null(strip_conf);
	assert_non_null(rewrite_conf);
	assert_non_null(rewrite_no_offload);
	active = (struct offload){ .flows = 7, .open = 2 };
	active.path = (struct offload_path){ &offload_worker_ops, &active };
	snprintf(active.dir, sizeof(active.dir), "/run/tsnatd/bpf");
	starts = 0;
	start_fails = false;
	offload_last_why[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	conf_free(strip_conf);
	conf_free(rewrite_conf);
	conf_free(rewrite_no_offload);
	return 0;
}

static void
strip_to_rewrite_loads_the_kernel_data_path(void **state)
{
	struct offload *retired = &active, *o;
	struct control_offload r;

	(void)state;
	snprintf(offload_last_why, OFFLOAD_WHY, "no policy rewrites");	/* as at start */
	o = offload_follow(NULL, rewrite_conf, &retired);
	assert_ptr_equal(o, &started);
	assert_int_equal(starts, 1);
	assert_null(retired);
	offload_report(o, rewrite_conf, &r);
	assert_int_equal(r.state, CONTROL_OFFLOAD_ACTIVE);
}

static void
strip_to_rewrite_that_cannot_load_says_why(void **state)
{
	struct offload *retired, *o;
	struct control_offload r;

	(void)state;
	start_fails = true;
	o = offload_follow(NULL, rewrite_conf, &retired);
	assert_null(o);
	offload_report(o, rewrite_conf, &r);
	assert_int_equal(r.state, CONTROL_OFFLOAD_OFF);
	assert_string_equal(r.reason, "no bpf file system");
}

static void
rewrite_to_strip_drains_the_active_one(void **state)
{
	struct offload *retired, *o;
	struct control_offload r;

	(void)state;
	o = offload_follow(&active, strip_conf, &retired);
	assert_ptr_equal(o, &active);
	assert_null(retired);
	assert_int_equal(starts, 0);
	assert_true(active.drain);
	/* the workers get a path of their own, with no put: no new flows */
	assert_ptr_equal(active.drain_path.ops, &offload_drain_ops);
	assert_ptr_equal(active.drain_path.ctx, &active);
	assert_ptr_equal(active.path.ops, &offload_worker_ops);
	assert_string_equal(offload_last_why, "no policy rewrites");
	offload_report(o, strip_conf, &r);
	assert_int_equal(r.state, CONTROL_OFFLOAD_DRAINING);
	assert_int_equal(r.flows, 7);
	assert_int_equal(r.open, 2);
}

static void
offload_false_drains_the_active_one(void **state)
{
	struct offload *retired;

	(void)state;
	assert_ptr_equal(offload_follow(&active, rewrite_no_offload, &retired), &active);
	assert_true(active.drain);
	assert_string_equal(offload_last_why, "offload = false in the configuration");
}

static void
rewrite_to_rewrite_keeps_the_active_one(void **state)
{
	struct offload *retired;

	(void)state;
	assert_ptr_equal(offload_follow(&active, rewrite_conf, &retired), &active);
	assert_false(active.drain);
	assert_int_equal(starts, 0);
	assert_null(retired);
}

static void
back_to_rewrite_while_draining_loads_again_and_retires_the_drain(void **state)
{
	struct offload *retired, *o;

	(void)state;
	active.drain = true;
	o = offload_follow(&active, rewrite_conf, &retired);
	assert_ptr_equal(o, &started);
	assert_ptr_equal(retired, &active);
	assert_int_equal(starts, 1);
}

static void
draining_one_stays_draining_while_nothing_rewrites(void **state)
{
	struct offload *retired;

	(void)state;
	active.drain = true;
	assert_ptr_equal(offload_follow(&active, strip_conf, &retired), &active);
	assert_ptr_equal(offload_follow(&active, rewrite_no_offload, &retired), &active);
	assert_int_equal(starts, 0);
	assert_null(retired);
}

static void
rewrite_after_the_drain_unloaded_loads_again(void **state)
{
	struct offload *retired, *o;

	(void)state;
	active.drain = active.unloaded = true;
	o = offload_follow(&active, rewrite_conf, &retired);
	assert_ptr_equal(o, &started);
	assert_ptr_equal(retired, &active);
}

static void
strip_to_strip_changes_nothing(void **state)
{
	struct offload *retired;
	struct control_offload r;

	(void)state;
	assert_null(offload_follow(NULL, strip_conf, &retired));
	assert_int_equal(starts, 0);
	offload_report(NULL, strip_conf, &r);
	assert_int_equal(r.state, CONTROL_OFFLOAD_OFF);
	assert_string_equal(r.reason, "no policy rewrites");
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(strip_to_rewrite_loads_the_kernel_data_path),
		T(strip_to_rewrite_that_cannot_load_says_why),
		T(rewrite_to_strip_drains_the_active_one),
		T(offload_false_drains_the_active_one),
		T(rewrite_to_rewrite_keeps_the_active_one),
		T(back_to_rewrite_while_draining_loads_again_and_retires_the_drain),
		T(draining_one_stays_draining_while_nothing_rewrites),
		T(rewrite_after_the_drain_unloaded_loads_again),
		T(strip_to_strip_changes_nothing),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
