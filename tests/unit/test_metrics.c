/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_metrics.c - the Prometheus exposition: every family announced,
 * counters named *_total, per-server series only for the top servers; and
 * the textfile replaced atomically (a reader never sees part of one).
 * `test_metrics --sample` prints a sample rendering for promtool (make
 * metrics-check). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

#define NSRV 30

static struct policy pol[2] = { { .name = "legacy-web", .mode = MODE_STRIP },
				{ .name = "app.rw", .mode = MODE_REWRITE } };
static struct conf conf = { .enabled = true, .queue_count = 2, .pol = pol, .npol = 2 };
static struct control_domain dom[2] = {
	{ .id = 0 },
	{ .id = 1, .family = 4, .addr = { 198, 51, 100, 1 }, .has_mark = true, .distance_ms = 1500 },
};
static struct discovery_server srv[NSRV];
static struct control_queue q[2] = { { .queue = 0, .flows = 3 }, { .queue = 1 } };

static struct control_data
sample(void)
{
	for (int i = 0; i < NSRV; i++) {
		srv[i] = (struct discovery_server){ .family = 4, .server = { 203, 0, 113, (uint8_t)i },
			.domain = 1, .syns = 10, .confirmed = (uint64_t)(NSRV - i),
			.verdict = i < 5 ? DISCOVERY_LEGACY : DISCOVERY_UNKNOWN };
	}
	q[0].st.packets = 100;
	q[1].st.send_errors = 2;
	return (struct control_data){ .version = "0.1.0", .uptime_s = 42, .conf = &conf,
		.q = q, .nq = 2, .dom = dom, .ndom = 2, .srv = srv, .nsrv = NSRV };
}

static char *
render(void)
{
	struct control_data d = sample();
	struct textbuf t = { 0 };

	metrics_render(&d, &t);
	return t.p;
}

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void
every_sample_has_its_help_and_type(void **state)
{
	char *t = render(), *all = render(), *save = NULL;

	(void)state;
	for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], want[160];

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%127[a-z0-9_]", name), 1);
		snprintf(want, sizeof(want), "# TYPE %s ", name);
		assert_non_null(strstr(all, want));
	}
	free(t);
	free(all);
}

static void
counters_end_in_total_and_cover_every_stat(void **state)
{
	char *t = render();

	(void)state;
	assert_non_null(strstr(t, "# TYPE tsnatd_packets_total counter\n"));
	assert_non_null(strstr(t, "tsnatd_packets_total{queue=\"0\"} 100\n"));
	assert_non_null(strstr(t, "tsnatd_send_errors_total{queue=\"1\"} 2\n"));
	assert_int_equal(count(t, " counter\n"), count(t, "_total counter\n"));
	assert_int_equal(count(t, "# TYPE tsnatd_") - 5 * 1 - 1 /* flows */ - 1 /* glue */ - 1 /* distance */
			 - 1 /* servers */ - 5 /* server families */ - 8 /* offload */ - 1 /* rules */, STATS_N);
	free(t);
}

static void
conntrack_glue_is_a_gauge_per_queue(void **state)
{
	char *t;

	(void)state;
	q[0].ct_glue = true;
	t = render();
	q[0].ct_glue = false;
	assert_non_null(strstr(t, "# TYPE tsnatd_conntrack_glue gauge\n"));
	assert_non_null(strstr(t, "tsnatd_conntrack_glue{queue=\"0\"} 1\n"));
	assert_non_null(strstr(t, "tsnatd_conntrack_glue{queue=\"1\"} 0\n"));
	assert_non_null(strstr(t, "tsnatd_offload_dnat_total{queue=\"0\"} 0\n"));
	free(t);
}

static void
offload_families_are_always_there(void **state)
{
	char *t = render();

	(void)state;
	assert_non_null(strstr(t, "tsnatd_offload_active 0\n"));
	assert_non_null(strstr(t, "tsnatd_offload_flows 0\n"));
	assert_non_null(strstr(t, "tsnatd_offload_open_flows 0\n"));
	assert_non_null(strstr(t, "tsnatd_offload_shifted_packets_total{direction=\"ingress\"} 0\n"));
	assert_non_null(strstr(t, "tsnatd_offload_shifted_packets_total{direction=\"egress\"} 0\n"));
	assert_non_null(strstr(t, "tsnatd_offload_errors_total 0\n"));
	free(t);
}

