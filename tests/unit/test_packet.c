/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_packet.c - IPv4/IPv6/TCP parsing and Linux-exact option walking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "packet_int.h"
#include "pktbuild.h"

static uint8_t buf[PB_MAX];

/* Parse a copy in an exactly sized heap buffer, so ASan sees any overread.
 * The parsed packet points into it: the copy lives until the next call. */
static enum pkt_status
parse_exact(const uint8_t *b, size_t len, struct pkt *p)
{
	static uint8_t *copy;

	free(copy);
	copy = calloc(1, len ? len : 1);
	memcpy(copy, b, len);
	return pkt_parse(copy, len, p);
}

static enum pkt_status
build_and_parse(const struct pb_spec *s, struct pkt *p, size_t *len)
{
	size_t n = pb_build(buf, s);

	if (len)
		*len = n;
	return parse_exact(buf, n, p);
}

static void
ipv4_syn_with_timestamp_is_parsed(void **state)
{
	static const uint8_t src[] = { 192, 0, 2, 10 }, dst[] = { 198, 51, 100, 10 };
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_mss(&o, 1460);
	pb_sackok(&o);
	pb_ts(&o, 0x11223344, 0);
	pb_nop(&o);
	pb_ws(&o, 7);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o, .sport = 1234, .dport = 8080 }, &p, NULL), PKT_OK);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.tcp_hlen, 40);
	assert_int_equal(p.tcp_flags, TCPF_SYN);
	assert_int_equal(pkt_sport(&p), 1234);
	assert_int_equal(pkt_dport(&p), 8080);
	assert_int_equal(p.ts_count, 1);
	assert_int_equal(p.ts_off, 26);
	assert_int_equal(p.tsval, 0x11223344);
	assert_int_equal(p.tsecr, 0);
	assert_true(p.complete);
	assert_memory_equal(p.saddr, src, 4);
	assert_memory_equal(p.daddr, dst, 4);
}

static void
timestamp_first_option_is_found(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_ts(&o, 7, 8);
	pb_mss(&o, 1400);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_off, 20);
	assert_int_equal(p.tsval, 7);
	assert_int_equal(p.tsecr, 8);
}

static void
timestamp_last_option_is_found(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_mss(&o, 1400);
	pb_ws(&o, 2);
	pb_sackok(&o);
	pb_nop(&o);
	pb_ts(&o, 99, 100);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_off, 30);
	assert_int_equal(p.tsval, 99);
}

static void
timestamp_after_sack_blocks_is_found(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_sack(&o, 1000, 2000);
	pb_ts(&o, 5, 6);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_off, 32);
	assert_int_equal(p.tsecr, 6);
}

static void
timestamp_at_odd_offset_is_found(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_ws(&o, 1);		/* 3 bytes: the TS starts at offset 23 */
	pb_ts(&o, 0xdeadbeef, 0xfeedface);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_off, 23);
	assert_int_equal(p.tsval, 0xdeadbeef);
	assert_int_equal(p.tsecr, 0xfeedface);
}

static void
timestamp_with_nop_padding_is_found(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, 1, 2);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_off, 22);
	assert_int_equal(p.tcp_hlen, 32);
}

static void
no_options_means_no_timestamp(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ 0 }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 0);
	assert_int_equal(p.ts_off, 0);
	assert_int_equal(p.tcp_hlen, 20);
}

static void
eol_before_timestamp_hides_it(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_mss(&o, 1460);
	pb_eol(&o);
	pb_nop(&o);
	pb_ts(&o, 1, 2);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 0);
}

static void
zero_length_option_is_malformed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_raw(&o, 30, 0, 2);
	pb_ts(&o, 1, 2);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_MALFORMED);
}

static void
length_one_option_is_malformed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_raw(&o, 2, 1, 2);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_MALFORMED);
}

static void
option_longer_than_header_is_malformed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_ts(&o, 1, 2);
	pb_raw(&o, 30, 40, 0);	/* claims 40 bytes, 2 remain */
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_MALFORMED);
}

static void
option_kind_in_last_byte_is_malformed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_nop(&o);
	o.b[o.n++] = 2;		/* MSS kind with no room for its length */
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_MALFORMED);
}

static void
two_timestamps_last_one_wins(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_ts(&o, 111, 1);
	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, 222, 2);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 2);
	assert_int_equal(p.ts_off, 32);
	assert_int_equal(p.tsval, 222);
}

static void
timestamp_of_length_nine_is_ignored(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_raw(&o, TCPOPT_TIMESTAMP, 9, 7);
	pb_mss(&o, 1000);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 0);
}

