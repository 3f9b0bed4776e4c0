/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_legacy_model.c - the legacy tcp_tw_recycle server model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "legacy_model.h"

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04

static struct legacy *L;

static int
setup_4x(void **state)
{
	(void)state;
	L = legacy_new(LEGACY_V4X);
	return L ? 0 : -1;
}

static int
setup_310(void **state)
{
	(void)state;
	L = legacy_new(LEGACY_V310);
	return L ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	legacy_free(L);
	return 0;
}

/* A segment between peer 198.51.100.1:port and server local_last:80. */
static struct legacy_seg
seg(bool inbound, uint16_t port, uint8_t flags, bool has_ts, uint32_t tsval)
{
	struct legacy_seg s = { .inbound = inbound, .family = 4, .lport = 80,
		.pport = port, .flags = flags, .has_ts = has_ts, .tsval = tsval };

	s.peer[0] = 198, s.peer[1] = 51, s.peer[2] = 100, s.peer[3] = 1;
	s.local[0] = 203, s.local[1] = 0, s.local[2] = 113, s.local[3] = 10;
	return s;
}

static enum legacy_verdict
in(uint16_t port, uint8_t flags, bool ts, uint32_t tsval, uint32_t now)
{
	struct legacy_seg s = seg(true, port, flags, ts, tsval);

	return legacy_segment(L, &s, now);
}

static void
out(uint16_t port, uint8_t flags, uint32_t now)
{
	struct legacy_seg s = seg(false, port, flags, true, 1);

	legacy_segment(L, &s, now);
}

/* The peer's FIN at sequence number seq after payload bytes of data. */
static enum legacy_verdict
in_fin(uint16_t port, uint32_t tsval, uint32_t seq, uint16_t payload, uint32_t now)
{
	struct legacy_seg s = seg(true, port, FIN | ACK, true, tsval);

	s.seq = seq;
	s.payload = payload;
	return legacy_segment(L, &s, now);
}

/* The server's FIN acknowledging up to ack. */
static void
out_fin(uint16_t port, uint32_t ack, uint32_t now)
{
	struct legacy_seg s = seg(false, port, FIN | ACK, true, 1);

	s.ack = ack;
	legacy_segment(L, &s, now);
}

/* A whole connection that the server closes first, the peer's last
 * timestamp being tsval. */
static void
conn_server_closes(uint16_t port, uint32_t tsval, uint32_t now)
{
	assert_int_equal(in(port, SYN, true, tsval, now), LEGACY_ACCEPT);
	assert_int_equal(in(port, ACK, true, tsval, now), LEGACY_ACCEPT);
	out(port, FIN | ACK, now);
	assert_int_equal(in(port, ACK, true, tsval, now), LEGACY_ACCEPT);
	assert_int_equal(in(port, FIN | ACK, true, tsval, now), LEGACY_ACCEPT);
}

static void
first_syn_from_a_peer_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 12345, 100), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->paws_passive, 0);
}

static void
syn_behind_recorded_timestamp_is_dropped(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 4000, 110), LEGACY_DROP_PASSIVE);
	assert_int_equal(legacy_counts(L)->paws_passive, 1);
}

static void
syn_ahead_of_recorded_timestamp_is_accepted(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 5001, 110), LEGACY_ACCEPT);
}

static void
syn_within_paws_window_of_one_is_accepted(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 4999, 110), LEGACY_ACCEPT);
}

static void
syn_two_behind_is_dropped(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 4998, 110), LEGACY_DROP_PASSIVE);
}

static void
record_older_than_59_seconds_still_drops(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 10, 159), LEGACY_DROP_PASSIVE);
}

static void
record_of_60_seconds_no_longer_drops(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 10, 160), LEGACY_ACCEPT);
}

static void
retransmitted_syn_is_dropped_again(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, true, 3000, 101), LEGACY_DROP_PASSIVE);
	assert_int_equal(in(1001, SYN, true, 4000, 102), LEGACY_DROP_PASSIVE);
	assert_int_equal(legacy_counts(L)->paws_passive, 2);
}

