/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rtnl.c - interface addresses -> clock domains, with RTM_NEWADDR
 * messages built here with libmnl as the kernel would send them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "domain.h"
#include "rtnl.h"

static uint8_t msgbuf[512];

/* An RTM_NEWADDR header for (family, ifindex) with ifa_flags and scope. */
static struct nlmsghdr *
addr_msg(int family, uint32_t ifindex, uint8_t flags, uint8_t scope)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(msgbuf, 0, sizeof(msgbuf)));
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family == 6 ? AF_INET6 : AF_INET;
	ifa->ifa_prefixlen = family == 6 ? 64 : 24;
	ifa->ifa_flags = flags;
	ifa->ifa_scope = scope;
	ifa->ifa_index = ifindex;
	return nlh;
}

/* Add an address attribute (IFA_LOCAL or IFA_ADDRESS) from text. */
static void
put_addr(struct nlmsghdr *nlh, uint16_t type, const char *text)
{
	uint8_t a[16];
	bool v6 = strchr(text, ':') != NULL;

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, a), 1);
	mnl_attr_put(nlh, type, v6 ? 16 : 4, a);
}

/* The simplest usable message: a primary IPv4/IPv6 address. */
static struct nlmsghdr *
primary(uint32_t ifindex, const char *text)
{
	struct nlmsghdr *nlh = addr_msg(strchr(text, ':') ? 6 : 4, ifindex,
					IFA_F_PERMANENT, RT_SCOPE_UNIVERSE);

	put_addr(nlh, IFA_ADDRESS, text);
	return nlh;
}

static void
assert_scanned(const struct rtnl_scan *sc, int family, uint32_t ifindex, const char *text)
{
	uint8_t want[16] = { 0 }, got[16] = { 0 };

	assert_int_equal(inet_pton(family == 6 ? AF_INET6 : AF_INET, text, want), 1);
	assert_true(rtnl_scan_get(sc, family, ifindex, got));
	assert_memory_equal(want, got, family == 6 ? 16 : 4);
}

static int
setup(void **state)
{
	*state = rtnl_scan_new();
	return *state ? 0 : -1;
}

static int
teardown(void **state)
{
	rtnl_scan_free(*state);
	return 0;
}

static void
primary_address_is_chosen(void **state)
{
	struct rtnl_scan *sc = *state;
	uint8_t a[16];

	assert_true(rtnl_scan_addr(sc, primary(2, "192.0.2.1")));
	assert_scanned(sc, 4, 2, "192.0.2.1");
	assert_false(rtnl_scan_get(sc, 4, 3, a));
	assert_false(rtnl_scan_get(sc, 6, 2, a));
}

static void
first_primary_of_an_interface_wins(void **state)
{
	struct rtnl_scan *sc = *state;

	assert_true(rtnl_scan_addr(sc, primary(2, "192.0.2.1")));
	assert_false(rtnl_scan_addr(sc, primary(2, "192.0.2.7")));
	assert_scanned(sc, 4, 2, "192.0.2.1");
}

static void
unusable_flags_are_ignored(void **state)
{
	static const uint8_t flags[] = { IFA_F_SECONDARY, IFA_F_TENTATIVE,
					 IFA_F_DEPRECATED, IFA_F_DADFAILED };
	struct rtnl_scan *sc = *state;
	uint8_t a[16];

	for (size_t i = 0; i < sizeof(flags); i++) {
		struct nlmsghdr *nlh = addr_msg(i % 2 ? 6 : 4, 2, flags[i], RT_SCOPE_UNIVERSE);

		put_addr(nlh, IFA_ADDRESS, i % 2 ? "2001:db8::1" : "192.0.2.1");
		assert_false(rtnl_scan_addr(sc, nlh));
	}
	assert_false(rtnl_scan_get(sc, 4, 2, a));
	assert_false(rtnl_scan_get(sc, 6, 2, a));
}

static void
unusable_flags_only_in_ifa_flags_attribute_are_ignored(void **state)
{
	static const uint32_t flags[] = { IFA_F_SECONDARY, IFA_F_TENTATIVE,
					  IFA_F_DEPRECATED, IFA_F_DADFAILED };
	struct rtnl_scan *sc = *state;

	for (size_t i = 0; i < 4; i++) {
		struct nlmsghdr *nlh = addr_msg(6, 2, 0, RT_SCOPE_UNIVERSE);

		put_addr(nlh, IFA_ADDRESS, "2001:db8::1");
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags[i] | IFA_F_NOPREFIXROUTE);
		assert_false(rtnl_scan_addr(sc, nlh));
	}
}