static void
timestamp_of_length_eleven_is_ignored(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_raw(&o, TCPOPT_TIMESTAMP, 11, 9);
	pb_nop(&o);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 0);
}

static void
walk_continues_after_ignored_timestamp(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_raw(&o, TCPOPT_TIMESTAMP, 11, 9);
	pb_nop(&o);
	pb_ts(&o, 42, 43);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 1);
	assert_int_equal(p.ts_off, 32);
	assert_int_equal(p.tsval, 42);
}

static void
data_offset_below_five_is_malformed(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .doff_override = 4, .payload = 8 }, &p, NULL), PKT_MALFORMED);
}

static void
data_offset_past_segment_is_malformed(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .doff_override = 15 }, &p, NULL), PKT_MALFORMED);
}

static void
ipv4_header_length_below_twenty_is_malformed(void **state)
{
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ 0 });
	(void)state;

	buf[0] = 0x44;
	assert_int_equal(parse_exact(buf, n, &p), PKT_MALFORMED);
}

static void
ipv4_total_length_below_header_is_malformed(void **state)
{
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ 0 });
	(void)state;

	buf[2] = 0, buf[3] = 16;
	assert_int_equal(parse_exact(buf, n, &p), PKT_MALFORMED);
}

static void
ipv4_total_length_without_tcp_header_is_malformed(void **state)
{
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ 0 });
	(void)state;

	buf[2] = 0, buf[3] = 30;
	assert_int_equal(parse_exact(buf, n, &p), PKT_MALFORMED);
}

static void
ipv4_with_options_is_parsed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_ts(&o, 77, 0);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o, .ip_opts = 12 }, &p, NULL), PKT_OK);
	assert_int_equal(p.l4_off, 32);
	assert_int_equal(p.tsval, 77);
}

static void
ipv4_udp_is_not_ours(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .ipproto = 17 }, &p, NULL), PKT_NOT_OURS);
}

static void
ipv4_non_first_fragment_is_not_ours(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .frag = 0x00b9 }, &p, NULL), PKT_NOT_OURS);
}

static void
ipv4_first_fragment_is_not_ours(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .frag = 0x2000 }, &p, NULL), PKT_NOT_OURS);
}

static void
ipv4_dont_fragment_is_ours(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .frag = 0x4000 }, &p, NULL), PKT_OK);
}

static void
ip_version_five_is_not_ours(void **state)
{
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ 0 });
	(void)state;

	buf[0] = 0x55;
	assert_int_equal(parse_exact(buf, n, &p), PKT_NOT_OURS);
}

static void
empty_buffer_is_truncated(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(parse_exact(buf, 0, &p), PKT_TRUNCATED);
}

static void
ipv6_syn_is_parsed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_mss(&o, 1440);
	pb_ts(&o, 123, 0);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .family = 6, .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.addr_len, 16);
	assert_int_equal(p.l4_off, 40);
	assert_int_equal(p.ts_off, 24);
	assert_int_equal(p.tsval, 123);
	assert_int_equal(p.saddr[0], 0x20);
	assert_int_equal(p.daddr[3], 0xb8);
	assert_int_equal(p.daddr[5], 0x01);
}

static void
ipv6_extension_headers_are_skipped(void **state)
{
	static const uint8_t ext[] = { 0, 43, 60 };
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_ts(&o, 9, 10);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .family = 6, .opts = &o,
		.v6_ext = ext, .v6_ext_n = 3, .v6_ext_len = 16 }, &p, NULL), PKT_OK);
	assert_int_equal(p.l4_off, 40 + 48);
	assert_int_equal(p.tsval, 9);
	assert_int_equal(p.tcp_len, 32);
}

static void
ipv6_fragment_header_is_not_ours(void **state)
{
	static const uint8_t ext[] = { 44 };
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .family = 6, .v6_ext = ext, .v6_ext_n = 1 }, &p, NULL), PKT_NOT_OURS);
}

static void
ipv6_udp_is_not_ours(void **state)
{
	struct pkt p;
	(void)state;

	assert_int_equal(build_and_parse(&(struct pb_spec){ .family = 6, .ipproto = 17 }, &p, NULL), PKT_NOT_OURS);
}

static void
ipv6_extension_past_payload_is_malformed(void **state)
{
	static const uint8_t ext[] = { 0 };
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ .family = 6, .v6_ext = ext, .v6_ext_n = 1 });
	(void)state;

	buf[41] = 200;		/* hop-by-hop header claims 1608 bytes */
	assert_int_equal(parse_exact(buf, n, &p), PKT_MALFORMED);
}

