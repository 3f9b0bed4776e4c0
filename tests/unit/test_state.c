/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_state.c - the state file: round trip, and every way a file can be
 * wrong (truncated, corrupted, foreign, too old, a field out of range) or
 * a save can fail (write, fsync, rename mocked with -Wl,--wrap=). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domain.h"
#include "flow.h"
#include "state.h"
#include "testrand.h"

/* --- syscall mocks (linked with --wrap=write,fsync,rename,time) -------- */

static int fail_write, fail_fsync, fail_rename;	/* errno to fail with, or 0 */
static time_t fake_now;				/* 0: the real clock */

ssize_t __real_write(int fd, const void *p, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
time_t __real_time(time_t *t);

ssize_t
__wrap_write(int fd, const void *p, size_t n)
{
	if (fail_write) {
		errno = fail_write;
		return -1;
	}
	/* A short write first: the writer must loop. */
	return __real_write(fd, p, n > 7 ? n - 7 : n);
}

int
__wrap_fsync(int fd)
{
	if (fail_fsync) {
		errno = fail_fsync;
		return -1;
	}
	return __real_fsync(fd);
}

int
__wrap_rename(const char *from, const char *to)
{
	if (fail_rename) {
		errno = fail_rename;
		return -1;
	}
	return __real_rename(from, to);
}

time_t
__wrap_time(time_t *t)
{
	time_t v = fake_now ? fake_now : __real_time(NULL);

	if (t)
		*t = v;
	return v;
}

/* --- fixture: two queues' tables and three domains with marks ---------- */

#define NFLOWS 10

struct world {
	char dir[64], path[128];
	struct domains *d;
	struct flow_table *t[2];
	struct state_queue q[2];
};

static struct flow
make_flow(unsigned i, uint16_t dom)
{
	struct flow f = { 0 };

	if (i % 2) {
		f.flags = FLOW_V6 | FLOW_CLIENT_IS_A;
		f.a[0] = 0x20, f.a[1] = 0x01, f.a[15] = (uint8_t)i;
		f.b[0] = 0x20, f.b[1] = 0x02, f.b[15] = 1;
	} else {
		f.flags = FLOW_REBASE | (i % 4 ? FLOW_FIN_CLIENT : 0);
		f.a[0] = 192, f.a[3] = (uint8_t)i;
		f.b[0] = 198, f.b[1] = 51, f.b[2] = 100, f.b[3] = 10;
	}
	f.pa = (uint16_t)(40000 + i);
	f.pb = 443;
	f.offset = 0x80000000u + i * 7919u;
	f.last_raw = 0xfffffff0u + i;
	f.domain = dom;
	return f;
}

static struct world *
world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->d = domains_new(2);
	for (int i = 0; i < 2; i++) {
		w->t[i] = flow_table_new(64, 1234);
		w->q[i] = (struct state_queue){ (unsigned)(5 + i), w->t[i] };
	}
	return w;
}

static void
world_free(struct world *w)
{
	domains_free(w->d);
	flow_table_free(w->t[0]);
	flow_table_free(w->t[1]);
	free(w);
}

static int
setup(void **state)
{
	static const uint8_t a4[4] = { 203, 0, 113, 1 }, a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	struct world *w = world_new();
	uint16_t d4, d6;

	strcpy(w->dir, "/tmp/tsnatd-state-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	snprintf(w->path, sizeof(w->path), "%s/%s", w->dir, STATE_FILE);
	d4 = domains_intern(w->d, 4, a4);
	d6 = domains_intern(w->d, 6, a6);
	domains_note(w->d, 0, DOMAIN_SHARED, 5000);
	domains_note(w->d, 1, d4, 123456789);
	domains_note(w->d, 0, d6, 0xfffffffeu);
	for (unsigned i = 0; i < NFLOWS; i++) {
		struct flow f = make_flow(i, (uint16_t)(i % 3 == 0 ? DOMAIN_SHARED : i % 2 ? d6 : d4));

		assert_true(flow_restore(w->t[i % 2], &f, 100));
	}
	fail_write = fail_fsync = fail_rename = 0;
	fake_now = 0;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
	unlink(w->path);
	unlink(tmp);
	rmdir(w->dir);
	world_free(w);
	return 0;
}

/* --- file helpers ------------------------------------------------------- */

static uint8_t *
file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 16);

	assert_non_null(f);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void
