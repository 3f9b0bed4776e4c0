/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_policy.c - CIDR parsing and first-match policy lookup. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "confutil.h"
#include "policy.h"
#include "testrand.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	return test_rand(&rng);
}

static struct cidr
C(const char *s)
{
	struct cidr c;
	char err[128];

	assert_int_equal(cidr_parse(s, &c, err, sizeof(err)), 0);
	return c;
}

static const uint8_t *
A(const char *s, uint8_t *buf)
{
	assert_true(inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, buf) == 1);
	return buf;
}

static void
ipv4_cidr_contains_its_addresses_only(void **state)
{
	struct cidr c = C("198.51.100.0/24");
	uint8_t a[16];
	(void)state;

	assert_true(cidr_contains(&c, 4, A("198.51.100.0", a)));
	assert_true(cidr_contains(&c, 4, A("198.51.100.255", a)));
	assert_false(cidr_contains(&c, 4, A("198.51.101.1", a)));
	assert_false(cidr_contains(&c, 6, A("2001:db8::1", a)));
}

static void
odd_prefix_lengths_match_bitwise(void **state)
{
	struct cidr c = C("203.0.113.64/27");
	uint8_t a[16];
	(void)state;

	assert_true(cidr_contains(&c, 4, A("203.0.113.95", a)));
	assert_false(cidr_contains(&c, 4, A("203.0.113.96", a)));
	assert_false(cidr_contains(&c, 4, A("203.0.113.63", a)));
}

static void
ipv6_cidr_matches(void **state)
{
	struct cidr c = C("2001:db8:1::/64");
	uint8_t a[16];
	(void)state;

	assert_true(cidr_contains(&c, 6, A("2001:db8:1::10", a)));
	assert_false(cidr_contains(&c, 6, A("2001:db8:2::10", a)));
	assert_false(cidr_contains(&c, 4, A("198.51.100.1", a)));
}

static void
bare_address_is_a_host_prefix(void **state)
{
	struct cidr c = C("198.51.100.7");
	struct cidr c6 = C("2001:db8::7");
	(void)state;

	assert_int_equal(c.prefix, 32);
	assert_int_equal(c6.prefix, 128);
}

static void
zero_prefix_matches_everything_of_its_family(void **state)
{
	struct cidr c = C("0.0.0.0/0");
	uint8_t a[16];
	(void)state;

	assert_true(cidr_contains(&c, 4, A("203.0.113.1", a)));
	assert_false(cidr_contains(&c, 6, A("::1", a)));
}

static void
bad_cidrs_are_rejected_with_a_reason(void **state)
{
	static const char *const bad[] = { "", "198.51.100.0/33", "198.51.100.1/24",
		"hello", "198.51.100.0/", "198.51.100.0/x", "2001:db8::/129", "/24" };
	struct cidr c;
	char err[128];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(cidr_parse(bad[i], &c, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
	}
}

static void
cidr_formats_back(void **state)
{
	struct cidr c = C("2001:db8:1::/48");
	char out[64];
	(void)state;

	cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, "2001:db8:1::/48");
}

static void
first_matching_policy_wins(void **state)
{
	struct cidr d1 = C("198.51.100.10"), d2 = C("198.51.100.0/24");
	struct policy pol[2] = {
		{ .name = "exception", .mode = MODE_PASS, .dst = &d1, .ndst = 1 },
		{ .name = "all", .mode = MODE_STRIP, .dst = &d2, .ndst = 1 },
	};
	uint8_t s[16], d[16];
	(void)state;

	A("192.0.2.5", s);
	assert_ptr_equal(policy_match(pol, 2, 4, s, A("198.51.100.10", d)), &pol[0]);
	assert_ptr_equal(policy_match(pol, 2, 4, s, A("198.51.100.11", d)), &pol[1]);
	assert_null(policy_match(pol, 2, 4, s, A("203.0.113.1", d)));
}

static void
sources_restrict_a_policy(void **state)
{
	struct cidr d = C("198.51.100.0/24"), src = C("192.0.2.0/25");
	struct policy pol = { .name = "p", .mode = MODE_STRIP, .dst = &d, .ndst = 1,
		.src = &src, .nsrc = 1 };
	uint8_t s[16], dd[16];
	(void)state;

	A("198.51.100.1", dd);
	assert_non_null(policy_match(&pol, 1, 4, A("192.0.2.100", s), dd));
	assert_null(policy_match(&pol, 1, 4, A("192.0.2.200", s), dd));
}

static void
mode_names_round_trip(void **state)
{
	enum policy_mode m;
	(void)state;

	for (int i = MODE_PASS; i <= MODE_OBSERVE; i++) {
		assert_int_equal(policy_mode_parse(policy_mode_name((enum policy_mode)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(policy_mode_parse("drop", &m), -1);
}

static void
flattened_ipv4_policies_match_like_policy_match(void **state)
{
	struct conf *c = conf_from_text(
		"policies = (\n"
		" { name = \"a\"; mode = \"pass\"; destinations = [ \"198.51.100.8/29\", \"2001:db8::/32\" ]; },\n"
		" { name = \"b\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\", \"203.0.113.0/24\" ];"
		"   sources = [ \"192.0.2.0/25\", \"192.0.2.200\" ]; },\n"
		" { name = \"c\"; mode = \"rewrite\"; destinations = \"198.51.100.0/23\";"
		"   sources = \"192.0.2.128/25\"; },\n"
		" { name = \"d\"; mode = \"strip\"; destinations = \"0.0.0.0/0\"; sources = \"192.0.2.7\"; } );\n",
		NULL);
	(void)state;

	assert_non_null(c);
	assert_int_equal(c->ndst4, 5);
	for (int i = 0; i < 200000; i++) {
		uint8_t s[4] = { 192, 0, 2, (uint8_t)rnd() };
		uint8_t d[4] = { rnd() % 2 ? 198 : 203, rnd() % 2 ? 51 : 0,
				 (uint8_t)(100 + rnd() % 3), (uint8_t)rnd() };

		if (rnd() % 4 == 0)
			d[2] = 113;
		assert_ptr_equal(policy_match4(c->dst4, c->ndst4, s, d),
				 policy_match(c->pol, c->npol, 4, s, d));
	}
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_cidr_contains_its_addresses_only),
		cmocka_unit_test(odd_prefix_lengths_match_bitwise),
		cmocka_unit_test(ipv6_cidr_matches),
		cmocka_unit_test(bare_address_is_a_host_prefix),
		cmocka_unit_test(zero_prefix_matches_everything_of_its_family),
		cmocka_unit_test(bad_cidrs_are_rejected_with_a_reason),
		cmocka_unit_test(cidr_formats_back),
		cmocka_unit_test(first_matching_policy_wins),
		cmocka_unit_test(sources_restrict_a_policy),
		cmocka_unit_test(mode_names_round_trip),
		cmocka_unit_test(flattened_ipv4_policies_match_like_policy_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