static void
ifa_flags_attribute_overrides_the_header(void **state)
{
	struct rtnl_scan *sc = *state;
	struct nlmsghdr *nlh = addr_msg(6, 2, IFA_F_TENTATIVE, RT_SCOPE_UNIVERSE);

	/* the 8-bit header field is a copy; the 32-bit attribute is the truth */
	put_addr(nlh, IFA_ADDRESS, "2001:db8::1");
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_PERMANENT);
	assert_true(rtnl_scan_addr(sc, nlh));
}

static void
non_universe_scope_is_ignored(void **state)
{
	static const uint8_t scopes[] = { RT_SCOPE_SITE, RT_SCOPE_LINK, RT_SCOPE_HOST };
	struct rtnl_scan *sc = *state;

	for (size_t i = 0; i < sizeof(scopes); i++) {
		struct nlmsghdr *nlh = addr_msg(4, 1, 0, scopes[i]);

		put_addr(nlh, IFA_ADDRESS, "127.0.0.1");
		assert_false(rtnl_scan_addr(sc, nlh));
	}
}

static void
ifa_local_is_preferred_over_ifa_address(void **state)
{
	struct rtnl_scan *sc = *state;
	struct nlmsghdr *nlh = addr_msg(4, 2, 0, RT_SCOPE_UNIVERSE);

	/* point-to-point: IFA_ADDRESS is the peer */
	put_addr(nlh, IFA_ADDRESS, "10.0.0.2");
	put_addr(nlh, IFA_LOCAL, "10.0.0.1");
	assert_true(rtnl_scan_addr(sc, nlh));
	assert_scanned(sc, 4, 2, "10.0.0.1");

	nlh = addr_msg(4, 3, 0, RT_SCOPE_UNIVERSE);
	put_addr(nlh, IFA_LOCAL, "10.0.1.1");
	put_addr(nlh, IFA_ADDRESS, "10.0.1.2");
	assert_true(rtnl_scan_addr(sc, nlh));
	assert_scanned(sc, 4, 3, "10.0.1.1");
}

static void
ipv6_address_is_chosen_per_interface(void **state)
{
	struct rtnl_scan *sc = *state;

	assert_true(rtnl_scan_addr(sc, primary(4, "2001:db8:5::1")));
	assert_true(rtnl_scan_addr(sc, primary(4, "198.51.100.4")));
	assert_scanned(sc, 6, 4, "2001:db8:5::1");
	assert_scanned(sc, 4, 4, "198.51.100.4");
}

static void
ifindex_past_the_map_is_ignored(void **state)
{
	struct rtnl_scan *sc = *state;
	uint8_t a[16];

	assert_false(rtnl_scan_addr(sc, primary(DOMAIN_IFINDEX_MAX, "192.0.2.1")));
	assert_false(rtnl_scan_addr(sc, primary(UINT32_MAX, "192.0.2.1")));
	assert_true(rtnl_scan_addr(sc, primary(DOMAIN_IFINDEX_MAX - 1, "192.0.2.1")));
	assert_false(rtnl_scan_get(sc, 4, DOMAIN_IFINDEX_MAX, a));
}

static void
wrong_attribute_length_is_ignored(void **state)
{
	static const uint8_t five[5] = { 192, 0, 2, 1, 0 };
	struct rtnl_scan *sc = *state;
	struct nlmsghdr *nlh = addr_msg(4, 2, 0, RT_SCOPE_UNIVERSE);

	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(five), five);
	assert_false(rtnl_scan_addr(sc, nlh));
	nlh = addr_msg(6, 2, 0, RT_SCOPE_UNIVERSE);
	put_addr(nlh, IFA_ADDRESS, "192.0.2.1");	/* 4 bytes in an IPv6 message */
	assert_false(rtnl_scan_addr(sc, nlh));
	nlh = addr_msg(6, 2, 0, RT_SCOPE_UNIVERSE);
	put_addr(nlh, IFA_ADDRESS, "2001:db8::1");
	mnl_attr_put(nlh, IFA_FLAGS, 2, five);		/* short IFA_FLAGS: not used */
	assert_true(rtnl_scan_addr(sc, nlh));
}

