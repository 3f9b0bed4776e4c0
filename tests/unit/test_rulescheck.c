/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rulescheck.c - the loaded rules read from the tools' listings and
 * judged against the daemon's queues (issue 20: a daemon whose rules were
 * gone, or queued to queue 1 nobody listened on, looked healthy). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rulescheck.h"

/* What iptables -t mangle -S prints of tsnatd's rules, queue part given. */
#define IPT_HEAD "-P PREROUTING ACCEPT\n-P FORWARD ACCEPT\n-N TSNATD\n"
#define IPT_JUMP "-A FORWARD -j TSNATD\n"
#define IPT_RULE(q) "-A TSNATD -d 198.51.100.0/24 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN " \
	"-m comment --comment web -j NFQUEUE " q " --queue-bypass\n"

static struct rulescheck
judge_ipt(const char *listing, unsigned qfirst, unsigned qcount)
{
	struct rulescheck r = { 0 };
	struct rulescheck_seen s;

	rulescheck_read_ipt(listing, &s);
	rulescheck_judge(RULES_IPTABLES, &s, qfirst, qcount, &r);
	return r;
}

static struct rulescheck
judge_nft(const char *listing, unsigned qfirst, unsigned qcount)
{
	struct rulescheck r = { 0 };
	struct rulescheck_seen s;

	rulescheck_read_nft(listing, &s);
	rulescheck_judge(RULES_NFT, &s, qfirst, qcount, &r);
	return r;
}

static void
ipt_rules_on_the_daemons_queue_match(void **state)
{
	struct rulescheck r = judge_ipt(IPT_HEAD IPT_JUMP IPT_RULE("--queue-num 0"), 0, 1);

	(void)state;
	assert_int_equal(r.state, RULESCHECK_MATCH);
	assert_string_equal(r.tools, "iptables");
	assert_true(r.have_queues);
	assert_int_equal(r.first, 0);
	assert_int_equal(r.last, 0);
}

static void
ipt_balance_over_queues_the_daemon_lacks_is_other_queues(void **state)
{
	struct rulescheck r = judge_ipt(IPT_HEAD IPT_JUMP IPT_RULE("--queue-balance 0:1"), 0, 1);
	char line[512];

	(void)state;
	assert_int_equal(r.state, RULESCHECK_OTHER_QUEUES);
	assert_true(rulescheck_drifts(r.state));
	assert_int_equal(r.first, 0);
	assert_int_equal(r.last, 1);
	rulescheck_format(&r, 0, 1, line, sizeof(line));
	assert_non_null(strstr(line, "iptables: queues 0..1, but the daemon listens on 0..0"));
}

static void
ipt_balance_on_the_daemons_queues_matches(void **state)
{
	(void)state;
	assert_int_equal(judge_ipt(IPT_HEAD IPT_JUMP IPT_RULE("--queue-balance 4:7"), 4, 4).state,
			 RULESCHECK_MATCH);
}

static void
ipt_without_the_chain_is_missing(void **state)
{
	struct rulescheck r = judge_ipt("-P FORWARD ACCEPT\n", 0, 1);

	(void)state;
	assert_int_equal(r.state, RULESCHECK_MISSING);
	assert_non_null(strstr(r.detail, "no chain TSNATD"));
}

static void
ipt_without_the_jump_is_missing(void **state)
{
	struct rulescheck r = judge_ipt(IPT_HEAD IPT_RULE("--queue-num 0"), 0, 1);

	(void)state;
	assert_int_equal(r.state, RULESCHECK_MISSING);
	assert_non_null(strstr(r.detail, "no jump to TSNATD from FORWARD"));
}

static void
ipt_flushed_chain_is_missing(void **state)
{
	struct rulescheck r = judge_ipt(IPT_HEAD IPT_JUMP, 0, 1);
	char line[512];

	(void)state;
	assert_int_equal(r.state, RULESCHECK_MISSING);
	rulescheck_format(&r, 0, 1, line, sizeof(line));
	assert_non_null(strstr(line, "MISSING"));
	assert_non_null(strstr(line, "pass unfixed"));
}

static void
ipt_offload_lines_are_not_queue_rules(void **state)
{
	(void)state;
	assert_int_equal(judge_ipt(IPT_HEAD IPT_JUMP "-A TSNATD -m mark --mark 0x10000000/0x10000000 "
				   "-m comment --comment offload -j RETURN\n", 0, 1).state,
			 RULESCHECK_MISSING);
}

static void
ipt_rules_naming_different_queues_are_other_queues(void **state)
{
	struct rulescheck r = judge_ipt(IPT_HEAD IPT_JUMP IPT_RULE("--queue-num 0")
					IPT_RULE("--queue-num 1"), 0, 2);

	(void)state;
	/* together 0..1, the daemon's, but each rule only one of them */
	assert_int_equal(r.state, RULESCHECK_OTHER_QUEUES);
	assert_non_null(strstr(r.detail, "different queues"));
}

