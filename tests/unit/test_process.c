/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_process.c - the per-packet decision (parse, policy, strip). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "confutil.h"
#include "engine.h"
#include "nfq.h"
#include "packet.h"
#include "pktbuild.h"
#include "process.h"

static struct conf *conf;
static uint8_t buf[PB_MAX], orig[PB_MAX];
static size_t len;
static struct stats st;
static struct proc_state no_flows;	/* strip only: no flow table */

static int
setup(void **state)
{
	(void)state;
	conf = conf_from_text("policies = (\n"
		" { name = \"exception\"; mode = \"pass\"; destinations = \"198.51.100.99\"; },\n"
		" { name = \"web\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\", \"2001:db8:1::/64\" ];\n"
		"   sources = [ \"192.0.2.0/24\", \"2001:db8::/64\" ]; } );\n", NULL);
	memset(&st, 0, sizeof(st));
	return conf ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	conf_free(conf);
	return 0;
}

static void
syn_with_ts(struct pb_opts *o)
{
	pb_mss(o, 1460);
	pb_sackok(o);
	pb_ts(o, 4242, 0);
	pb_nop(o);
	pb_ws(o, 7);
}

static enum proc_result
run(const struct pb_spec *s, uint32_t skb_info, bool truncated)
{
	struct proc_pkt in;

	len = pb_build(buf, s);
	memcpy(orig, buf, len);
	in = (struct proc_pkt){ .buf = buf, .len = len, .csum = nfqmsg_csum_mode(skb_info),
		.truncated = truncated };
	return process_packet(conf, &no_flows, &in, &st);
}

static bool
has_ts(void)
{
	struct pkt p;

	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	return p.ts_count > 0;
}

static void
matched_syn_is_stripped(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o }, 0, false), PROC_MODIFIED);
	assert_false(has_ts());
	assert_true(pb_tcp_csum_ok(buf, len));
	assert_int_equal(st.stripped, 1);
}

static void
matched_ipv6_syn_is_stripped(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .family = 6, .opts = &o }, 0, false), PROC_MODIFIED);
	assert_false(has_ts());
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
syn_with_partial_checksum_gets_a_final_one(void **state)
{
	struct pb_opts o = {0};
	struct proc_pkt in;
	(void)state;

	syn_with_ts(&o);
	len = pb_build(buf, &(struct pb_spec){ .opts = &o });
	pb_make_partial(buf, len);
	in = (struct proc_pkt){ .buf = buf, .len = len, .csum = CSUM_FULL };
	assert_int_equal(process_packet(conf, &no_flows, &in, &st), PROC_MODIFIED);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
unmatched_destination_passes_untouched(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o, .daddr = "203.0.113.5" }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.unmatched, 1);
}

static void
unlisted_source_passes_untouched(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o, .saddr = "203.0.113.7" }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
pass_policy_before_strip_policy_wins(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o, .daddr = "198.51.100.99" }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
syn_ack_is_not_stripped(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o, .flags = TCPF_SYN | TCPF_ACK }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
data_segment_is_not_stripped(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, 1, 2);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o, .flags = TCPF_ACK | TCPF_PSH, .payload = 100 }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
disabled_config_passes_syns_untouched(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	conf->enabled = false;
	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_true(has_ts());
}

static void
truncated_copy_is_never_mangled(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	syn_with_ts(&o);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o }, 0, true), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.truncated, 1);
}

static void
short_buffer_is_never_mangled(void **state)
{
	struct pb_opts o = {0};
	struct proc_pkt in;
	(void)state;

	syn_with_ts(&o);
	len = pb_build(buf, &(struct pb_spec){ .opts = &o, .payload = 40 });
	memcpy(orig, buf, len);
	in = (struct proc_pkt){ .buf = buf, .len = len - 10 };
	assert_int_equal(process_packet(conf, &no_flows, &in, &st), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.truncated, 1);
}

static void
malformed_options_pass_untouched_and_are_counted(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_ts(&o, 1, 0);
	pb_raw(&o, 30, 0, 2);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.malformed, 1);
}

static void
udp_passes_and_is_counted(void **state)
{
	(void)state;
	assert_int_equal(run(&(struct pb_spec){ .ipproto = 17 }, 0, false), PROC_PASS);
	assert_int_equal(st.not_tcp, 1);
}

static void
headers_cut_short_pass_and_are_counted(void **state)
{
	struct proc_pkt in;
	(void)state;

	len = pb_build(buf, &(struct pb_spec){ 0 });
	in = (struct proc_pkt){ .buf = buf, .len = 30 };
	assert_int_equal(process_packet(conf, &no_flows, &in, &st), PROC_PASS);
	assert_int_equal(st.truncated, 1);
}

static void
syn_without_timestamp_passes_untouched(void **state)
{
	struct pb_opts o = {0};
	(void)state;

	pb_mss(&o, 1460);
	assert_int_equal(run(&(struct pb_spec){ .opts = &o }, 0, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.stripped, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(matched_syn_is_stripped),
		T(matched_ipv6_syn_is_stripped),
		T(syn_with_partial_checksum_gets_a_final_one),
		T(unmatched_destination_passes_untouched),
		T(unlisted_source_passes_untouched),
		T(pass_policy_before_strip_policy_wins),
		T(syn_ack_is_not_stripped),
		T(data_segment_is_not_stripped),
		T(disabled_config_passes_syns_untouched),
		T(truncated_copy_is_never_mangled),
		T(short_buffer_is_never_mangled),
		T(malformed_options_pass_untouched_and_are_counted),
		T(udp_passes_and_is_counted),
		T(headers_cut_short_pass_and_are_counted),
		T(syn_without_timestamp_passes_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