static void
other_messages_are_ignored(void **state)
{
	struct rtnl_scan *sc = *state;
	struct nlmsghdr *nlh = primary(2, "192.0.2.1");

	nlh->nlmsg_type = RTM_DELADDR;
	assert_false(rtnl_scan_addr(sc, nlh));
	nlh = addr_msg(4, 2, 0, RT_SCOPE_UNIVERSE);	/* no address at all */
	assert_false(rtnl_scan_addr(sc, nlh));
	nlh = primary(2, "192.0.2.1");
	nlh->nlmsg_len = sizeof(struct nlmsghdr) + 4;	/* shorter than ifaddrmsg */
	assert_false(rtnl_scan_addr(sc, nlh));
	nlh = primary(2, "192.0.2.1");
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_family = AF_PACKET;
	assert_false(rtnl_scan_addr(sc, nlh));
}

static uint16_t
domain_of(struct domains *d, int family, const char *text)
{
	uint8_t a[16] = { 0 };

	assert_int_equal(inet_pton(family == 6 ? AF_INET6 : AF_INET, text, a), 1);
	return domains_intern(d, family, a);
}

static void
publish_maps_interfaces_to_their_domains(void **state)
{
	struct rtnl_scan *sc = *state;
	struct domains *d = domains_new(1);
	static struct rtnl_map map;

	memset(&map, 0, sizeof(map));
	rtnl_scan_addr(sc, primary(2, "192.0.2.1"));
	rtnl_scan_addr(sc, primary(3, "2001:db8::3"));
	rtnl_scan_addr(sc, primary(7, "192.0.2.1"));	/* same address: same domain */
	assert_int_equal(rtnl_publish(&map, d, sc), 3);
	assert_int_equal(domains_for_ifindex(d, 4, 2), domain_of(d, 4, "192.0.2.1"));
	assert_int_equal(domains_for_ifindex(d, 4, 7), domain_of(d, 4, "192.0.2.1"));
	assert_int_equal(domains_for_ifindex(d, 6, 3), domain_of(d, 6, "2001:db8::3"));
	assert_int_equal(domains_for_ifindex(d, 4, 3), DOMAIN_SHARED);
	assert_int_equal(domains_count(d), 3);
	/* the same dump again changes nothing */
	assert_int_equal(rtnl_publish(&map, d, sc), 0);
	domains_free(d);
}

static void
interface_that_loses_its_address_goes_back_to_shared(void **state)
{
	struct rtnl_scan *sc = *state, *next = rtnl_scan_new();
	struct domains *d = domains_new(1);
	static struct rtnl_map map;

	memset(&map, 0, sizeof(map));
	rtnl_scan_addr(sc, primary(2, "192.0.2.1"));
	rtnl_scan_addr(sc, primary(3, "192.0.2.3"));
	assert_int_equal(rtnl_publish(&map, d, sc), 2);
	/* next dump: 2 lost its address, 3 got another one */
	rtnl_scan_addr(next, primary(3, "192.0.2.33"));
	assert_int_equal(rtnl_publish(&map, d, next), 2);
	assert_int_equal(domains_for_ifindex(d, 4, 2), DOMAIN_SHARED);
	assert_int_equal(domains_for_ifindex(d, 4, 3), domain_of(d, 4, "192.0.2.33"));
	rtnl_scan_free(next);
	domains_free(d);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(primary_address_is_chosen),
		T(first_primary_of_an_interface_wins),
		T(unusable_flags_are_ignored),
		T(unusable_flags_only_in_ifa_flags_attribute_are_ignored),
		T(ifa_flags_attribute_overrides_the_header),
		T(non_universe_scope_is_ignored),
		T(ifa_local_is_preferred_over_ifa_address),
		T(ipv6_address_is_chosen_per_interface),
		T(ifindex_past_the_map_is_ignored),
		T(wrong_attribute_length_is_ignored),
		T(other_messages_are_ignored),
		T(publish_maps_interfaces_to_their_domains),
		T(interface_that_loses_its_address_goes_back_to_shared),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
