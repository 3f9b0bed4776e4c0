/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_reload.c - a reload keeps the running configuration when the new
 * file is bad, swaps it when good, refuses other queues whole (restart
 * required), keeps a changed maxlen, and frees the
 * old one only after every worker has passed an epoch (conf_free is
 * wrapped with -Wl,--wrap=conf_free to watch that). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>

#include "confutil.h"
#include "reload.h"

#define QUEUES "queue = { first = 3; count = 2; maxlen = 512; };\n"
#define POLICY "policies = ( { name = \"p\"; mode = \"strip\"; destinations = \"198.51.100.0/24\"; } );\n"

/* Fake workers: pause() moves one worker's epoch, round robin, so that
 * the reload must wait through several pauses. */
struct fake_workers {
	unsigned n, epoch[4], start[4], pauses;
};

static unsigned
fake_count(const void *ctx)
{
	return ((const struct fake_workers *)ctx)->n;
}

static unsigned
fake_epoch(const void *ctx, unsigned i)
{
	return ((const struct fake_workers *)ctx)->epoch[i];
}

static void
fake_pause(const void *ctx)
{
	struct fake_workers *fw = (struct fake_workers *)(uintptr_t)ctx;

	fw->epoch[fw->pauses++ % fw->n]++;
}

/* What the wrapped conf_free and the drain saw. */
static struct {
	const struct conf *watched;	/* the conf whose release we check */
	unsigned freed;			/* times it was freed */
	bool all_advanced;		/* every worker past its start then */
	const struct fake_workers *fw;
	unsigned drains;		/* drain() calls */
	unsigned freed_at_drain;	/* freed, when drain() came */
	bool advanced_at_drain;
} seen;

static bool
all_advanced(void)
{
	bool all = true;

	for (unsigned i = 0; seen.fw && i < seen.fw->n; i++)
		all &= seen.fw->epoch[i] != seen.fw->start[i];
	return all;
}

static void
fake_drain(const void *ctx)
{
	(void)ctx;
	seen.drains++;
	seen.freed_at_drain = seen.freed;
	seen.advanced_at_drain = all_advanced();
}

void __real_conf_free(struct conf *c);

void
__wrap_conf_free(struct conf *c)
{
	if (c && c == seen.watched) {
		seen.freed++;
		seen.all_advanced = all_advanced();
	}
	__real_conf_free(c);
}

struct fixture {
	_Atomic(struct conf *) current;
	struct conf *running;
	struct domains *d;
	struct fake_workers fw;
	struct reload_workers w;
	char path[32];
	struct textbuf errs;		/* what a refused reload says */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->running = conf_from_text("queue = { first = 3; count = 2; maxlen = 512; };\n" POLICY, NULL);
	assert_non_null(f->running);
	atomic_store(&f->current, f->running);
	f->d = domains_new(3);
	f->fw = (struct fake_workers){ .n = 3, .epoch = { 7, 100, 0 } };
	memcpy(f->fw.start, f->fw.epoch, sizeof(f->fw.start));
	f->w = (struct reload_workers){ fake_count, fake_epoch, fake_pause, &f->fw, fake_drain };
	strcpy(f->path, "/tmp/tsnatd-reload-XXXXXX");
	close(mkstemp(f->path));
	memset(&seen, 0, sizeof(seen));
	seen.watched = f->running;
	seen.fw = &f->fw;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	seen.watched = NULL;
	conf_free(atomic_load(&f->current));
	domains_free(f->d);
	unlink(f->path);
	textbuf_free(&f->errs);
	free(f);
	return 0;
}

static void
write_conf(const struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
bad_file_keeps_the_running_config(void **state)
{
	struct fixture *f = *state;

	write_conf(f, POLICY "queue = { count = 0; };\n");
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_ptr_equal(atomic_load(&f->current), f->running);
	assert_int_equal(seen.freed, 0);
	assert_int_equal(f->fw.pauses, 0);
	assert_int_equal(seen.drains, 0);
	unlink(f->path);	/* a missing file too */
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_ptr_equal(atomic_load(&f->current), f->running);
	assert_int_equal(seen.freed, 0);
}

/* What tsnatctl reload answers with: the errors themselves, each as the
 * log has it, "file:line: message". */
static void
bad_file_gives_its_errors_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	struct textbuf errs = { 0 };
	char want[96];

	write_conf(f, POLICY "queue = { count = 0; };\nbogus = 1;\n");
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &errs));
	assert_non_null(errs.p);
	snprintf(want, sizeof(want), "%s:2: 'count' = 0 is out of range", f->path);
	if (!strstr(errs.p, want))
		fail_msg("no '%s' in: %s", want, errs.p);
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus'", f->path);
	if (!strstr(errs.p, want))
		fail_msg("no '%s' in: %s", want, errs.p);
	assert_int_equal(errs.p[errs.len - 1], '\n');
	textbuf_free(&errs);
}

static void
good_file_gives_no_errors(void **state)
{
	struct fixture *f = *state;
	struct textbuf errs = { 0 };

	write_conf(f, QUEUES POLICY);
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &errs));
	assert_int_equal(errs.len, 0);
	textbuf_free(&errs);
}

static void
good_file_is_swapped_in(void **state)
{
	struct fixture *f = *state;
	struct conf *c;

	write_conf(f, QUEUES "flows = { max = 4096; };\nenabled = false;\n" POLICY);
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	c = atomic_load(&f->current);
	assert_ptr_not_equal(c, f->running);
	assert_false(c->enabled);
	assert_int_equal(c->flows_max, 4096);
	assert_int_equal(seen.freed, 1);
}

