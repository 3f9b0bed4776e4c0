/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_csum.c - full and incremental Internet checksums (csum.h, and the
 * incremental update of tsopt.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bytes.h"
#include "csum.h"
#include "packet.h"
#include "pktbuild.h"
#include "tsopt.h"

static uint8_t buf[PB_MAX];

/* Folded sum of the 16-bit words (aligned to base) covering [off, off+len). */
static uint16_t
span(const uint8_t *base, size_t off, size_t len)
{
	size_t start = off & ~(size_t)1, end = (off + len + 1) & ~(size_t)1;

	return csum_fold(csum_add(0, base + start, end - start));
}

static void
fold_adds_carries_back(void **state)
{
	(void)state;
	assert_int_equal(csum_fold(0x1fffe), 0xffff);
	assert_int_equal(csum_fold(0x12345678), 0x68ac);
	assert_int_equal(csum_fold(0), 0);
}

static void
add_pads_odd_trailing_byte(void **state)
{
	static const uint8_t b[] = { 0x12, 0x34, 0x56 };
	(void)state;

	assert_int_equal(csum_fold(csum_add(0, b, 3)), 0x1234 + 0x5600);
}

static void
add_of_word_chunks_equals_sum_of_halves(void **state)
{
	static const uint8_t b[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x80, 0x00 };
	(void)state;

	assert_int_equal(csum_fold(csum_add(0, b, 8)),
			 csum_fold(0xffffu + 0xffff + 0x0001 + 0x8000));
}

static void
tcp_checksum_of_built_ipv4_packet_verifies(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 33 });
	struct pkt p;
	uint16_t want = pkt_get16(buf + 20 + 16);
	(void)state;

	assert_int_equal(pkt_parse(buf, n, &p), PKT_OK);
	assert_int_equal(csum_tcp(p.saddr, p.daddr, 4, buf + 20, p.tcp_len), want);
}

static void
tcp_checksum_of_built_ipv6_packet_verifies(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .family = 6, .payload = 17 });
	struct pkt p;
	uint16_t want = pkt_get16(buf + 40 + 16);
	(void)state;

	assert_int_equal(pkt_parse(buf, n, &p), PKT_OK);
	assert_int_equal(csum_tcp(p.saddr, p.daddr, 16, buf + 40, p.tcp_len), want);
}

/* csum_update(): RFC 1624 from the sums of a changed field. */
static void
fix_keeps_checksum_valid_at_even_offset(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 16 });
	uint8_t *tcp = buf + 20;
	uint16_t old = span(tcp, 24, 2);
	(void)state;

	tcp[24] ^= 0x5a;
	tcp[25] ^= 0xc3;
	csum_update(tcp + TCP_CHECK_OFF, 24, old, span(tcp, 24, 2));
	assert_true(pb_tcp_csum_ok(buf, n));
}

static void
fix_keeps_checksum_valid_for_a_span_of_aligned_words(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 16 });
	uint8_t *tcp = buf + 20;
	uint16_t old = span(tcp, 21, 5);
	(void)state;

	for (int i = 21; i < 26; i++)
		tcp[i] = (uint8_t)(tcp[i] * 13 + 1);
	csum_update(tcp + TCP_CHECK_OFF, 20, old, span(tcp, 21, 5));	/* words 20..26 */
	assert_true(pb_tcp_csum_ok(buf, n));
}

static void
fix_of_a_value_at_an_odd_offset_swaps_its_lanes(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 16 });
	uint8_t *tcp = buf + 20;
	uint32_t before = pkt_get32(tcp + 21), after = before * 2654435761u + 12345;
	(void)state;

	pkt_put32(tcp + 21, after);
	csum_update(tcp + TCP_CHECK_OFF, 21, csum_words32(before), csum_words32(after));
	assert_true(pb_tcp_csum_ok(buf, n));
}

static void
fix_of_the_largest_sums_does_not_overflow(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 40 });
	uint8_t *tcp = buf + 20;
	uint32_t old = 0;
	(void)state;

	for (int i = 20; i < 34; i += 2)		/* 7 words: the most a caller sums */
		old += pkt_get16(tcp + i);
	memset(tcp + 20, 0xff, 14);
	csum_update(tcp + TCP_CHECK_OFF, 20, old, 7 * 0xffff);
	assert_true(pb_tcp_csum_ok(buf, n));
	memset(tcp + 20, 0, 14);
	csum_update(tcp + TCP_CHECK_OFF, 20, 7 * 0xffff, 0);
	assert_true(pb_tcp_csum_ok(buf, n));
}

static void
fix_with_no_change_keeps_checksum(void **state)
{
	size_t n = pb_build(buf, &(struct pb_spec){ .payload = 3 });
	uint16_t before = pkt_get16(buf + 36);
	uint16_t s = span(buf + 20, 20, 3);
	(void)state;

	csum_update(buf + 20 + TCP_CHECK_OFF, 20, s, s);
	assert_int_equal(pkt_get16(buf + 36), before);
	assert_true(pb_tcp_csum_ok(buf, n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fold_adds_carries_back),
		cmocka_unit_test(add_pads_odd_trailing_byte),
		cmocka_unit_test(add_of_word_chunks_equals_sum_of_halves),
		cmocka_unit_test(tcp_checksum_of_built_ipv4_packet_verifies),
		cmocka_unit_test(tcp_checksum_of_built_ipv6_packet_verifies),
		cmocka_unit_test(fix_keeps_checksum_valid_at_even_offset),
		cmocka_unit_test(fix_keeps_checksum_valid_for_a_span_of_aligned_words),
		cmocka_unit_test(fix_of_a_value_at_an_odd_offset_swaps_its_lanes),
		cmocka_unit_test(fix_of_the_largest_sums_does_not_overflow),
		cmocka_unit_test(fix_with_no_change_keeps_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
