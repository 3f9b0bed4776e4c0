/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_tsopt.c - strip and shift the timestamp option with exact checksums. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "bytes.h"
#include "packet.h"
#include "pktbuild.h"
#include "tsopt.h"

static uint8_t buf[PB_MAX];
static struct pkt p;
static size_t len;

static void
build(const struct pb_spec *s)
{
	len = pb_build(buf, s);
	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
}

static void
syn_ts(struct pb_opts *o, uint32_t tsval, uint32_t tsecr)
{
	pb_mss(o, 1460);
	pb_sackok(o);
	pb_ts(o, tsval, tsecr);
	pb_nop(o);
	pb_ws(o, 7);
}

static void
strip_replaces_timestamp_with_nops(void **state)
{
	struct pb_opts o = {0};
	struct pkt after;
	(void)state;

	syn_ts(&o, 1000, 0);
	build(&(struct pb_spec){ .opts = &o });
	assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(buf[20 + 26 + i], TCPOPT_NOP);
	assert_int_equal(pkt_parse(buf, len, &after), PKT_OK);
	assert_int_equal(after.ts_count, 0);
	assert_int_equal(after.tcp_hlen, p.tcp_hlen);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
strip_keeps_other_options(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_ts(&o, 1000, 0);
	build(&(struct pb_spec){ .opts = &o });
	tsopt_strip(buf, &p, CSUM_INCREMENTAL);
	assert_memory_equal(buf + 40, o.b, 6);		/* MSS, SACK-permitted */
	assert_memory_equal(buf + 40 + 16, o.b + 16, 4);	/* NOP, WS */
}

static void
strip_at_odd_offset_keeps_checksum_valid(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_ws(&o, 3);
	pb_ts(&o, 0x01020304, 0x0a0b0c0d);
	build(&(struct pb_spec){ .opts = &o, .payload = 5 });
	assert_int_equal(p.ts_off, 23);
	assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), 1);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
strip_removes_both_of_two_timestamps(void **state)
{
	struct pb_opts o = {0};
	struct pkt after;
	(void)state;

	pb_ts(&o, 1, 0);
	pb_ts(&o, 2, 0);
	build(&(struct pb_spec){ .opts = &o });
	assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), 2);
	assert_int_equal(pkt_parse(buf, len, &after), PKT_OK);
	assert_int_equal(after.ts_count, 0);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
strip_without_timestamp_changes_nothing(void **state)
{
	struct pb_opts o = {0};
	uint8_t before[PB_MAX];
	(void)state;

	pb_mss(&o, 1400);
	build(&(struct pb_spec){ .opts = &o });
	memcpy(before, buf, len);
	assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), 0);
	assert_memory_equal(before, buf, len);
}

static void
strip_leaves_malformed_length_timestamps_alone(void **state)
{
	struct pb_opts o = {0};
	uint8_t before[PB_MAX];
	(void)state;

	pb_raw(&o, TCPOPT_TIMESTAMP, 11, 9);
	build(&(struct pb_spec){ .opts = &o });
	memcpy(before, buf, len);
	assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), 0);
	assert_memory_equal(before, buf, len);
}

static void
strip_ipv6_keeps_checksum_valid(void **state)
{
	static const uint8_t ext[] = { 0 };
	struct pb_opts o = {0};
	(void)state;

	syn_ts(&o, 0xfffffff0, 0);
	build(&(struct pb_spec){ .family = 6, .opts = &o, .v6_ext = ext, .v6_ext_n = 1 });
	assert_int_equal(tsopt_strip(buf, &p, CSUM_INCREMENTAL), 1);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
strip_full_mode_computes_checksum_from_partial(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_ts(&o, 5555, 0);
	build(&(struct pb_spec){ .opts = &o, .payload = 7 });
	pb_make_partial(buf, len);
	assert_false(pb_tcp_csum_ok(buf, len));
	assert_int_equal(tsopt_strip(buf, &p, CSUM_FULL), 1);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
strip_full_mode_refuses_incomplete_segment(void **state)
{
	struct pb_opts o = {0};
	uint8_t before[PB_MAX];
	struct pkt cut;
	(void)state;

	syn_ts(&o, 5555, 0);
	build(&(struct pb_spec){ .opts = &o, .payload = 100 });
	assert_int_equal(pkt_parse(buf, len - 50, &cut), PKT_OK);
	memcpy(before, buf, len);
	assert_int_equal(tsopt_strip(buf, &cut, CSUM_FULL), -1);
	assert_memory_equal(before, buf, len);
}

static void
strip_gso_mode_leaves_checksum_field(void **state)
{
	struct pb_opts o = {0};
	uint16_t ck;
	(void)state;

	syn_ts(&o, 1, 0);
	build(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK, .payload = 64 });
	ck = pkt_get16(buf + 36);
	assert_int_equal(tsopt_strip(buf, &p, CSUM_NONE), 1);
	assert_int_equal(pkt_get16(buf + 36), ck);
}

static void
shift_adds_to_tsval_and_subtracts_from_tsecr(void **state)
{
	struct pb_opts o = {0};
	struct pkt after;
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, 1000, 5000);
	build(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK, .payload = 10 });
	assert_int_equal(tsopt_shift(buf, &p, 250, 40, CSUM_INCREMENTAL), 1);
	assert_int_equal(pkt_parse(buf, len, &after), PKT_OK);
	assert_int_equal(after.tsval, 1250);
	assert_int_equal(after.tsecr, 4960);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