file_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* A consistent checksum after a deliberate edit: only the field checks
 * can then refuse the file. */
static void
fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = state_crc32(0, buf, STATE_HDR_CRC_OFF);

	crc = state_crc32(crc, buf + STATE_HDR_SIZE, len - STATE_HDR_SIZE);
	buf[36] = (uint8_t)(crc >> 24), buf[37] = (uint8_t)(crc >> 16);
	buf[38] = (uint8_t)(crc >> 8), buf[39] = (uint8_t)crc;
}

/* Restore into fresh tables; the number restored. */
static long
restore_fresh(struct world *w, struct world **out, uint32_t max_age)
{
	struct world *r = world_new();
	long n = state_restore(w->dir, r->q, 2, r->d, max_age);

	*out = r;
	return n;
}

/* The file, edited by fn, must be ignored: nothing restored, no domain. */
static void
assert_refused(struct world *w, const uint8_t *buf, size_t len)
{
	struct world *r;

	file_write(w->path, buf, len);
	assert_int_equal(restore_fresh(w, &r, 600), 0);
	assert_int_equal(flow_count(r->t[0]) + flow_count(r->t[1]), 0);
	assert_int_equal(domains_count(r->d), 1);
	assert_int_equal(access(w->path, F_OK), -1);
	world_free(r);
}

static size_t nd_of(const uint8_t *buf) { return (size_t)buf[16] << 24 | buf[17] << 16 | buf[18] << 8 | buf[19]; }

static uint8_t *
flow_rec(uint8_t *buf, unsigned i)
{
	return buf + STATE_HDR_SIZE + nd_of(buf) * STATE_DOMAIN_SIZE + i * STATE_FLOW_SIZE;
}

/* --- round trip --------------------------------------------------------- */

struct collected {
	struct flow f[64];
	unsigned n;
};

static void
collect(const struct flow *f, void *arg)
{
	struct collected *c = arg;

	c->f[c->n++] = *f;
}

static const struct flow *
find_flow(const struct collected *c, const struct flow *key)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!memcmp(c->f[i].a, key->a, 16) && !memcmp(c->f[i].b, key->b, 16) &&
		    c->f[i].pa == key->pa && c->f[i].pb == key->pb)
			return &c->f[i];
	return NULL;
}

/* The domain of id in d, as (family, address). */
static void
domain_key(const struct domains *d, uint16_t id, int *fam, uint8_t *addr)
{
	memset(addr, 0, 16);
	*fam = 0;
	if (id != DOMAIN_SHARED)
		assert_true(domains_get(d, id, fam, addr));
}

static void
assert_same_flows(const struct world *w, const struct world *r, int q)
{
	struct collected a = { .n = 0 }, b = { .n = 0 };

	flow_foreach(w->t[q], collect, &a);
	flow_foreach(r->t[q], collect, &b);
	assert_int_equal(a.n, b.n);
	for (unsigned i = 0; i < a.n; i++) {
		const struct flow *x = &a.f[i], *y = find_flow(&b, x);
		uint8_t ax[16], ay[16];
		int fx, fy;

		assert_non_null(y);
		assert_int_equal(x->offset, y->offset);
		assert_int_equal(x->last_raw, y->last_raw);
		assert_int_equal(x->flags, y->flags);
		/* ids may differ; the domain's address may not */
		domain_key(w->d, x->domain, &fx, ax);
		domain_key(r->d, y->domain, &fy, ay);
		assert_int_equal(fx, fy);
		assert_memory_equal(ax, ay, 16);
	}
}

static void
round_trip_restores_flows_domains_and_marks(void **state)
{
	static const uint8_t other[4] = { 10, 9, 8, 7 };
	struct world *w = *state, *r = world_new();
	uint32_t m1, m2;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	/* a domain already known shifts the restored ids */
	domains_intern(r->d, 4, other);
	assert_int_equal(state_restore(w->dir, r->q, 2, r->d, 600), NFLOWS);
	assert_same_flows(w, r, 0);
	assert_same_flows(w, r, 1);
	for (uint16_t id = 0; id < domains_count(w->d); id++) {
		uint8_t addr[16];
		int fam;
		uint16_t rid;

		domain_key(w->d, id, &fam, addr);
		rid = id == DOMAIN_SHARED ? DOMAIN_SHARED : domains_intern(r->d, fam, addr);
		assert_true(domains_hwm(w->d, id, &m1));
		assert_true(domains_hwm(r->d, rid, &m2));
		assert_int_equal(m1, m2);
	}
	assert_int_equal(domains_count(r->d), 4);
	world_free(r);
}