/* Extension headers that take the payload up to past 65535: the TCP
 * header would start at an offset its 16-bit field cannot hold. Built
 * from destination-options headers of 2048 bytes and one to make up the
 * rest, then a TCP header; every length field is consistent. */
static void
ipv6_tcp_header_past_65535_is_truncated_not_wrapped(void **state)
{
	size_t ext_total = 65536 - 40 + 8, plen = ext_total + 20, off = 40, n = 40 + plen;
	uint8_t *big = calloc(1, n);
	struct pkt p;
	(void)state;

	assert_non_null(big);
	big[0] = 0x60;
	big[4] = (uint8_t)(plen >> 8);
	big[5] = (uint8_t)plen;
	big[6] = 60;				/* destination options */
	big[7] = 64;
	while (off < 40 + ext_total) {
		size_t left = 40 + ext_total - off, ext = left > 2048 ? 2048 : left;

		big[off] = left > 2048 ? 60 : 6;	/* next: more options, or TCP */
		big[off + 1] = (uint8_t)(ext / 8 - 1);
		off += ext;
	}
	assert_true(off > 0xffff);
	big[off + 12] = 5 << 4;			/* TCP data offset: 20 bytes */
	big[off + 13] = TCPF_SYN;
	assert_int_equal(pkt_parse(big, n, &p), PKT_TRUNCATED);
	free(big);
}

static void
ipv6_jumbo_payload_length_is_not_ours(void **state)
{
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ .family = 6 });
	(void)state;

	buf[4] = 0, buf[5] = 0;
	assert_int_equal(parse_exact(buf, n, &p), PKT_NOT_OURS);
}

/* Every cut inside the headers is TRUNCATED; every cut in the payload is OK
 * but not complete; nothing reads past the cut (ASan checks). */
static void
check_every_cut(const struct pb_spec *s)
{
	struct pkt p, full;
	size_t n = pb_build(buf, s);

	assert_int_equal(parse_exact(buf, n, &full), PKT_OK);
	for (size_t cut = 0; cut < n; cut++) {
		enum pkt_status st = parse_exact(buf, cut, &p);

		if (cut < (size_t)full.l4_off + full.tcp_hlen) {
			assert_int_equal(st, PKT_TRUNCATED);
		} else {
			assert_int_equal(st, PKT_OK);
			assert_false(p.complete);
			assert_int_equal(p.tsval, full.tsval);
		}
	}
}

static void
ipv4_truncated_at_every_byte(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_mss(&o, 1460);
	pb_ts(&o, 1, 2);
	check_every_cut(&(struct pb_spec){ .opts = &o, .ip_opts = 8, .payload = 20 });
}

static void
ipv6_with_extensions_truncated_at_every_byte(void **state)
{
	static const uint8_t ext[] = { 0, 60 };
	struct pb_opts o = {0};
	(void)state;

	pb_nop(&o);
	pb_ts(&o, 3, 4);
	check_every_cut(&(struct pb_spec){ .family = 6, .opts = &o, .v6_ext = ext,
		.v6_ext_n = 2, .payload = 10 });
}

static void
bytes_beyond_ip_length_are_ignored(void **state)
{
	struct pkt p;
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 4 });
	(void)state;

	assert_int_equal(parse_exact(buf, n + 6, &p), PKT_OK);
	assert_true(p.complete);
	assert_int_equal(p.tcp_len, 24);
}

static void
count_ts(uint8_t *tcp, size_t off, void *arg)
{
	(void)tcp;
	((size_t *)arg)[((size_t *)arg)[0] + 1] = off;
	((size_t *)arg)[0]++;
}

static void
foreach_visits_every_timestamp_in_order(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	size_t seen[4] = {0};
	(void)state;

	pb_ts(&o, 1, 1);
	pb_raw(&o, TCPOPT_TIMESTAMP, 9, 7);
	pb_ts(&o, 2, 2);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_OK);
	assert_int_equal(pkt_foreach_ts(buf + p.l4_off, p.tcp_hlen, count_ts, seen), 2);
	assert_int_equal(seen[0], 2);
	assert_int_equal(seen[1], 20);
	assert_int_equal(seen[2], 39);
}

/* The Linux layouts are recognised in one step; a layout that differs in
 * one option byte must still get the exact walk. */