static void
comparison_wraps_at_two_to_the_32(void **state)
{
	(void)state;
	conn_server_closes(1000, 0xfffffff0u, 100);
	assert_int_equal(in(1001, SYN, true, 0x00000010u, 110), LEGACY_ACCEPT);
}

static void
small_timestamp_recorded_drops_one_just_below_wrap(void **state)
{
	(void)state;
	conn_server_closes(1000, 0x10, 100);
	assert_int_equal(in(1001, SYN, true, 0xfffffff0u, 110), LEGACY_DROP_PASSIVE);
}

static void
passive_close_records_nothing(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in_fin(1000, 5000, 7000, 0, 100), LEGACY_ACCEPT);
	out_fin(1000, 7001, 100);
	assert_int_equal(in(1000, ACK, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1001, SYN, true, 10, 110), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->recorded, 0);
}

/* FINs that cross: the server's does not acknowledge the peer's, so the
 * server sent it first and enters TIME-WAIT (through CLOSING), also when
 * the queue saw the peer's FIN first. */
static void
crossing_fins_record_as_an_active_close(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in_fin(1000, 5000, 7000, 0, 100), LEGACY_ACCEPT);
	out_fin(1000, 7000, 100);
	assert_int_equal(in(1000, ACK, true, 5001, 100), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->recorded, 1);
	assert_int_equal(in(1001, SYN, true, 4000, 110), LEGACY_DROP_PASSIVE);
}

/* The peer's FIN follows its data: acknowledging the data alone does not
 * acknowledge the FIN. */
static void
fin_after_data_is_acknowledged_only_past_the_data(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in_fin(1000, 5000, 7000, 100, 100), LEGACY_ACCEPT);
	out_fin(1000, 7100, 100);
	assert_int_equal(in(1000, ACK, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->recorded, 1);
}

/* Sequence numbers wrap: a FIN at 2^32 - 1 is acknowledged by 0. */
static void
fin_acknowledgment_wraps(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in_fin(1000, 5000, 0xffffffffu, 0, 100), LEGACY_ACCEPT);
	out_fin(1000, 0, 100);
	assert_int_equal(in(1000, ACK, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->recorded, 0);
}

static void
higher_record_is_kept_within_window(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	/* accepted (within the PAWS window), and its close records 4999:
	 * the record must stay at 5000 */
	conn_server_closes(1001, 4999, 101);
	assert_int_equal(in(1002, SYN, true, 4998, 102), LEGACY_DROP_PASSIVE);
}

static void
v4x_drops_syn_without_timestamp_after_timestamped_close(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, false, 0, 110), LEGACY_DROP_PASSIVE);
}

static void
v310_accepts_syn_without_timestamp(void **state)
{
	(void)state;
	conn_server_closes(1000, 5000, 100);
	assert_int_equal(in(1001, SYN, false, 0, 110), LEGACY_ACCEPT);
}

static void
connection_without_timestamps_records_nothing(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, false, 0, 100), LEGACY_ACCEPT);
	out(1000, FIN | ACK, 100);
	assert_int_equal(in(1000, FIN | ACK, false, 0, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1001, SYN, false, 0, 101), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->recorded, 0);
}

static void
v4x_key_includes_local_address(void **state)
{
	struct legacy_seg s = seg(true, 1001, SYN, true, 10);
	(void)state;

	conn_server_closes(1000, 5000, 100);
	s.local[3] = 11;	/* another address of the same server */
	assert_int_equal(legacy_segment(L, &s, 110), LEGACY_ACCEPT);
}

static void
v310_key_is_the_peer_alone(void **state)
{
	struct legacy_seg s = seg(true, 1001, SYN, true, 10);
	(void)state;

	conn_server_closes(1000, 5000, 100);
	s.local[3] = 11;
	assert_int_equal(legacy_segment(L, &s, 110), LEGACY_DROP_PASSIVE);
}

static void
segment_behind_ts_recent_is_dropped_as_paws_estab(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1000, ACK, true, 5010, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1000, ACK, true, 5008, 100), LEGACY_DROP_ESTAB);
	assert_int_equal(legacy_counts(L)->paws_estab, 1);
}

