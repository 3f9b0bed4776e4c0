/* test_rules.c - --print-rules output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "confutil.h"
#include "rules.h"

static char *
rules_for(const char *text, enum rules_kind kind)
{
	struct conf *c = conf_from_text(text, NULL);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(c);
	rules_print(c, kind, "test.conf", f);
	fclose(f);
	conf_free(c);
	return out;
}

#define STRIP "policies = ( { name = \"w\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ]; } );\n"

static void
strip_queues_only_client_syns(void **state)
{
	char *r = rules_for(STRIP, RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "-A TSNATD -p tcp -d 198.51.100.0/24 --syn"));
	assert_non_null(strstr(r, "--queue-num 0 --queue-bypass"));
	assert_null(strstr(r, "-s 198.51.100.0/24"));
	assert_null(strstr(r, "2001:db8"));
	assert_non_null(strstr(r, "COMMIT"));
	free(r);
}

static void
ipv6_rules_go_to_ip6tables(void **state)
{
	char *r = rules_for(STRIP, RULES_IP6TABLES);
	(void)state;

	assert_non_null(strstr(r, "-d 2001:db8:1::/64 --syn"));
	assert_null(strstr(r, "198.51.100"));
	free(r);
}

static void
several_queues_use_queue_balance(void **state)
{
	char *r = rules_for("queue = { first = 4; count = 3; };\n" STRIP, RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "--queue-balance 4:6 --queue-bypass"));
	free(r);
}

static void
rewrite_queues_both_directions(void **state)
{
	char *r = rules_for("policies = ( { name = \"r\"; mode = \"rewrite\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "-d 198.51.100.10/32 -m comment"));
	assert_non_null(strstr(r, "-s 198.51.100.10/32 -m comment"));
	free(r);
}

static void
pass_policy_queues_nothing(void **state)
{
	char *r = rules_for("policies = ( { name = \"x\"; mode = \"pass\"; destinations = \"198.51.100.10\"; } );\n",
			    RULES_IPTABLES);
	(void)state;

	assert_null(strstr(r, "-A TSNATD"));
	free(r);
}

static void
nft_rules_have_bypass_and_both_families(void **state)
{
	char *r = rules_for(STRIP, RULES_NFT);
	(void)state;

	assert_non_null(strstr(r, "ip daddr 198.51.100.0/24 meta l4proto tcp tcp flags & (syn | ack | fin | rst) == syn queue num 0 bypass"));
	assert_non_null(strstr(r, "ip6 daddr 2001:db8:1::/64"));
	assert_non_null(strstr(r, "flush table inet tsnatd"));
	free(r);
}

static void
sources_appear_in_rules(void **state)
{
	char *r = rules_for("policies = ( { name = \"w\"; mode = \"strip\"; destinations = \"198.51.100.0/24\";"
			    " sources = \"192.0.2.0/24\"; } );\n", RULES_IPTABLES);
	(void)state;

	assert_non_null(strstr(r, "-s 192.0.2.0/24 -d 198.51.100.0/24 --syn"));
	free(r);
}

static void
rule_kinds_parse(void **state)
{
	(void)state;
	assert_int_equal(rules_kind_parse("iptables"), RULES_IPTABLES);
	assert_int_equal(rules_kind_parse("ip6tables"), RULES_IP6TABLES);
	assert_int_equal(rules_kind_parse("nft"), RULES_NFT);
	assert_int_equal(rules_kind_parse("pf"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strip_queues_only_client_syns),
		cmocka_unit_test(ipv6_rules_go_to_ip6tables),
		cmocka_unit_test(several_queues_use_queue_balance),
		cmocka_unit_test(rewrite_queues_both_directions),
		cmocka_unit_test(pass_policy_queues_nothing),
		cmocka_unit_test(nft_rules_have_bypass_and_both_families),
		cmocka_unit_test(sources_appear_in_rules),
		cmocka_unit_test(rule_kinds_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