static void
linux_layouts_parse_like_the_walk(void **state)
{
	struct pb_opts syn = {0}, data = {0}, odd = {0};
	struct pkt p;
	(void)state;

	pb_mss(&syn, 1460);
	pb_sackok(&syn);
	pb_ts(&syn, 11, 0);
	pb_nop(&syn);
	pb_ws(&syn, 7);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &syn }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 1);
	assert_int_equal(p.ts_off, 26);
	assert_int_equal(p.tsval, 11);
	pb_nop(&data);
	pb_nop(&data);
	pb_ts(&data, 12, 13);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &data, .flags = TCPF_ACK }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_off, 22);
	assert_int_equal(p.tsecr, 13);
	/* SYN shape, but the WS slot holds a second, bogus, kind 8 option */
	pb_mss(&odd, 1460);
	pb_sackok(&odd);
	pb_ts(&odd, 11, 0);
	pb_nop(&odd);
	pb_raw(&odd, TCPOPT_TIMESTAMP, 3, 1);
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &odd }, &p, NULL), PKT_OK);
	assert_int_equal(p.ts_count, 1);
}

static void
linux_syn_shape_with_bad_length_is_malformed(void **state)
{
	struct pb_opts o = {0};
	struct pkt p;
	(void)state;

	pb_mss(&o, 1460);
	pb_sackok(&o);
	pb_ts(&o, 11, 0);
	pb_nop(&o);
	pb_raw(&o, 3, 4, 1);	/* WS claiming 4 bytes, 3 left */
	assert_int_equal(build_and_parse(&(struct pb_spec){ .opts = &o }, &p, NULL), PKT_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_syn_with_timestamp_is_parsed),
		cmocka_unit_test(timestamp_first_option_is_found),
		cmocka_unit_test(timestamp_last_option_is_found),
		cmocka_unit_test(timestamp_after_sack_blocks_is_found),
		cmocka_unit_test(timestamp_at_odd_offset_is_found),
		cmocka_unit_test(timestamp_with_nop_padding_is_found),
		cmocka_unit_test(no_options_means_no_timestamp),
		cmocka_unit_test(eol_before_timestamp_hides_it),
		cmocka_unit_test(zero_length_option_is_malformed),
		cmocka_unit_test(length_one_option_is_malformed),
		cmocka_unit_test(option_longer_than_header_is_malformed),
		cmocka_unit_test(option_kind_in_last_byte_is_malformed),
		cmocka_unit_test(two_timestamps_last_one_wins),
		cmocka_unit_test(timestamp_of_length_nine_is_ignored),
		cmocka_unit_test(timestamp_of_length_eleven_is_ignored),
		cmocka_unit_test(walk_continues_after_ignored_timestamp),
		cmocka_unit_test(data_offset_below_five_is_malformed),
		cmocka_unit_test(data_offset_past_segment_is_malformed),
		cmocka_unit_test(ipv4_header_length_below_twenty_is_malformed),
		cmocka_unit_test(ipv4_total_length_below_header_is_malformed),
		cmocka_unit_test(ipv4_total_length_without_tcp_header_is_malformed),
		cmocka_unit_test(ipv4_with_options_is_parsed),
		cmocka_unit_test(ipv4_udp_is_not_ours),
		cmocka_unit_test(ipv4_non_first_fragment_is_not_ours),
		cmocka_unit_test(ipv4_first_fragment_is_not_ours),
		cmocka_unit_test(ipv4_dont_fragment_is_ours),
		cmocka_unit_test(ip_version_five_is_not_ours),
		cmocka_unit_test(empty_buffer_is_truncated),
		cmocka_unit_test(ipv6_syn_is_parsed),
		cmocka_unit_test(ipv6_extension_headers_are_skipped),
		cmocka_unit_test(ipv6_fragment_header_is_not_ours),
		cmocka_unit_test(ipv6_tcp_header_past_65535_is_truncated_not_wrapped),
		cmocka_unit_test(ipv6_udp_is_not_ours),
		cmocka_unit_test(ipv6_extension_past_payload_is_malformed),
		cmocka_unit_test(ipv6_jumbo_payload_length_is_not_ours),
		cmocka_unit_test(ipv4_truncated_at_every_byte),
		cmocka_unit_test(ipv6_with_extensions_truncated_at_every_byte),
		cmocka_unit_test(bytes_beyond_ip_length_are_ignored),
		cmocka_unit_test(foreach_visits_every_timestamp_in_order),
		cmocka_unit_test(linux_layouts_parse_like_the_walk),
		cmocka_unit_test(linux_syn_shape_with_bad_length_is_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
