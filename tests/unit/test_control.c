/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_control.c - the control protocol without a socket: requests
 * parsed and refused, answers rendered as tables and JSON from given data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "textbuf.h"

static struct policy pol[1] = { { .name = "legacy-web", .mode = MODE_STRIP, .ndst = 1 } };
static struct conf conf = { .enabled = true, .queue_count = 1, .pol = pol, .npol = 1 };
static struct control_domain dom[2] = {
	{ .id = 0 },
	{ .id = 1, .family = 4, .addr = { 198, 51, 100, 1 }, .has_mark = true,
	  .mark = 1000, .distance_ms = -25 },
};
static struct discovery_server srv[3];
static struct control_queue q[2] = { { .queue = 0 }, { .queue = 1 } };

static struct control_data
data(void)
{
	memset(srv, 0, sizeof(srv));
	for (int i = 0; i < 3; i++) {
		srv[i].family = 4;
		inet_pton(AF_INET, i == 1 ? "203.0.113.5" : "198.51.100.10", srv[i].server);
		srv[i].domain = 1;
		srv[i].confirmed = (uint64_t)(3 - i);
		srv[i].verdict = i == 1 ? DISCOVERY_UNKNOWN : DISCOVERY_LEGACY;
	}
	q[0].st.packets = 7;
	q[1].st.packets = 5;
	return (struct control_data){ .version = "1.2.3", .config_path = "/etc/t\"s.conf",
		.conf = &conf, .q = q, .nq = 2, .dom = dom, .ndom = 2, .srv = srv, .nsrv = 3 };
}

static char *
render_data(const char *line, const struct control_data *dp)
{
	struct control_data d = *dp;
	struct control_req r;
	struct textbuf out = { 0 };
	char err[160];

	if (control_parse(line, &r, err, sizeof(err)) < 0)
		control_error(&out, err);
	else
		control_render(&r, &d, &out);
	return out.p;
}

static char *
render(const char *line)
{
	struct control_data d = data();

	return render_data(line, &d);
}

static char *
render_offload(const char *line, enum control_offload_state st)
{
	struct control_data d = data();

	d.offload = (struct control_offload){ .state = st, .adopted = true, .flows = 42, .open = 5,
		.dir = "/run/tsnatd/bpf", .reason = st == CONTROL_OFFLOAD_OFF ? "no \"bpf\" fs" : "" };
	snprintf(d.offload.interfaces, sizeof(d.offload.interfaces), "lan1 lan2");
	return render_data(line, &d);
}

static void
status_says_where_rewrite_runs(void **state)
{
	char *a = render_offload("status", CONTROL_OFFLOAD_ACTIVE);
	char *b = render_offload("status", CONTROL_OFFLOAD_OFF);
	char *c = render_offload("status", CONTROL_OFFLOAD_DRAINING);
	char *u = render("status");

	(void)state;
	assert_non_null(strstr(a, "offload  active (adopted from /run/tsnatd/bpf), 42 map entries "
			       "(5 open), on: lan1 lan2\n"));
	assert_non_null(strstr(b, "offload  off: no \"bpf\" fs\n"));
	assert_non_null(strstr(c, "offload  draining: 42 map entries (5 open) still in the kernel\n"));
	assert_non_null(strstr(u, "offload  unneeded (no policy rewrites)\n"));
	free(a);
	free(b);
	free(c);
	free(u);
}

static void
status_json_has_the_offload_object(void **state)
{
	char *a = render_offload("status --json", CONTROL_OFFLOAD_OFF);

	(void)state;
	assert_non_null(strstr(a, ", \"offload\": {\"state\": \"off\", \"adopted\": true, "
			       "\"flows\": 42, \"open\": 5, \"interfaces\": \"lan1 lan2\", \"reason\": "
			       "\"no \\\"bpf\\\" fs\"}, \"rules\": "));
	free(a);
}

static void
every_command_parses_with_its_options(void **state)
{
	struct control_req r;
	char err[160];

	(void)state;
	assert_int_equal(control_parse("status", &r, err, sizeof(err)), 0);
	assert_int_equal(r.cmd, CONTROL_STATUS);
	assert_false(r.json);
	assert_int_equal(control_parse("flows --limit 7 --json", &r, err, sizeof(err)), 0);
	assert_int_equal(r.cmd, CONTROL_FLOWS);
	assert_true(r.json);
	assert_int_equal(r.limit, 7);
	assert_int_equal(control_parse("metrics", &r, err, sizeof(err)), 0);
	assert_int_equal(r.limit, CONTROL_FLOWS_DEFAULT);
}

