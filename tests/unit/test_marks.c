/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_marks.c - the marks checkpoint: a restart covers every TSval'
 * stamped before a crash; a bad checkpoint changes nothing. */
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

#include "log.h"
#include "marks.h"

#define WALL 1700000000000ull	/* ms since the epoch */

static const uint8_t src4[4] = { 198, 51, 100, 1 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static uint8_t *
checkpoint_of(struct domains *d, uint64_t at, size_t *len)
{
	uint8_t *buf = malloc(marks_size());

	assert_non_null(buf);
	*len = marks_encode(d, at, buf);
	return buf;
}

static uint32_t
mark_of(struct domains *d, int family, const uint8_t *addr)
{
	uint32_t m = 0;

	assert_true(domains_hwm(d, domains_intern(d, family, addr), &m));
	return m;
}

static void
restart_starts_past_the_mark_by_the_cover(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1);
	size_t len;
	uint8_t *buf;
	(void)state;

	domains_note(a, 0, domains_intern(a, 4, src4), (uint32_t)WALL + 3000);
	buf = checkpoint_of(a, WALL, &len);
	assert_int_equal(marks_apply(b, buf, len, WALL + 1000), 2);	/* mark, floor */
	assert_int_equal(mark_of(b, 4, src4), (uint32_t)WALL + 3000 + MARKS_COVER_MS);
	free(buf);
	domains_free(a);
	domains_free(b);
}

/* The worst case the bound allows after a checkpoint: flows stamping at
 * the rate margin for two intervals. The restart value is above all. */
static void
restart_covers_everything_stamped_within_two_intervals(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1);
	uint32_t m0 = (uint32_t)WALL + 500, worst, next;
	uint16_t dom;
	size_t len;
	uint8_t *buf;
	(void)state;

	dom = domains_intern(a, 6, src6);
	domains_note(a, 0, dom, m0);
	buf = checkpoint_of(a, WALL, &len);
	for (uint32_t ms = 0; ms <= 2 * MARKS_INTERVAL_S * 1000; ms += 7) {
		worst = m0 + ms + ms / 1024;
		domains_note(a, 0, dom, worst);
	}
	worst = mark_of(a, 6, src6);
	/* the crash; the new daemon starts a moment later */
	assert_true(marks_apply(b, buf, len, WALL + 2 * MARKS_INTERVAL_S * 1000 + 10) >= 1);
	next = domains_next_tsval(b, domains_intern(b, 6, src6), (uint32_t)WALL + 10010);
	assert_true((int32_t)(next - worst) >= 0);
	free(buf);
	domains_free(a);
	domains_free(b);
}

static void
clock_already_past_the_cover_changes_nothing(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1);
	uint32_t m = 0;
	size_t len;
	uint8_t *buf;
	(void)state;

	domains_note(a, 0, domains_intern(a, 4, src4), (uint32_t)WALL);
	buf = checkpoint_of(a, WALL, &len);
	assert_int_equal(marks_apply(b, buf, len, WALL + 3600 * 1000), 0);
	assert_false(domains_hwm(b, domains_intern(b, 4, src4), &m));
	free(buf);
	domains_free(a);
	domains_free(b);
}

static void
shared_domain_mark_is_kept(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1);
	uint32_t m = 0;
	size_t len;
	uint8_t *buf;
	(void)state;

	domains_note(a, 0, DOMAIN_SHARED, (uint32_t)WALL);
	buf = checkpoint_of(a, WALL, &len);
	assert_int_equal(marks_apply(b, buf, len, WALL), 2);
	assert_true(domains_hwm(b, DOMAIN_SHARED, &m));
	assert_int_equal(m, (uint32_t)WALL + MARKS_COVER_MS);
	free(buf);
	domains_free(a);
	domains_free(b);
}