static void
file_is_0600_and_used_once(void **state)
{
	struct world *w = *state, *r;
	struct stat st;
	char tmp[160];

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	assert_int_equal(stat(w->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(restore_fresh(w, &r, 600), NFLOWS);
	world_free(r);
	assert_int_equal(restore_fresh(w, &r, 600), 0);
	world_free(r);
}

static void
missing_file_restores_nothing_silently(void **state)
{
	struct world *w = *state, *r;

	assert_int_equal(restore_fresh(w, &r, 600), 0);
	world_free(r);
}

static void
flows_of_a_queue_gone_are_not_restored(void **state)
{
	struct world *w = *state, *r = world_new();

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	assert_int_equal(state_restore(w->dir, r->q, 1, r->d, 600), flow_count(w->t[0]));
	world_free(r);
}

static void
crc32_is_the_ieee_one(void **state)
{
	(void)state;
	assert_int_equal(state_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(state_crc32(state_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

/* --- files that must be refused ------------------------------------------ */

static void
truncated_file_is_refused(void **state)
{
	struct world *w = *state;
	size_t len;
	uint8_t *buf;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	buf = file_read(w->path, &len);
	assert_refused(w, buf, len - 1);
	assert_refused(w, buf, len - STATE_FLOW_SIZE);
	assert_refused(w, buf, STATE_HDR_SIZE - 1);
	free(buf);
}

static void
corrupted_byte_is_refused(void **state)
{
	struct world *w = *state;
	size_t len;
	uint8_t *buf;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	buf = file_read(w->path, &len);
	/* an offset byte: any value is a valid offset, only the CRC sees it */
	flow_rec(buf, 3)[41] ^= 0x10;
	assert_refused(w, buf, len);
	flow_rec(buf, 3)[41] ^= 0x10;
	buf[31] ^= 1;		/* the time saved, one second off: covered too */
	assert_refused(w, buf, len);
	free(buf);
}

static void
other_version_is_refused(void **state)
{
	struct world *w = *state;
	size_t len;
	uint8_t *buf;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	buf = file_read(w->path, &len);
	buf[9] = STATE_VERSION + 1;
	fix_crc(buf, len);
	assert_refused(w, buf, len);
	buf[9] = 1;		/* the raw dumps of the first version */
	fix_crc(buf, len);
	assert_refused(w, buf, len);
	free(buf);
}

static void
foreign_files_are_refused(void **state)
{
	struct world *w = *state;
	uint8_t noise[4096];
	uint64_t seed = 42;
	size_t len;
	uint8_t *buf;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	buf = file_read(w->path, &len);
	memcpy(buf, "TSNATDFL", 8);
	fix_crc(buf, len);
	assert_refused(w, buf, len);
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)test_rand(&seed);
	assert_refused(w, noise, sizeof(noise));
	assert_refused(w, noise, 0);
	free(buf);
}

static void
too_old_file_is_refused(void **state)
{
	struct world *w = *state, *r;

	fake_now = 1700000000;
	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	fake_now += 601;
	assert_int_equal(restore_fresh(w, &r, 600), 0);
	assert_int_equal(domains_count(r->d), 1);
	world_free(r);

	fake_now = 1700000000;
	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	fake_now += 600;
	assert_int_equal(restore_fresh(w, &r, 600), NFLOWS);
	world_free(r);

	fake_now = 1700000000;
	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	fake_now -= 3600;	/* the clock went back: saved "in the future" */
	assert_int_equal(restore_fresh(w, &r, 600), 0);
	world_free(r);
}

/* One field out of range (checksum made consistent): offset, value. */
static void
field_out_of_range_is_refused(void **state)
{
	static const struct { int flow; size_t off; uint8_t v; } bad[] = {
		{ 1, 2, 5 },		/* flow family 5 */
		{ 1, 3, 0x80 },		/* flow flag beyond FLOW_* */
		{ 1, 3, 0x20 },		/* FLOW_V6 on an IPv4 flow (record 0) */
		{ 1, 48, 0x7f },	/* domain id past the domain records */
		{ 1, 51, 1 },		/* reserved */
		{ 1, 4, 0xff },		/* a > b: not canonical */
		{ 1, 10, 1 },		/* bytes after an IPv4 address */
		{ 0, 3, 2 },		/* has_mark 2 */
		{ 0, 1, 7 },		/* domain id not its index */
		{ 0, 2, 0 },		/* domain family 0 */
	};
	struct world *w = *state;
	size_t len;
	uint8_t *buf, *copy;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	buf = file_read(w->path, &len);
	copy = malloc(len);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *rec;

		memcpy(copy, buf, len);
		/* flow record 0 is IPv4 in table 0; domain record 1 is IPv4 */
		rec = bad[i].flow ? flow_rec(copy, 0) :
		      copy + STATE_HDR_SIZE + 1 * STATE_DOMAIN_SIZE;
		if (bad[i].flow && rec[2] != 4)
			rec = flow_rec(copy, 1);
		assert_int_equal(rec[2], 4);
		rec[bad[i].off] = bad[i].v;
		fix_crc(copy, len);
		assert_refused(w, copy, len);
	}
	memcpy(copy, buf, len);
	copy[23] += 1;		/* one flow more than the file holds */
	fix_crc(copy, len);
	assert_refused(w, copy, len);
	free(copy);
	free(buf);
}

static void
symlinks_are_not_followed(void **state)
{
	struct world *w = *state, *r;
	char target[160], tmp[160];
	size_t len;
	uint8_t *buf;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	snprintf(target, sizeof(target), "%s/elsewhere", w->dir);
	assert_int_equal(rename(w->path, target), 0);
	assert_int_equal(symlink(target, w->path), 0);
	assert_int_equal(restore_fresh(w, &r, 600), 0);
	world_free(r);
	assert_int_equal(unlink(w->path), 0);
	/* a planted temporary link is not written through */
	snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
	assert_int_equal(symlink(target, tmp), 0);
	assert_int_equal(state_save(w->dir, w->q, 2, w->d), -1);
	buf = file_read(target, &len);
	assert_memory_equal(buf, "TSNATDST", 8);
	assert_int_equal(len, STATE_HDR_SIZE + 3 * STATE_DOMAIN_SIZE + NFLOWS * STATE_FLOW_SIZE);
	free(buf);
	unlink(tmp);
	unlink(target);
}

/* --- saves that fail --------------------------------------------------- */

/* A save failing with *knob = err leaves the previous file as it was and
 * no temporary file. */
static void
assert_failed_save_keeps_old(struct world *w, int *knob, int err)
{
	char tmp[160];
	size_t len0, len1;
	uint8_t *before, *after;

	assert_int_equal(state_save(w->dir, w->q, 2, w->d), NFLOWS);
	before = file_read(w->path, &len0);
	*knob = err;
	assert_int_equal(state_save(w->dir, w->q, 2, w->d), -1);
	*knob = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
	assert_int_equal(access(tmp, F_OK), -1);
	after = file_read(w->path, &len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	free(before);
	free(after);
}

static void
failed_write_keeps_the_old_file(void **state)
{
	assert_failed_save_keeps_old(*state, &fail_write, ENOSPC);
}

static void
failed_fsync_keeps_the_old_file(void **state)
{
	assert_failed_save_keeps_old(*state, &fail_fsync, EIO);
}

static void
failed_rename_keeps_the_old_file(void **state)
{
	assert_failed_save_keeps_old(*state, &fail_rename, EXDEV);
}

static void
unwritable_directory_fails_cleanly(void **state)
{
	struct world *w = *state;
	char file[160];

	snprintf(file, sizeof(file), "%s/plain", w->dir);
	file_write(file, "x", 1);
	assert_int_equal(state_save(file, w->q, 2, w->d), -1);
	unlink(file);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(round_trip_restores_flows_domains_and_marks),
		T(file_is_0600_and_used_once),
		T(missing_file_restores_nothing_silently),
		T(flows_of_a_queue_gone_are_not_restored),
		T(crc32_is_the_ieee_one),
		T(truncated_file_is_refused),
		T(corrupted_byte_is_refused),
		T(other_version_is_refused),
		T(foreign_files_are_refused),
		T(too_old_file_is_refused),
		T(field_out_of_range_is_refused),
		T(symlinks_are_not_followed),
		T(failed_write_keeps_the_old_file),
		T(failed_fsync_keeps_the_old_file),
		T(failed_rename_keeps_the_old_file),
		T(unwritable_directory_fails_cleanly),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