static void
bad_requests_are_refused_with_a_reason(void **state)
{
	struct control_req r;
	char err[160], longline[400];

	(void)state;
	assert_int_equal(control_parse("", &r, err, sizeof(err)), -1);
	assert_int_equal(control_parse("shutdown", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown command"));
	assert_int_equal(control_parse("flows --limit 0", &r, err, sizeof(err)), -1);
	assert_int_equal(control_parse("flows --limit -3", &r, err, sizeof(err)), -1);
	assert_int_equal(control_parse("flows --limit 99999", &r, err, sizeof(err)), -1);
	assert_int_equal(control_parse("status --limit 3", &r, err, sizeof(err)), -1);
	assert_int_equal(control_parse("status\x01", &r, err, sizeof(err)), -1);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(control_parse(longline, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
}

static void
options_may_stand_before_or_after_the_command(void **state)
{
	static const char *const lines[] = { "--json flows --limit 7", "flows --json --limit 7",
					     "--limit 7 flows --json", "--limit 7 --json flows" };
	struct control_req r;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (control_parse(lines[i], &r, err, sizeof(err)) < 0)
			fail_msg("%s: %s", lines[i], err);
		assert_int_equal(r.cmd, CONTROL_FLOWS);
		assert_true(r.json);
		assert_int_equal(r.limit, 7);
	}
	assert_int_equal(control_parse("--json status", &r, err, sizeof(err)), 0);
	assert_int_equal(r.cmd, CONTROL_STATUS);
	assert_true(r.json);
}

static void
an_unknown_option_is_named_in_the_error(void **state)
{
	struct control_req r;
	char err[160];

	(void)state;
	assert_int_equal(control_parse("status --JSON", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown option --JSON"));
	assert_int_equal(control_parse("--verbose status", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown option --verbose"));
}

static void
limit_is_refused_for_other_commands_wherever_it_stands(void **state)
{
	struct control_req r;
	char err[160];

	(void)state;
	assert_int_equal(control_parse("--limit 3 status", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--limit for status"));
	assert_int_equal(control_parse("flows --limit", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--limit takes 1..10000"));
	assert_int_equal(control_parse("flows --limit +5", &r, err, sizeof(err)), -1);
}

static void
one_command_at_a_time(void **state)
{
	struct control_req r;
	char err[160];

	(void)state;
	assert_int_equal(control_parse("status stats", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "one command at a time"));
	assert_int_equal(control_parse("--json", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no command"));
}

/* What tsnatctl sends: the order every daemon reads, parsed back the same. */
static void
a_request_is_written_back_command_first(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "--json status", "status --json\n" },
		{ "--limit 5 flows", "flows --limit 5\n" },
		{ "--json flows --limit 100", "flows --json\n" },
		{ "metrics", "metrics\n" },
	};
	struct control_req r, back;
	char err[160], line[CONTROL_LINE_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(control_parse(cases[i].in, &r, err, sizeof(err)), 0);
		assert_int_equal(control_format(&r, line, sizeof(line)), 0);
		assert_string_equal(line, cases[i].out);
		line[strlen(line) - 1] = '\0';
		assert_int_equal(control_parse(line, &back, err, sizeof(err)), 0);
		assert_int_equal(back.cmd, r.cmd);
		assert_int_equal(back.json, r.json);
		assert_int_equal(back.limit, r.limit);
	}
	assert_int_equal(control_format(&r, line, 4), -1);
}

static void
an_error_answer_is_one_line(void **state)
{
	char *a = render("nonsense");

	(void)state;
	assert_true(strncmp(a, "error ", 6) == 0);
	assert_ptr_equal(strchr(a, '\n'), a + strlen(a) - 1);
	free(a);
}

static void
status_json_escapes_strings(void **state)
{
	char *a = render("status --json");

	(void)state;
	assert_true(strncmp(a, "ok\n{", 4) == 0);
	assert_non_null(strstr(a, "\"config\": \"/etc/t\\\"s.conf\""));
	assert_non_null(strstr(a, "{\"name\": \"legacy-web\", \"mode\": \"strip\""));
	free(a);
}

static void
stats_table_has_a_column_per_queue_and_a_total(void **state)
{
	char *a = render("stats");

	(void)state;
	assert_non_null(strstr(a, "COUNTER           QUEUE 0  QUEUE 1  TOTAL\n"));
	assert_non_null(strstr(a, "packets           7        5        12\n"));
	assert_non_null(strstr(a, "send_errors       0        0        0\n"));
	free(a);
}

static void
servers_json_has_exactly_the_documented_keys(void **state)
{
	char *a = render("servers --json");

	(void)state;
	assert_non_null(strstr(a, "[{\"server\": \"198.51.100.10\", \"translated_source\": "
			       "\"198.51.100.1\", \"syns\": 0, \"predicted_drops_310\": 0, "
			       "\"predicted_drops_4x\": 0, \"confirmed_drops\": 3, "
			       "\"contrary\": 0, \"verdict\": \"legacy\"}, "));
	assert_non_null(strstr(a, "\"verdict\": \"unknown\"}"));
	free(a);
}

static void
servers_suggests_a_policy_of_the_legacy_ones_each_once(void **state)
{
	char *a = render("servers");

	(void)state;
	assert_non_null(strstr(a, "{ name = \"legacy-found\"; mode = \"strip\"; "
			       "destinations = [ \"198.51.100.10\" ]; }\n"));
	assert_null(strstr(a, "[ \"203.0.113.5\""));
	free(a);
}

static void
domains_show_the_mark_and_its_distance(void **state)
{
	char *a = render("domains");

	(void)state;
	assert_non_null(strstr(a, "shared        -     -\n"));
	assert_non_null(strstr(a, "198.51.100.1  1000  -25\n"));
	free(a);
}

static void
json_strings_escape_quotes_backslashes_and_controls(void **state)
{
	struct textbuf b = { 0 };

	(void)state;
	textbuf_json_str(&b, "a\"b\\c\nd\x01" "\xc3\xa9");
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"");
	textbuf_free(&b);
}

static void
a_failed_reload_is_an_error_answer(void **state)
{
	struct control_data d = data();
	struct control_req r = { .cmd = CONTROL_RELOAD };
	struct textbuf out = { 0 };

	(void)state;
	control_render(&r, &d, &out);
	assert_true(strncmp(out.p, "error reload failed", 19) == 0);
	textbuf_reset(&out);
	d.reload_ok = true;
	control_render(&r, &d, &out);
	assert_string_equal(out.p, "ok\nconfiguration reloaded\n");
	textbuf_free(&out);
}

/* tsnatctl reload shows what is wrong, not "see the log". */
/* Issue 20: status said "0 flows" where --unload said "7 flows were still
 * shifted" (closed connections in the map): one count, one wording. */
static void
map_entries_are_counted_with_their_open_ones(void **state)
{
	char s[64];

	(void)state;
	control_map_entries(7, 0, s, sizeof(s));
	assert_string_equal(s, "7 map entries (0 open)");
	control_map_entries(1, 1, s, sizeof(s));
	assert_string_equal(s, "1 map entry (1 open)");
}

/* Issue 20: a daemon whose rules are gone looked healthy. */
static char *
render_rules(const char *line, enum rulescheck_state st, unsigned first, unsigned last)
{
	struct control_data d = data();

	d.mono_s = 100;
	d.rules = (struct rulescheck){ .state = st, .have_queues = st != RULESCHECK_MISSING,
		.first = first, .last = last, .at_s = 97 };
	snprintf(d.rules.tools, sizeof(d.rules.tools), "iptables");
	if (st == RULESCHECK_MISSING)
		snprintf(d.rules.detail, sizeof(d.rules.detail),
			 "iptables: no chain TSNATD in table mangle");
	return render_data(line, &d);
}

static void
status_says_the_rules_are_there_with_the_daemons_queues(void **state)
{
	char *s = render_rules("status", RULESCHECK_MATCH, 0, 0);

	(void)state;
	assert_non_null(strstr(s, "\nrules    iptables: present, queues 0..0, as the daemon's "
			       "(checked 3s ago)\n"));
	free(s);
}

static void
status_says_the_rules_are_missing(void **state)
{
	char *s = render_rules("status", RULESCHECK_MISSING, 0, 0);

	(void)state;
	assert_non_null(strstr(s, "rules    MISSING (iptables: no chain TSNATD in table mangle): "
			       "nothing of theirs is queued"));
	free(s);
}

static void
status_says_the_rules_name_other_queues(void **state)
{
	char *s = render_rules("status", RULESCHECK_OTHER_QUEUES, 0, 1);

	(void)state;
	assert_non_null(strstr(s, "rules    iptables: queues 0..1, but the daemon listens on 0..0"));
	free(s);
}

static void
status_json_has_the_rules_object(void **state)
{
	char *s = render_rules("status --json", RULESCHECK_OTHER_QUEUES, 0, 1);

	(void)state;
	assert_non_null(strstr(s, "\"rules\": {\"state\": \"other-queues\", \"tools\": "
			       "\"iptables\", \"queue_first\": 0, \"queue_last\": 1, "
			       "\"detail\": \"\", \"age_s\": 3}, \"ha\": "));
	free(s);
}

static void
status_shows_the_action_of_auto_policies(void **state)
{
	struct policy p[2] = { { .name = "legacy-web", .mode = MODE_STRIP, .ndst = 1 },
			       { .name = "found", .mode = MODE_AUTO, .action = MODE_REWRITE,
				 .ndst = 2 } };
	struct conf c = conf;
	struct control_data d = data();
	char *t, *j;

	(void)state;
	c.pol = p;
	c.npol = 2;
	d.conf = &c;
	t = render_data("status", &d);
	j = render_data("status --json", &d);
	assert_non_null(strstr(t, "POLICY      MODE   ACTION   DESTINATIONS  SOURCES\n"));
	assert_non_null(strstr(t, "\nlegacy-web  strip  -        1"));
	assert_non_null(strstr(t, "\nfound       auto   rewrite  2"));
	assert_non_null(strstr(j, "{\"name\": \"found\", \"mode\": \"auto\", \"action\": "
			       "\"rewrite\", \"destinations\": 2}"));
	assert_non_null(strstr(j, "{\"name\": \"legacy-web\", \"mode\": \"strip\", "
			       "\"destinations\": 1}"));
	free(t);
	free(j);
}

static void
a_refused_reload_answers_with_the_files_errors(void **state)
{
	struct control_data d = data();
	struct control_req r = { .cmd = CONTROL_RELOAD };
	struct textbuf out = { 0 };

	(void)state;
	d.reload_errors = "/etc/tsnatd/tsnatd.conf:7: 'count' = 0 is out of range 1..64\n"
			  "/etc/tsnatd/tsnatd.conf:9: unknown key 'polcies'\n";
	control_render(&r, &d, &out);
	assert_string_equal(out.p, "error reload failed: the running configuration is kept; "
			    "the file's errors:\n"
			    "/etc/tsnatd/tsnatd.conf:7: 'count' = 0 is out of range 1..64\n"
			    "/etc/tsnatd/tsnatd.conf:9: unknown key 'polcies'\n");
	textbuf_free(&out);
}

/* A file of a thousand errors: the first CONTROL_RELOAD_ERRORS_MAX, and
 * how many more the log has. */
static void
a_refused_reload_lists_a_bounded_number_of_errors(void **state)
{
	struct control_data d = data();
	struct control_req r = { .cmd = CONTROL_RELOAD };
	struct textbuf errs = { 0 }, out = { 0 };
	size_t lines = 0;

	(void)state;
	for (int i = 1; i <= 1000; i++)
		textbuf_printf(&errs, "f.conf:%d: unknown key 'k%d'\n", i, i);
	d.reload_errors = errs.p;
	control_render(&r, &d, &out);
	for (const char *p = out.p; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 1 + CONTROL_RELOAD_ERRORS_MAX + 1);
	assert_non_null(strstr(out.p, "f.conf:50: unknown key 'k50'\n... and 950 more in the "
			       "daemon's log\n"));
	assert_null(strstr(out.p, "f.conf:51:"));
	textbuf_free(&errs);
	textbuf_free(&out);
}

/* Issue 20 item 1: a reload to other queues is refused, and says why. */
static void
a_reload_to_other_queues_answers_restart_required(void **state)
{
	struct control_data d = data();
	struct control_req r = { .cmd = CONTROL_RELOAD };
	struct textbuf out = { 0 };

	(void)state;
	d.reload_errors = "/etc/tsnatd/tsnatd.conf: queue settings changed (queues 0..1 in the "
			  "file, 0..0 running): restart required; nothing was changed\n";
	control_render(&r, &d, &out);
	assert_true(strncmp(out.p, "error reload failed", 19) == 0);
	assert_non_null(strstr(out.p, "\n/etc/tsnatd/tsnatd.conf: queue settings changed (queues "
			       "0..1 in the file, 0..0 running): restart required"));
	textbuf_free(&out);
}

static void
status_says_labels_are_off_without_ha_labels(void **state)
{
	struct control_data d = data();
	char *t = render_data("status", &d);

	(void)state;
	assert_non_null(strstr(t, "labels off (ha_labels)"));
	free(t);
}

static void
status_counts_adoptions_of_every_queue_with_ha_labels(void **state)
{
	struct conf c = conf;
	struct control_data d = data();
	char *t, *j;

	(void)state;
	c.ha_labels = true;
	c.ha_label_first = 24;
	c.ha_clock_skew = 100;
	d.conf = &c;
	q[0].st.flows_adopted = 3;
	q[1].st.flows_adopted = 4;
	q[1].st.flows_unadopted = 9;
	t = render_data("status", &d);
	j = render_data("status --json", &d);
	q[0].st.flows_adopted = q[1].st.flows_adopted = q[1].st.flows_unadopted = 0;
	assert_non_null(strstr(t, "labels on (bits 24-127, clock skew 100 ms): 7 flows adopted, "
			       "9 packets without state or label"));
	assert_non_null(strstr(j, "\"ha\": {\"labels\": true, \"label_first\": 24, "
			       "\"clock_skew_ms\": 100, \"flows_adopted\": 7, "
			       "\"flows_unadopted\": 9, \"takeovers\": 0, \"last_takeover\": null}"));
	free(t);
	free(j);
}

static void
status_tells_the_last_takeover(void **state)
{
	struct control_data d = data();
	char *t;

	(void)state;
	d.mono_s = 50;
	d.ha = (struct control_ha){ .takeovers = 1, .at_s = 45, .entries = 12, .labelled = 8,
				    .legacy = 1 };
	t = render_data("status", &d);
	assert_non_null(strstr(t, "last takeover 5s ago: 8 labelled of 12 entries, "
			       "1 servers legacy by auto"));
	free(t);
}

static void
takeover_answers_what_it_read(void **state)
{
	struct control_data d = data();
	char *t, *j;

	(void)state;
	d.ha = (struct control_ha){ .takeovers = 1, .entries = 12, .labelled = 8 };
	t = render_data("takeover", &d);
	j = render_data("takeover --json", &d);
	assert_string_equal(t, "ok\ntakeover: 8 labelled of 12 conntrack entries; every clock "
			    "domain raised above what the other gateway may have sent; 0 "
			    "servers legacy by auto\n");
	assert_string_equal(j, "ok\n{\"table_read\": true, \"entries\": 12, \"labelled\": 8, "
			    "\"legacy\": 0}\n");
	free(t);
	free(j);
}

static void
takeover_that_could_not_read_the_table_says_so(void **state)
{
	struct control_data d = data();
	char *t;

	(void)state;
	d.ha = (struct control_ha){ .takeovers = 1, .failed = true };
	t = render_data("takeover", &d);
	assert_non_null(strstr(t, "conntrack table not read (clock floor only)"));
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command_parses_with_its_options),
		cmocka_unit_test(bad_requests_are_refused_with_a_reason),
		cmocka_unit_test(options_may_stand_before_or_after_the_command),
		cmocka_unit_test(an_unknown_option_is_named_in_the_error),
		cmocka_unit_test(limit_is_refused_for_other_commands_wherever_it_stands),
		cmocka_unit_test(one_command_at_a_time),
		cmocka_unit_test(a_request_is_written_back_command_first),
		cmocka_unit_test(an_error_answer_is_one_line),
		cmocka_unit_test(status_json_escapes_strings),
		cmocka_unit_test(stats_table_has_a_column_per_queue_and_a_total),
		cmocka_unit_test(status_says_where_rewrite_runs),
		cmocka_unit_test(status_json_has_the_offload_object),
		cmocka_unit_test(servers_json_has_exactly_the_documented_keys),
		cmocka_unit_test(servers_suggests_a_policy_of_the_legacy_ones_each_once),
		cmocka_unit_test(domains_show_the_mark_and_its_distance),
		cmocka_unit_test(json_strings_escape_quotes_backslashes_and_controls),
		cmocka_unit_test(a_failed_reload_is_an_error_answer),
		cmocka_unit_test(a_refused_reload_answers_with_the_files_errors),
		cmocka_unit_test(a_refused_reload_lists_a_bounded_number_of_errors),
		cmocka_unit_test(a_reload_to_other_queues_answers_restart_required),
		cmocka_unit_test(map_entries_are_counted_with_their_open_ones),
		cmocka_unit_test(status_says_the_rules_are_there_with_the_daemons_queues),
		cmocka_unit_test(status_says_the_rules_are_missing),
		cmocka_unit_test(status_says_the_rules_name_other_queues),
		cmocka_unit_test(status_json_has_the_rules_object),
		cmocka_unit_test(status_shows_the_action_of_auto_policies),
		cmocka_unit_test(status_says_labels_are_off_without_ha_labels),
		cmocka_unit_test(status_counts_adoptions_of_every_queue_with_ha_labels),
		cmocka_unit_test(status_tells_the_last_takeover),
		cmocka_unit_test(takeover_answers_what_it_read),
		cmocka_unit_test(takeover_that_could_not_read_the_table_says_so),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