static void
damaged_checkpoints_change_nothing(void **state)
{
	struct domains *a = domains_new(1);
	size_t len;
	uint8_t *buf;
	(void)state;

	domains_note(a, 0, domains_intern(a, 4, src4), (uint32_t)WALL);
	buf = checkpoint_of(a, WALL, &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct domains *b = domains_new(1);

		assert_int_equal(marks_apply(b, buf, cut, WALL), -1);	/* truncated */
		assert_int_equal(domains_count(b), 1);
		domains_free(b);
	}
	for (size_t i = 0; i < len; i++) {
		struct domains *b = domains_new(1);

		buf[i] ^= 0x10;					/* any bit flipped */
		assert_int_equal(marks_apply(b, buf, len, WALL), -1);
		assert_int_equal(domains_count(b), 1);
		buf[i] ^= 0x10;
		domains_free(b);
	}
	memcpy(buf, "TSNATDST", 8);				/* a state file's magic */
	assert_int_equal(marks_apply(a, buf, len, WALL), -1);
	free(buf);
	domains_free(a);
}

/* A checkpoint taken before any SYN: no marks, but its time bounds what
 * was stamped after it, in every domain, even one created later. */
static void
floor_covers_a_domain_created_after_the_checkpoint(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1);
	size_t len;
	uint8_t *buf;
	(void)state;

	buf = checkpoint_of(a, WALL, &len);
	assert_int_equal(marks_apply(b, buf, len, WALL + 500), 1);
	assert_int_equal(domains_next_tsval(b, domains_intern(b, 6, src6), (uint32_t)WALL + 500),
			 (uint32_t)WALL + MARKS_COVER_MS);
	free(buf);
	domains_free(a);
	domains_free(b);
}

/* A daemon started from a checkpoint writes its floor as the time of its
 * own checkpoints: two crashes in a row stay covered. */
static void
second_crash_keeps_the_first_restarts_floor(void **state)
{
	struct domains *a = domains_new(1), *b = domains_new(1), *c = domains_new(1);
	uint32_t stamped;
	size_t len;
	uint8_t *buf;
	(void)state;

	buf = checkpoint_of(a, WALL, &len);
	assert_true(marks_apply(b, buf, len, WALL + 200) >= 1);
	free(buf);
	buf = checkpoint_of(b, WALL + 300, &len);	/* b's start checkpoint */
	stamped = domains_next_tsval(b, DOMAIN_SHARED, (uint32_t)WALL + 400);
	assert_true(marks_apply(c, buf, len, WALL + 600) >= 1);
	assert_true((int32_t)(domains_next_tsval(c, DOMAIN_SHARED, (uint32_t)WALL + 600) -
			      stamped) >= 0);
	free(buf);
	domains_free(a);
	domains_free(b);
	domains_free(c);
}

static void
saved_checkpoint_is_private_and_read_back(void **state)
{
	char dir[] = "/tmp/tsnatd-marks-XXXXXX", path[64];
	struct domains *a = domains_new(1), *b = domains_new(1);
	struct stat st;
	(void)state;

	assert_non_null(mkdtemp(dir));
	domains_note(a, 0, domains_intern(a, 4, src4), (uint32_t)WALL);
	assert_int_equal(marks_save(dir, a, WALL), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, MARKS_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(marks_restore(dir, b, WALL + 1), 2);
	assert_int_equal(mark_of(b, 4, src4), (uint32_t)WALL + MARKS_COVER_MS);
	unlink(path);
	assert_int_equal(marks_restore(dir, b, WALL), 0);	/* none: nothing to do */
	rmdir(dir);
	domains_free(a);
	domains_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(restart_starts_past_the_mark_by_the_cover),
		cmocka_unit_test(restart_covers_everything_stamped_within_two_intervals),
		cmocka_unit_test(clock_already_past_the_cover_changes_nothing),
		cmocka_unit_test(shared_domain_mark_is_kept),
		cmocka_unit_test(damaged_checkpoints_change_nothing),
		cmocka_unit_test(floor_covers_a_domain_created_after_the_checkpoint),
		cmocka_unit_test(second_crash_keeps_the_first_restarts_floor),
		cmocka_unit_test(saved_checkpoint_is_private_and_read_back),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
