/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_observe.c - mode observe (nothing changes; the discovery table
 * learns) and mode auto (the servers found legacy get the action). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "confutil.h"
#include "discovery.h"
#include "mode.h"
#include "packet.h"
#include "pktbuild.h"
#include "process.h"

#define CLIENT "192.0.2.5"
#define LEGACY "198.51.100.10"
#define NOW_MS 1000000u

static struct conf *conf;
static struct domains *doms;
static struct discovery *disc;
static struct proc_notes notes;
static struct proc_state ps;
static struct stats st;
static uint8_t buf[PB_MAX], orig[PB_MAX];
static size_t len;
static uint16_t dom;

static int
setup_mode(const char *mode_text)
{
	char text[512];

	snprintf(text, sizeof(text), "policies = ( { name = \"o\"; %s destinations ="
		 " \"198.51.100.0/24\"; translated_source = \"198.51.100.1\"; } );\n", mode_text);
	conf = conf_from_text(text, NULL);
	doms = domains_new(1);
	disc = discovery_new(64);
	if (!conf || !doms || !disc)
		return -1;
	dom = domains_intern(doms, 4, conf->pol[0].tsrc[0].addr);
	conf->pol[0].domain = dom;
	memset(&notes, 0, sizeof(notes));
	memset(&st, 0, sizeof(st));
	ps = (struct proc_state){ .flows = flow_table_new(256, 3), .domains = doms,
		.discovery = disc, .notes = &notes, .now = 100, .now_ms = NOW_MS, .mono_ms = 5 };
	return ps.flows ? 0 : -1;
}

static int setup_observe(void **state) { (void)state; return setup_mode("mode = \"observe\";"); }
static int setup_auto(void **state) { (void)state; return setup_mode("mode = \"auto\";"); }
static int setup_auto_rw(void **state) { (void)state; return setup_mode("mode = \"auto\"; action = \"rewrite\";"); }

static int
teardown(void **state)
{
	(void)state;
	flow_table_free(ps.flows);
	discovery_free(disc);
	domains_free(doms);
	conf_free(conf);
	return 0;
}

/* One segment: from the client (port cport) or the server's reply, with
 * sequence and acknowledgment numbers and payload bytes. */
static enum proc_result
seg_full(bool reply, uint8_t flags, uint16_t cport, uint32_t tsval, uint32_t tsecr,
	 uint32_t seq, uint32_t ack, size_t payload)
{
	struct pb_opts o = {0};
	struct proc_pkt in;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, tsval, tsecr);
	len = pb_build(buf, &(struct pb_spec){ .opts = &o, .flags = flags,
		.saddr = reply ? LEGACY : CLIENT, .daddr = reply ? CLIENT : LEGACY,
		.sport = reply ? 80 : cport, .dport = reply ? cport : 80,
		.seq = seq, .ack = ack, .payload = payload });
	memcpy(orig, buf, len);
	in = (struct proc_pkt){ .buf = buf, .len = len, .csum = CSUM_INCREMENTAL };
	return process_packet(conf, &ps, &in, &st);
}

static enum proc_result
seg(bool reply, uint8_t flags, uint16_t cport, uint32_t tsval, uint32_t tsecr)
{
	return seg_full(reply, flags, cport, tsval, tsecr, 0, 0, 0);
}

/* SYN and SYN-ACK of a connection from cport at client TSval syn_ts. */
static void
open_conn(uint16_t cport, uint32_t syn_ts)
{
	seg(false, TCPF_SYN, cport, syn_ts, 0);
	seg(true, TCPF_SYN | TCPF_ACK, cport, 7, syn_ts);
}

/* A connection the server closes first: SYN, SYN-ACK, server FIN, client
 * FIN at client TSval last. */
static void
server_closes_first(uint16_t cport, uint32_t syn_ts, uint32_t last)
{
	seg(false, TCPF_SYN, cport, syn_ts, 0);
	seg(true, TCPF_SYN | TCPF_ACK, cport, 7, syn_ts);
	seg(true, TCPF_FIN | TCPF_ACK, cport, 8, last - 1);
	seg(false, TCPF_FIN | TCPF_ACK, cport, last, 8);
}

