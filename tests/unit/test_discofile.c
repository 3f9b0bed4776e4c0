/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_discofile.c - the discovery table across restarts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "discofile.h"
#include "log.h"

static const uint8_t srv[4] = { 198, 51, 100, 10 }, src[4] = { 198, 51, 100, 1 };
static char dir[] = "/tmp/tsnatd-disco-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/tsnatd-disco-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, DISCOFILE);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* A legacy server, its record, on translated source src. */
static struct discovery *
table_with_a_legacy_server(struct domains *d)
{
	struct discovery *t = discovery_new(16);
	uint16_t dom = domains_intern(d, 4, src);
	bool changed;

	discovery_record(t, dom, 4, srv, 9000, 100);
	discovery_syn(t, dom, 4, srv, true, 5000, 101);
	for (int i = 0; i < 3; i++)
		discovery_evidence(t, dom, 4, srv, true, 101, &changed);
	return t;
}

static void
round_trip_keeps_counts_verdict_and_record(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1);
	struct discovery *t = table_with_a_legacy_server(a), *u = discovery_new(16);
	struct discovery_server s;
	uint16_t dom;
	(void)state;

	domains_intern(b, 6, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8 });	/* ids differ */
	assert_int_equal(discofile_save(dir, t, a, 110), 1);
	assert_int_equal(discofile_restore(dir, u, b, 500), 1);
	assert_int_equal(discovery_snapshot(u, &s, 1), 1);
	dom = domains_intern(b, 4, src);
	assert_int_equal(s.domain, dom);
	assert_int_equal(s.verdict, DISCOVERY_LEGACY);
	assert_int_equal(s.syns, 1);
	assert_int_equal(s.predicted_4x, 1);
	assert_int_equal(s.confirmed, 3);
	/* the record is still fresh (10 s old): a SYN behind it is predicted */
	assert_int_equal(discovery_syn(u, dom, 4, srv, true, 5000, 501),
			 DISCOVERY_DROP_310 | DISCOVERY_DROP_4X);
	/* the file is used once */
	assert_int_equal(discofile_restore(dir, u, b, 500), 0);
	discovery_free(t);
	discovery_free(u);
	domains_free(a);
	domains_free(b);
}

static void
damaged_file_restores_nothing(void **state)
{
	struct domains *a = domains_new(1);
	struct discovery *t = table_with_a_legacy_server(a), *u;
	char path[64];
	FILE *f;
	long size;
	(void)state;

	snprintf(path, sizeof(path), "%s/%s", dir, DISCOFILE);
	for (long at = 0; at < 120; at += 7) {
		assert_int_equal(discofile_save(dir, t, a, 110), 1);
		f = fopen(path, "r+b");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fseek(f, at % size, SEEK_SET);
		fputc(0x5a ^ (at & 0xff), f);
		fclose(f);
		u = discovery_new(16);
		discofile_restore(dir, u, a, 200);
		assert_true(discovery_count(u) <= 1);
		if (discovery_count(u)) {	/* the byte was what it already held */
			struct discovery_server s;

			discovery_snapshot(u, &s, 1);
			assert_int_equal(s.confirmed, 3);
		}
		discovery_free(u);
	}
	discovery_free(t);
	domains_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_keeps_counts_verdict_and_record, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_file_restores_nothing, setup, teardown),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