static void
segment_one_behind_ts_recent_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1000, ACK, true, 5010, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1000, ACK, true, 5009, 100), LEGACY_ACCEPT);
}

static void
rst_with_old_timestamp_is_not_paws_dropped(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1000, RST, true, 10, 100), LEGACY_ACCEPT);
}

static void
active_close_records_latest_ts_recent(void **state)
{
	(void)state;
	assert_int_equal(in(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1000, ACK, true, 9000, 100), LEGACY_ACCEPT);
	out(1000, FIN | ACK, 100);
	assert_int_equal(in(1000, FIN | ACK, true, 9000, 100), LEGACY_ACCEPT);
	assert_int_equal(in(1001, SYN, true, 8000, 101), LEGACY_DROP_PASSIVE);
	assert_int_equal(in(1002, SYN, true, 9000, 101), LEGACY_ACCEPT);
}

/* IPv6: the same checks, keyed by IPv6 addresses. Linux applied
 * tcp_tw_recycle to IPv6 peers too (tcp_v6_conn_request() in 3.10,
 * tcp_conn_request() for both families in 4.x; tcp_metrics entries carry
 * the address family). Peer 2001:db8:1::1, server 2001:db8:2::10. */
static struct legacy_seg
seg6(bool inbound, uint16_t port, uint8_t flags, bool has_ts, uint32_t tsval)
{
	static const uint8_t peer[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1,
		[15] = 1 };
	static const uint8_t local[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2,
		[15] = 0x10 };
	struct legacy_seg s = { .inbound = inbound, .family = 6, .lport = 80,
		.pport = port, .flags = flags, .has_ts = has_ts, .tsval = tsval };

	memcpy(s.peer, peer, 16);
	memcpy(s.local, local, 16);
	return s;
}

static enum legacy_verdict
in6(uint16_t port, uint8_t flags, bool ts, uint32_t tsval, uint32_t now)
{
	struct legacy_seg s = seg6(true, port, flags, ts, tsval);

	return legacy_segment(L, &s, now);
}

static void
conn6_server_closes(uint16_t port, uint32_t tsval, uint32_t now)
{
	struct legacy_seg fin = seg6(false, port, FIN | ACK, true, 1);

	assert_int_equal(in6(port, SYN, true, tsval, now), LEGACY_ACCEPT);
	assert_int_equal(in6(port, ACK, true, tsval, now), LEGACY_ACCEPT);
	legacy_segment(L, &fin, now);
	assert_int_equal(in6(port, ACK, true, tsval, now), LEGACY_ACCEPT);
	assert_int_equal(in6(port, FIN | ACK, true, tsval, now), LEGACY_ACCEPT);
}

static void
ipv6_syn_behind_recorded_timestamp_is_dropped(void **state)
{
	(void)state;
	conn6_server_closes(1000, 5000, 100);
	assert_true(legacy_counts(L)->recorded > 0);
	assert_int_equal(in6(1001, SYN, true, 4000, 110), LEGACY_DROP_PASSIVE);
	assert_int_equal(in6(1002, SYN, true, 4999, 110), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->paws_passive, 1);
}

static void
ipv6_record_of_60_seconds_no_longer_drops(void **state)
{
	(void)state;
	conn6_server_closes(1000, 5000, 100);
	assert_int_equal(in6(1001, SYN, true, 10, 159), LEGACY_DROP_PASSIVE);
	assert_int_equal(in6(1002, SYN, true, 10, 160), LEGACY_ACCEPT);
}

static void
ipv6_v4x_drops_syn_without_timestamp(void **state)
{
	(void)state;
	conn6_server_closes(1000, 5000, 100);
	assert_int_equal(in6(1001, SYN, false, 0, 110), LEGACY_DROP_PASSIVE);
}

static void
ipv6_v310_accepts_syn_without_timestamp(void **state)
{
	(void)state;
	conn6_server_closes(1000, 5000, 100);
	assert_int_equal(in6(1001, SYN, false, 0, 110), LEGACY_ACCEPT);
}

