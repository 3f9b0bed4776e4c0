/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_flowsnap.c - a worker's flows copied while it changes its table:
 * the main thread posts and reads, a worker thread serves between its
 * "batches" (inserting and removing flows). Every copy is whole and
 * consistent; under make tsan any unordered access fails the run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "flowsnap.h"

#define ROUNDS 300

static struct flowsnap snap;
static _Atomic bool stop;

/* A flow whose fields all derive from i: a torn copy shows. */
static struct flow
flow_of(uint32_t i)
{
	struct flow f = { .pa = (uint16_t)(1000 + i % 50000), .pb = 80, .offset = i * 7,
			  .last_raw = i * 7 + 1, .flags = FLOW_CLIENT_IS_A };

	f.a[0] = 192;			/* IPv4: i in the address's last 3 bytes */
	f.a[1] = (uint8_t)(i >> 16);
	f.a[2] = (uint8_t)(i >> 8);
	f.a[3] = (uint8_t)i;
	f.b[0] = 198;
	return f;
}

static void *
worker(void *arg)
{
	struct flow_table *t = flow_table_new(4096, 1);
	uint32_t i = 0;

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* a "batch": the table changes */
		for (int k = 0; k < 20; k++) {
			struct flow f = flow_of(i++);

			flow_restore(t, &f, 1);
		}
		while (flow_count(t) > 1000)
			flow_evict_idle(t);
		flowsnap_serve(&snap, t, 5, 5000);
	}
	flowsnap_serve(&snap, t, 5, 5000);	/* whatever is still posted */
	flow_table_free(t);
	return NULL;
}

static void
copies_are_whole_while_the_table_changes(void **state)
{
	pthread_t th;
	unsigned served = 0;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, worker, NULL), 0);
	for (int r = 0; r < ROUNDS; r++) {
		while (!flowsnap_post(&snap))
			;
		while (!flowsnap_ready(&snap))
			;
		served++;
		assert_true(snap.n <= snap.total);
		assert_int_equal(snap.now, 5);
		for (uint32_t k = 0; k < snap.n; k++) {
			const uint8_t *a = snap.buf[k].a;
			uint32_t i = (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

			assert_int_equal(snap.buf[k].offset, i * 7);
			assert_int_equal(snap.buf[k].last_raw, i * 7 + 1);
		}
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	assert_int_equal(served, ROUNDS);
	flowsnap_free(&snap);
}

static void
a_second_post_waits_for_the_first(void **state)
{
	struct flowsnap s = { 0 };

	(void)state;
	assert_true(flowsnap_post(&s));
	assert_false(flowsnap_ready(&s));
	assert_false(flowsnap_post(&s));
	flowsnap_serve(&s, NULL, 1, 1);
	assert_true(flowsnap_ready(&s));
	assert_int_equal(s.n, 0);
	assert_true(flowsnap_post(&s));
	flowsnap_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(copies_are_whole_while_the_table_changes),
		cmocka_unit_test(a_second_post_waits_for_the_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