static void
policies_and_modes_are_info_labels(void **state)
{
	char *t = render();

	(void)state;
	assert_non_null(strstr(t, "tsnatd_policy_info{policy=\"legacy-web\",mode=\"strip\"} 1\n"));
	assert_non_null(strstr(t, "tsnatd_policy_info{policy=\"app.rw\",mode=\"rewrite\"} 1\n"));
	assert_non_null(strstr(t, "tsnatd_domain_mark_distance_seconds{translated_source="
			       "\"198.51.100.1\"} 1.500\n"));
	assert_null(strstr(t, "translated_source=\"shared\"} "));	/* no mark */
	free(t);
}

static void
only_the_top_servers_get_series_all_are_counted_by_verdict(void **state)
{
	char *t = render();

	(void)state;
	assert_int_equal(count(t, "tsnatd_server_confirmed_drops_total{"), METRICS_SERVERS_TOP);
	assert_non_null(strstr(t, "server=\"203.0.113.19\""));
	assert_null(strstr(t, "server=\"203.0.113.20\""));
	assert_non_null(strstr(t, "tsnatd_servers{verdict=\"legacy\"} 5\n"));
	assert_non_null(strstr(t, "tsnatd_servers{verdict=\"unknown\"} 25\n"));
	free(t);
}

/* The textfile: a reader loop during many rewrites sees only whole files. */
static char tf_path[256];
static _Atomic bool tf_done;
static _Atomic unsigned tf_partial, tf_reads;

static void *
tf_reader(void *arg)
{
	char buf[70000];

	(void)arg;
	while (!atomic_load(&tf_done)) {
		FILE *f = fopen(tf_path, "r");
		size_t n;

		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		atomic_fetch_add(&tf_reads, 1);
		/* A whole file: "A...A\n" of 100 bytes or "B...B\n" of 60000. */
		if (n == 0 || buf[n - 1] != '\n' || (n != 100 && n != 60000) ||
		    buf[0] != buf[n - 2])
			atomic_fetch_add(&tf_partial, 1);
	}
	return NULL;
}

static void
the_textfile_is_never_seen_partial(void **state)
{
	char dir[] = "/tmp/test_metrics.XXXXXX", *small = malloc(100), *big = malloc(60000);
	pthread_t th;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(tf_path, sizeof(tf_path), "%s/tsnatd.prom", dir);
	memset(small, 'A', 99);
	small[99] = '\n';
	memset(big, 'B', 59999);
	big[59999] = '\n';
	assert_int_equal(metrics_file_write(tf_path, small, 100), 0);
	assert_int_equal(pthread_create(&th, NULL, tf_reader, NULL), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(metrics_file_write(tf_path, i % 2 ? small : big,
						    i % 2 ? 100 : 60000), 0);
	atomic_store(&tf_done, true);
	pthread_join(th, NULL);
	assert_true(atomic_load(&tf_reads) > 0);
	assert_int_equal(atomic_load(&tf_partial), 0);
	unlink(tf_path);
	assert_int_equal(rmdir(dir), 0);	/* no temporary file left */
	free(small);
	free(big);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_sample_has_its_help_and_type),
		cmocka_unit_test(counters_end_in_total_and_cover_every_stat),
		cmocka_unit_test(policies_and_modes_are_info_labels),
		cmocka_unit_test(offload_families_are_always_there),
		cmocka_unit_test(conntrack_glue_is_a_gauge_per_queue),
		cmocka_unit_test(only_the_top_servers_get_series_all_are_counted_by_verdict),
		cmocka_unit_test(the_textfile_is_never_seen_partial),
	};

	if (argc == 2 && strcmp(argv[1], "--sample") == 0) {
		char *t = render();

		fputs(t, stdout);
		free(t);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