static void
ipv6_segment_behind_ts_recent_is_dropped_as_paws_estab(void **state)
{
	(void)state;
	assert_int_equal(in6(1000, SYN, true, 5000, 100), LEGACY_ACCEPT);
	assert_int_equal(in6(1000, ACK, true, 5010, 100), LEGACY_ACCEPT);
	assert_int_equal(in6(1000, ACK, true, 5008, 100), LEGACY_DROP_ESTAB);
}

/* Each family has its own entries: what an IPv6 peer left behind does not
 * judge an IPv4 peer whose address bytes happen to be the same, nor the
 * other way round. */
static void
families_do_not_share_entries(void **state)
{
	struct legacy_seg s;
	(void)state;

	conn6_server_closes(1000, 5000, 100);
	s = seg6(true, 2000, SYN, true, 10);
	s.family = 4;		/* the same address bytes, the other family */
	assert_int_equal(legacy_segment(L, &s, 110), LEGACY_ACCEPT);
	conn_server_closes(3000, 5000, 120);
	s = seg(true, 3001, SYN, true, 10);
	s.family = 6;
	assert_int_equal(legacy_segment(L, &s, 121), LEGACY_ACCEPT);
	assert_int_equal(legacy_counts(L)->paws_passive, 0);
}

static void
variant_names_parse(void **state)
{
	enum legacy_variant v;
	(void)state;

	assert_int_equal(legacy_variant_parse("310", &v), 0);
	assert_int_equal(v, LEGACY_V310);
	assert_int_equal(legacy_variant_parse("4x", &v), 0);
	assert_int_equal(v, LEGACY_V4X);
	assert_int_equal(legacy_variant_parse("5", &v), -1);
}

#define T4(f) cmocka_unit_test_setup_teardown(f, setup_4x, teardown)
#define T310(f) cmocka_unit_test_setup_teardown(f, setup_310, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T4(first_syn_from_a_peer_is_accepted),
		T4(syn_behind_recorded_timestamp_is_dropped),
		T310(syn_behind_recorded_timestamp_is_dropped),
		T4(syn_ahead_of_recorded_timestamp_is_accepted),
		T4(syn_within_paws_window_of_one_is_accepted),
		T4(syn_two_behind_is_dropped),
		T4(record_older_than_59_seconds_still_drops),
		T4(record_of_60_seconds_no_longer_drops),
		T4(retransmitted_syn_is_dropped_again),
		T4(comparison_wraps_at_two_to_the_32),
		T4(small_timestamp_recorded_drops_one_just_below_wrap),
		T4(passive_close_records_nothing),
		T310(passive_close_records_nothing),
		T4(crossing_fins_record_as_an_active_close),
		T310(crossing_fins_record_as_an_active_close),
		T4(fin_after_data_is_acknowledged_only_past_the_data),
		T4(fin_acknowledgment_wraps),
		T4(higher_record_is_kept_within_window),
		T4(v4x_drops_syn_without_timestamp_after_timestamped_close),
		T310(v310_accepts_syn_without_timestamp),
		T4(connection_without_timestamps_records_nothing),
		T4(v4x_key_includes_local_address),
		T310(v310_key_is_the_peer_alone),
		T4(segment_behind_ts_recent_is_dropped_as_paws_estab),
		T4(segment_one_behind_ts_recent_is_accepted),
		T4(rst_with_old_timestamp_is_not_paws_dropped),
		T4(active_close_records_latest_ts_recent),
		T4(ipv6_syn_behind_recorded_timestamp_is_dropped),
		T310(ipv6_syn_behind_recorded_timestamp_is_dropped),
		T4(ipv6_record_of_60_seconds_no_longer_drops),
		T4(ipv6_v4x_drops_syn_without_timestamp),
		T310(ipv6_v310_accepts_syn_without_timestamp),
		T4(ipv6_segment_behind_ts_recent_is_dropped_as_paws_estab),
		T4(families_do_not_share_entries),
		T310(families_do_not_share_entries),
		cmocka_unit_test(variant_names_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