static struct discovery_server
row(void)
{
	struct discovery_server s[4];

	assert_int_equal(discovery_snapshot(disc, s, 4), 1);
	return s[0];
}

static void
observe_changes_no_byte(void **state)
{
	(void)state;
	assert_int_equal(seg(false, TCPF_SYN, 40000, 5000, 0), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(seg(true, TCPF_SYN | TCPF_ACK, 40000, 7, 5000), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.rewritten + st.stripped, 0);
	assert_int_equal(row().syns, 1);
}

static void
syn_behind_what_the_server_recorded_is_predicted(void **state)
{
	struct discovery_server s;
	(void)state;

	server_closes_first(40000, 5000, 9000);
	seg(false, TCPF_SYN, 40001, 3000, 0);		/* another client clock, behind */
	s = row();
	assert_int_equal(s.syns, 2);
	assert_int_equal(s.predicted_4x, 1);
	assert_int_equal(s.predicted_310, 1);
	seg(false, TCPF_SYN, 40002, 9000, 0);		/* not behind: not predicted */
	assert_int_equal(row().predicted_4x, 1);
}

/* A legacy server records a peer when it enters TIME-WAIT, at the client's
 * answer to its FIN (here the client's FIN), not at its own FIN: a SYN
 * between the two is judged without that record. */
static void
server_closing_first_records_at_the_clients_fin(void **state)
{
	(void)state;
	open_conn(40000, 5000);
	seg_full(true, TCPF_FIN | TCPF_ACK, 40000, 8, 9000, 2000, 1000, 0);
	seg(false, TCPF_SYN, 40001, 3000, 0);
	assert_int_equal(row().predicted_4x, 0);
	seg_full(false, TCPF_FIN | TCPF_ACK, 40000, 9000, 9, 1000, 2001, 0);
	seg(false, TCPF_SYN, 40002, 3000, 0);
	assert_int_equal(row().predicted_4x, 1);
}

/* The server's FIN acknowledges the client's: it closes passively and
 * never enters TIME-WAIT. */
static void
client_closing_first_records_nothing(void **state)
{
	(void)state;
	open_conn(40000, 5000);
	seg_full(false, TCPF_FIN | TCPF_ACK, 40000, 9000, 7, 1000, 2000, 0);
	seg_full(true, TCPF_FIN | TCPF_ACK, 40000, 8, 9000, 2000, 1001, 0);
	seg(false, TCPF_SYN, 40001, 3000, 0);
	assert_int_equal(row().predicted_4x, 0);
}

/* FINs that cross: the gateway sees the client's first, but the server's
 * does not acknowledge it, so the server sent it first and enters
 * TIME-WAIT, remembering the client's FIN's TSval (the higher one). */
static void
fins_crossing_record_as_the_server_closing_first(void **state)
{
	(void)state;
	open_conn(40000, 5000);
	seg_full(false, TCPF_FIN | TCPF_ACK, 40000, 9000, 7, 1000, 2000, 0);
	seg_full(true, TCPF_FIN | TCPF_ACK, 40000, 8, 5000, 2000, 1000, 0);
	seg(false, TCPF_SYN, 40001, 7000, 0);	/* behind 9000, ahead of 5000 */
	assert_int_equal(row().predicted_4x, 1);
}

/* The client's FIN ends after its data: an acknowledgment of the data
 * alone does not cover the FIN. */
static void
client_fin_with_data_is_covered_only_past_its_data(void **state)
{
	(void)state;
	open_conn(40000, 5000);
	seg_full(false, TCPF_FIN | TCPF_ACK, 40000, 9000, 7, 1000, 2000, 100);
	seg_full(true, TCPF_FIN | TCPF_ACK, 40000, 8, 9000, 2000, 1100, 0);
	seg(false, TCPF_SYN, 40001, 3000, 0);
	assert_int_equal(row().predicted_4x, 1);
	open_conn(40002, 10000);
	seg_full(false, TCPF_FIN | TCPF_ACK, 40002, 30000, 7, 1000, 2000, 100);
	seg_full(true, TCPF_FIN | TCPF_ACK, 40002, 8, 30000, 2000, 1101, 0);
	seg(false, TCPF_SYN, 40003, 20000, 0);	/* behind 30000, ahead of 9000 */
	assert_int_equal(row().predicted_4x, 1);
}

/* Sequence numbers wrap: a FIN at 2^32 - 1 is covered by ack 0. */
static void
fin_coverage_wraps_around_the_sequence_space(void **state)
{
	(void)state;
	open_conn(40000, 5000);
	seg_full(false, TCPF_FIN | TCPF_ACK, 40000, 9000, 7, 0xffffffffu, 2000, 0);
	seg_full(true, TCPF_FIN | TCPF_ACK, 40000, 8, 9000, 2000, 0, 0);
	seg(false, TCPF_SYN, 40001, 3000, 0);
	assert_int_equal(row().predicted_4x, 0);
}

/* Three predicted SYNs, each retransmitted unanswered: legacy, noted. */
static void
unanswered_retransmissions_confirm_a_legacy_server(void **state)
{
	(void)state;
	server_closes_first(40000, 5000, 9000);
	for (uint16_t port = 50000; port < 50003; port++) {
		seg(false, TCPF_SYN, port, 3000, 0);
		seg(false, TCPF_SYN, port, 4000, 0);	/* 1 s later: retransmitted */
	}
	assert_int_equal(row().confirmed, 3);
	assert_int_equal(row().verdict, DISCOVERY_LEGACY);
	assert_int_equal(discovery_verdict(disc, dom, 4, buf + 16), DISCOVERY_LEGACY);
	assert_int_equal(notes.ring[atomic_load(&notes.head) - 1].kind, NOTE_VERDICT);
	assert_int_equal(notes.ring[atomic_load(&notes.head) - 1].value, DISCOVERY_LEGACY);
}

static void
answered_predictions_make_a_server_not_legacy(void **state)
{
	(void)state;
	server_closes_first(40000, 5000, 9000);
	for (uint16_t port = 50000; port < 50003; port++) {
		seg(false, TCPF_SYN, port, 3000, 0);
		seg(true, TCPF_SYN | TCPF_ACK, port, 9, 3000);
	}
	assert_int_equal(row().contrary, 3);
	assert_int_equal(row().verdict, DISCOVERY_NOT_LEGACY);
}

static void
make_legacy(void)
{
	server_closes_first(40000, 5000, 9000);
	for (uint16_t port = 50000; port < 50003; port++) {
		seg(false, TCPF_SYN, port, 3000, 0);
		seg(false, TCPF_SYN, port, 4000, 0);
	}
}

static void
auto_observes_until_legacy_then_strips(void **state)
{
	(void)state;
	assert_int_equal(seg(false, TCPF_SYN, 40000, 5000, 0), PROC_PASS);
	make_legacy();
	assert_int_equal(seg(false, TCPF_SYN, 60000, 12345, 0), PROC_MODIFIED);
	assert_int_equal(st.stripped, 1);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
auto_with_rewrite_rewrites_legacy_servers(void **state)
{
	struct pkt p;
	struct flow *f;
	bool fc;
	(void)state;

	make_legacy();
	assert_int_equal(seg(false, TCPF_SYN, 60000, 12345, 0), PROC_MODIFIED);
	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	assert_int_equal(p.tsval, NOW_MS);
	f = flow_lookup(ps.flows, &p, &fc);
	assert_non_null(f);
	assert_false(f->flags & FLOW_OBSERVE);
	assert_int_equal(seg(true, TCPF_SYN | TCPF_ACK, 60000, 9, NOW_MS), PROC_MODIFIED);
	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	assert_int_equal(p.tsecr, 12345);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(observe_changes_no_byte, setup_observe, teardown),
		cmocka_unit_test_setup_teardown(syn_behind_what_the_server_recorded_is_predicted,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(server_closing_first_records_at_the_clients_fin,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(client_closing_first_records_nothing,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(fins_crossing_record_as_the_server_closing_first,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(client_fin_with_data_is_covered_only_past_its_data,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(fin_coverage_wraps_around_the_sequence_space,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(unanswered_retransmissions_confirm_a_legacy_server,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(answered_predictions_make_a_server_not_legacy,
						setup_observe, teardown),
		cmocka_unit_test_setup_teardown(auto_observes_until_legacy_then_strips,
						setup_auto, teardown),
		cmocka_unit_test_setup_teardown(auto_with_rewrite_rewrites_legacy_servers,
						setup_auto_rw, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