static void
old_config_is_freed_only_after_every_worker_advanced(void **state)
{
	struct fixture *f = *state;

	write_conf(f, QUEUES POLICY);
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_int_equal(seen.freed, 1);
	assert_true(seen.all_advanced);
	/* three workers, one moved per pause: it took three pauses */
	assert_int_equal(f->fw.pauses, 3);
}

static void
workers_are_drained_after_they_advanced_and_before_the_free(void **state)
{
	struct fixture *f = *state;

	write_conf(f, QUEUES POLICY);
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_int_equal(seen.drains, 1);
	assert_true(seen.advanced_at_drain);
	assert_int_equal(seen.freed_at_drain, 0);
	assert_int_equal(seen.freed, 1);
}

static void
without_workers_the_old_config_is_freed_at_once(void **state)
{
	struct fixture *f = *state;

	f->fw.n = 0;
	write_conf(f, QUEUES POLICY);
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_int_equal(seen.freed, 1);
	assert_int_equal(f->fw.pauses, 0);
}

/* The rules name the queues: a reload that changes them would leave the
 * kernel hashing flows to queues nobody listens on (issue 20). */
static void
changed_queue_count_refuses_the_whole_reload(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "queue = { first = 3; count = 4; maxlen = 512; };\n"
		      "enabled = false;\n" POLICY);
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_ptr_equal(atomic_load(&f->current), f->running);
	assert_true(f->running->enabled);	/* nothing of the file applied */
	assert_int_equal(seen.freed, 0);
	assert_int_equal(f->fw.pauses, 0);
}

static void
changed_first_queue_refuses_the_whole_reload(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "queue = { first = 10; count = 2; maxlen = 512; };\n" POLICY);
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_ptr_equal(atomic_load(&f->current), f->running);
	assert_int_equal(seen.freed, 0);
}

static void
refused_queue_change_says_restart_required_with_both_ranges(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "queue = { first = 3; count = 1; maxlen = 512; };\n" POLICY);
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_non_null(f->errs.p);
	assert_non_null(strstr(f->errs.p, "restart required"));
	assert_non_null(strstr(f->errs.p, "queues 3..3 in the file, 3..4 running"));
}

static void
bad_file_says_the_file_has_errors(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "this is not a config\n");
	assert_false(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	assert_non_null(f->errs.p);
	assert_non_null(strstr(f->errs.p, "syntax error"));
}

static void
changed_maxlen_alone_keeps_the_running_one_and_applies_the_rest(void **state)
{
	struct fixture *f = *state;
	struct conf *c;

	write_conf(f, "queue = { first = 3; count = 2; maxlen = 100; };\n"
		      "flows = { idle_timeout = 30; };\n" POLICY);
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	c = atomic_load(&f->current);
	assert_int_equal(c->queue_first, 3);
	assert_int_equal(c->queue_count, 2);
	assert_int_equal(c->queue_maxlen, 512);
	assert_int_equal(c->flows_idle_timeout, 30);	/* the rest applies */
	assert_int_equal(f->errs.len, 0);
}

static void
queues_differ_compares_first_and_count_only(void **state)
{
	struct conf a = { .queue_first = 0, .queue_count = 1, .queue_maxlen = 10 };
	struct conf b = a;

	(void)state;
	b.queue_maxlen = 20;
	assert_false(reload_queues_differ(&a, &b));
	b.queue_count = 2;
	assert_true(reload_queues_differ(&a, &b));
	b = a;
	b.queue_first = 1;
	assert_true(reload_queues_differ(&a, &b));
}

static void
explicit_translated_source_is_bound_to_its_domain(void **state)
{
	struct fixture *f = *state;
	uint8_t addr[4];
	struct conf *c;

	write_conf(f, QUEUES "policies = ( { name = \"p\"; mode = \"rewrite\"; destinations = \"198.51.100.0/24\";\n"
		      " translated_source = [ \"203.0.113.5\", \"203.0.113.6\" ]; },\n"
		      " { name = \"q\"; mode = \"rewrite\"; destinations = \"192.0.2.0/24\"; } );\n");
	assert_true(reload_apply(&f->current, f->path, f->d, &f->w, &f->errs));
	c = atomic_load(&f->current);
	inet_pton(AF_INET, "203.0.113.5", addr);
	assert_int_not_equal(c->pol[0].domain, DOMAIN_SHARED);
	assert_int_equal(c->pol[0].domain, domains_intern(f->d, 4, addr));
	assert_int_equal(c->pol[1].domain, DOMAIN_SHARED);	/* "auto" */
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(bad_file_keeps_the_running_config),
		T(bad_file_gives_its_errors_with_file_and_line),
		T(good_file_gives_no_errors),
		T(good_file_is_swapped_in),
		T(old_config_is_freed_only_after_every_worker_advanced),
		T(workers_are_drained_after_they_advanced_and_before_the_free),
		T(without_workers_the_old_config_is_freed_at_once),
		T(changed_queue_count_refuses_the_whole_reload),
		T(changed_first_queue_refuses_the_whole_reload),
		T(refused_queue_change_says_restart_required_with_both_ranges),
		T(bad_file_says_the_file_has_errors),
		T(changed_maxlen_alone_keeps_the_running_one_and_applies_the_rest),
		T(queues_differ_compares_first_and_count_only),
		T(explicit_translated_source_is_bound_to_its_domain),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
