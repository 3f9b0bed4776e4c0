/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_notes.c - the workers' notes, logged with addresses, rate-limited. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "notes.h"

static struct proc_note
N(enum proc_note_kind kind, uint8_t client_last, uint8_t server_last)
{
	struct proc_note n = { .kind = (uint8_t)kind, .family = 4, .value = 4242 };

	memcpy(n.client, (const uint8_t[]){ 192, 0, 2, client_last }, 4);
	memcpy(n.server, (const uint8_t[]){ 198, 51, 100, server_last }, 4);
	strcpy(n.policy, "legacy");
	return n;
}

static void
clamp_line_names_the_client_the_server_and_the_excess(void **state)
{
	struct domains *d = domains_new(1);
	struct proc_note n = N(NOTE_CLAMP, 5, 10);
	char line[512];
	(void)state;

	n.domain = domains_intern(d, 4, (const uint8_t[]){ 198, 51, 100, 1 });
	notes_format(&n, d, 0, line, sizeof(line));
	assert_non_null(strstr(line, "192.0.2.5"));
	assert_non_null(strstr(line, "198.51.100.10"));
	assert_non_null(strstr(line, "198.51.100.1 "));
	assert_non_null(strstr(line, "4242 ms"));
	assert_non_null(strstr(line, "ts_clamped"));
	domains_free(d);
}

static void
quota_line_names_the_client_and_the_quota(void **state)
{
	struct domains *d = domains_new(1);
	struct proc_note n = N(NOTE_QUOTA, 7, 10);
	char line[512];
	(void)state;

	n.value = 16;
	notes_format(&n, d, 3, line, sizeof(line));
	assert_non_null(strstr(line, "192.0.2.7 holds 16 flows"));
	assert_non_null(strstr(line, "3 more"));
	domains_free(d);
}

static void
clamps_are_logged_once_per_interval_and_the_rest_counted(void **state)
{
	struct notes_log *l = notes_log_new();
	struct domains *d = domains_new(1);
	struct proc_note n = N(NOTE_CLAMP, 5, 10);
	(void)state;

	assert_true(notes_log(l, &n, d, 100));
	assert_false(notes_log(l, &n, d, 101));
	assert_false(notes_log(l, &n, d, 100 + NOTES_INTERVAL_S - 1));
	/* a quota note has its own interval */
	assert_true(notes_log(l, &(struct proc_note){ .kind = NOTE_QUOTA, .family = 4 }, d, 101));
	assert_true(notes_log(l, &n, d, 100 + NOTES_INTERVAL_S));
	notes_log_free(l);
	domains_free(d);
}

static void
syn_without_timestamp_is_logged_once_per_domain_and_server(void **state)
{
	struct notes_log *l = notes_log_new();
	struct domains *d = domains_new(1);
	struct proc_note a = N(NOTE_SYN_WITHOUT_TS, 5, 10), b = N(NOTE_SYN_WITHOUT_TS, 6, 11);
	(void)state;

	assert_true(notes_log(l, &a, d, 1));
	assert_false(notes_log(l, &a, d, 1000));
	assert_true(notes_log(l, &b, d, 1000));
	notes_log_free(l);
	domains_free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clamp_line_names_the_client_the_server_and_the_excess),
		cmocka_unit_test(quota_line_names_the_client_and_the_quota),
		cmocka_unit_test(clamps_are_logged_once_per_interval_and_the_rest_counted),
		cmocka_unit_test(syn_without_timestamp_is_logged_once_per_domain_and_server),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