static void
nft_queue_num_range_of_older_nft_is_read(void **state)
{
	struct rulescheck r = judge_nft("table inet tsnatd {\n\tchain forward {\n"
		"\t\ttype filter hook forward priority mangle; policy accept;\n"
		"\t\tip daddr 198.51.100.0/24 tcp flags & (fin | syn | rst | ack) == syn "
		"queue num 0-1 bypass comment \"web\"\n\t}\n}\n", 0, 2);

	(void)state;
	assert_int_equal(r.state, RULESCHECK_MATCH);
	assert_int_equal(r.last, 1);
}

static void
nft_queue_to_of_newer_nft_is_read(void **state)
{
	struct rulescheck r = judge_nft("table inet tsnatd {\n\tchain forward {\n"
		"\t\ttype filter hook forward priority mangle; policy accept;\n"
		"\t\tip daddr 198.51.100.0/24 queue flags bypass to 3 comment \"web\"\n\t}\n}\n", 0, 1);

	(void)state;
	assert_int_equal(r.state, RULESCHECK_OTHER_QUEUES);
	assert_int_equal(r.first, 3);
	assert_int_equal(r.last, 3);
}

static void
nft_without_the_table_is_missing(void **state)
{
	struct rulescheck r = judge_nft("", 0, 1);

	(void)state;
	assert_int_equal(r.state, RULESCHECK_MISSING);
	assert_non_null(strstr(r.detail, "no table inet tsnatd"));
}

static void
two_tools_keep_the_worst_verdict(void **state)
{
	struct rulescheck r = { 0 };
	struct rulescheck_seen ok, gone;

	(void)state;
	rulescheck_read_ipt(IPT_HEAD IPT_JUMP IPT_RULE("--queue-num 0"), &ok);
	rulescheck_read_ipt("", &gone);
	rulescheck_judge(RULES_IPTABLES, &ok, 0, 1, &r);
	rulescheck_judge(RULES_IP6TABLES, &gone, 0, 1, &r);
	assert_int_equal(r.state, RULESCHECK_MISSING);
	assert_string_equal(r.tools, "iptables, ip6tables");
	assert_non_null(strstr(r.detail, "ip6tables: no chain"));
}

static void
a_tool_that_cannot_list_does_not_hide_a_missing_one(void **state)
{
	struct rulescheck r = { 0 };
	struct rulescheck_seen gone;

	(void)state;
	rulescheck_read_ipt("", &gone);
	rulescheck_judge(RULES_IPTABLES, &gone, 0, 1, &r);
	rulescheck_unknown(RULES_IP6TABLES, "listing failed (exit 3)", &r);
	assert_int_equal(r.state, RULESCHECK_MISSING);
	r = (struct rulescheck){ 0 };
	rulescheck_unknown(RULES_IP6TABLES, "listing failed (exit 3)", &r);
	assert_int_equal(r.state, RULESCHECK_UNKNOWN);
	assert_false(rulescheck_drifts(r.state));
}

static void
states_have_names_for_json(void **state)
{
	(void)state;
	assert_string_equal(rulescheck_state_name(RULESCHECK_MATCH), "match");
	assert_string_equal(rulescheck_state_name(RULESCHECK_MISSING), "missing");
	assert_string_equal(rulescheck_state_name(RULESCHECK_OTHER_QUEUES), "other-queues");
	assert_string_equal(rulescheck_state_name(RULESCHECK_NOT_CHECKED), "not-checked");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipt_rules_on_the_daemons_queue_match),
		cmocka_unit_test(ipt_balance_over_queues_the_daemon_lacks_is_other_queues),
		cmocka_unit_test(ipt_balance_on_the_daemons_queues_matches),
		cmocka_unit_test(ipt_without_the_chain_is_missing),
		cmocka_unit_test(ipt_without_the_jump_is_missing),
		cmocka_unit_test(ipt_flushed_chain_is_missing),
		cmocka_unit_test(ipt_offload_lines_are_not_queue_rules),
		cmocka_unit_test(ipt_rules_naming_different_queues_are_other_queues),
		cmocka_unit_test(nft_queue_num_range_of_older_nft_is_read),
		cmocka_unit_test(nft_queue_to_of_newer_nft_is_read),
		cmocka_unit_test(nft_without_the_table_is_missing),
		cmocka_unit_test(two_tools_keep_the_worst_verdict),
		cmocka_unit_test(a_tool_that_cannot_list_does_not_hide_a_missing_one),
		cmocka_unit_test(states_have_names_for_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