shift_keeps_zero_tsecr_zero(void **state)
{
	struct pb_opts o = {0};
	struct pkt after;
	(void)state;

	syn_ts(&o, 1000, 0);
	build(&(struct pb_spec){ .opts = &o });
	assert_int_equal(tsopt_shift(buf, &p, 7, 7, CSUM_INCREMENTAL), 1);
	assert_int_equal(pkt_parse(buf, len, &after), PKT_OK);
	assert_int_equal(after.tsval, 1007);
	assert_int_equal(after.tsecr, 0);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
shift_wraps_around_two_to_the_32(void **state)
{
	struct pb_opts o = {0};
	struct pkt after;
	(void)state;

	pb_ts(&o, 0xfffffff0, 0x00000005);
	build(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK });
	assert_int_equal(tsopt_shift(buf, &p, 0x20, 0x10, CSUM_INCREMENTAL), 1);
	assert_int_equal(pkt_parse(buf, len, &after), PKT_OK);
	assert_int_equal(after.tsval, 0x10);
	assert_int_equal(after.tsecr, 0xfffffff5);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
shift_across_two_to_the_31(void **state)
{
	struct pb_opts o = {0};
	struct pkt after;
	(void)state;

	pb_ts(&o, 0x7ffffffe, 0x80000001);
	build(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK });
	assert_int_equal(tsopt_shift(buf, &p, 3, 3, CSUM_INCREMENTAL), 1);
	assert_int_equal(pkt_parse(buf, len, &after), PKT_OK);
	assert_int_equal(after.tsval, 0x80000001);
	assert_int_equal(after.tsecr, 0x7ffffffe);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
shift_at_odd_offset_keeps_checksum_valid(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_nop(&o);
	pb_ts(&o, 0x12345678, 0x9abcdef0);
	build(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK, .payload = 3 });
	assert_int_equal(p.ts_off, 21);
	assert_int_equal(tsopt_shift(buf, &p, 0x0f0f0f0f, 0x01010101, CSUM_INCREMENTAL), 1);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
shift_full_mode_computes_checksum(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, 10, 20);
	build(&(struct pb_spec){ .family = 6, .opts = &o, .flags = TCPF_ACK, .payload = 101 });
	pb_make_partial(buf, len);
	assert_int_equal(tsopt_shift(buf, &p, 1u << 31, 99, CSUM_FULL), 1);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
shift_without_timestamp_changes_nothing(void **state)
{
	uint8_t before[PB_MAX];
	(void)state;

	build(&(struct pb_spec){ .flags = TCPF_ACK, .payload = 10 });
	memcpy(before, buf, len);
	assert_int_equal(tsopt_shift(buf, &p, 5, 5, CSUM_INCREMENTAL), 0);
	assert_memory_equal(before, buf, len);
}

static void
shift_changes_both_of_two_timestamps(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_ts(&o, 100, 200);
	pb_ts(&o, 300, 400);
	build(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK });
	assert_int_equal(tsopt_shift(buf, &p, 1, 1, CSUM_INCREMENTAL), 2);
	assert_int_equal(pkt_get32(buf + 40 + 2), 101);
	assert_int_equal(pkt_get32(buf + 40 + 12), 301);
	assert_true(pb_tcp_csum_ok(buf, len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strip_replaces_timestamp_with_nops),
		cmocka_unit_test(strip_keeps_other_options),
		cmocka_unit_test(strip_at_odd_offset_keeps_checksum_valid),
		cmocka_unit_test(strip_removes_both_of_two_timestamps),
		cmocka_unit_test(strip_without_timestamp_changes_nothing),
		cmocka_unit_test(strip_leaves_malformed_length_timestamps_alone),
		cmocka_unit_test(strip_ipv6_keeps_checksum_valid),
		cmocka_unit_test(strip_full_mode_computes_checksum_from_partial),
		cmocka_unit_test(strip_full_mode_refuses_incomplete_segment),
		cmocka_unit_test(strip_gso_mode_leaves_checksum_field),
		cmocka_unit_test(shift_adds_to_tsval_and_subtracts_from_tsecr),
		cmocka_unit_test(shift_keeps_zero_tsecr_zero),
		cmocka_unit_test(shift_wraps_around_two_to_the_32),
		cmocka_unit_test(shift_across_two_to_the_31),
		cmocka_unit_test(shift_at_odd_offset_keeps_checksum_valid),
		cmocka_unit_test(shift_full_mode_computes_checksum),
		cmocka_unit_test(shift_without_timestamp_changes_nothing),
		cmocka_unit_test(shift_changes_both_of_two_timestamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
