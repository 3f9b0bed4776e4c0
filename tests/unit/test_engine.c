/* test_engine.c - the engine's batch path without a socket: NFQUEUE packet
 * messages in, attributes read, packets processed in their receive buffer,
 * counters. (What is sent back is checked end to end by tests/e2e.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "confutil.h"
#include "engine.h"
#include "log.h"
#include "packet.h"
#include "pktbuild.h"

#define MSG_SIZE (PB_MAX + 256)
#define NMSG 64

static _Atomic(struct conf *) current;
static struct domains *doms;
static struct engine *eng;
static uint8_t msgs[NMSG][MSG_SIZE];
static size_t mlen[NMSG];
static size_t plen[NMSG];	/* each message's packet length */

static int
setup(void **state)
{
	struct conf *c = conf_from_text("policies = ( { name = \"web\"; mode = \"strip\";"
					" destinations = \"198.51.100.0/24\"; } );\n", NULL);

	(void)state;
	log_init(LOG_ERR);
	doms = domains_new(1);
	if (!c || !doms)
		return -1;
	atomic_store(&current, c);
	eng = engine_offline(c, doms, 1);
	return eng ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	engine_free(eng);
	domains_free(doms);
	conf_free(atomic_load(&current));
	return 0;
}

/* Message i: a SYN with MSS/SACK/TS/WS to daddr, described by m. */
static void
put(unsigned i, const char *daddr, struct pb_nfq m)
{
	uint8_t pkt[PB_MAX];
	struct pb_opts o = { 0 };

	pb_mss(&o, 1460);
	pb_sackok(&o);
	pb_ts(&o, 1000 + i, 0);
	pb_nop(&o);
	pb_ws(&o, 7);
	plen[i] = pb_build(pkt, &(struct pb_spec){ .opts = &o, .daddr = daddr,
				.sport = (uint16_t)(30000 + i) });
	m.id = i + 1;
	mlen[i] = pb_nfq_msg(msgs[i], &m, pkt, plen[i]);
}

/* The packet inside message i: the payload is its last attribute. */
static uint8_t *
payload(unsigned i)
{
	return msgs[i] + mlen[i] - MNL_ALIGN(plen[i]);
}

static struct stats
replay(unsigned n)
{
	void *bufs[NMSG];
	struct stats s;

	for (unsigned i = 0; i < n; i++)
		bufs[i] = msgs[i];
	engine_replay(eng, &current, bufs, mlen, n);
	engine_offline_publish(eng);
	engine_stats(eng, 0, &s);
	return s;
}

static bool
has_ts(unsigned i)
{
	struct pkt p;

	return pkt_parse(payload(i), plen[i], &p) == PKT_OK && p.ts_count > 0;
}

static void
syn_to_strip_destination_is_stripped_in_its_receive_buffer(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	s = replay(1);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.stripped, 1);
	assert_int_equal(s.modified, 1);
	assert_false(has_ts(0));
	assert_true(pb_tcp_csum_ok(payload(0), plen[0]));
}

static void
unknown_attributes_are_skipped(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .unknown_attrs = true });
	s = replay(1);
	assert_int_equal(s.malformed, 0);
	assert_int_equal(s.stripped, 1);
	assert_false(has_ts(0));
}

static void
short_u32_attribute_rejects_the_message_untouched(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .short_skb_info = true });
	s = replay(1);
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.packets, 0);
	assert_true(has_ts(0));
}

static void
message_without_packet_header_is_malformed(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .no_hdr = true });
	s = replay(1);
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.packets, 0);
	assert_true(has_ts(0));
}

static void
message_without_payload_is_counted_truncated(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .no_payload = true });
	s = replay(1);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.truncated, 1);
	assert_int_equal(s.passed, 1);
	assert_int_equal(s.modified, 0);
}

static void
copy_shorter_than_the_packet_is_never_mangled(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .cap_len = (uint32_t)plen[0] + 100 });
	s = replay(1);
	assert_int_equal(s.truncated, 1);
	assert_int_equal(s.modified, 0);
	assert_true(has_ts(0));
}

static void
full_batch_gives_every_packet_one_outcome(void **state)
{
	struct stats s;

	(void)state;
	for (unsigned i = 0; i < NMSG; i++)
		put(i, i % 2 ? "203.0.113.10" : NULL, (struct pb_nfq){ 0 });
	s = replay(NMSG);
	assert_int_equal(s.packets, NMSG);
	assert_int_equal(s.modified, NMSG / 2);
	assert_int_equal(s.passed, NMSG / 2);
	for (unsigned i = 0; i < NMSG; i++) {
		assert_int_equal(has_ts(i), i % 2 == 1);
		assert_true(pb_tcp_csum_ok(payload(i), plen[i]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(syn_to_strip_destination_is_stripped_in_its_receive_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_attributes_are_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(short_u32_attribute_rejects_the_message_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(message_without_packet_header_is_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(message_without_payload_is_counted_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_shorter_than_the_packet_is_never_mangled, setup, teardown),
		cmocka_unit_test_setup_teardown(full_batch_gives_every_packet_one_outcome, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
