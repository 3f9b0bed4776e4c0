/* SPDX-License-Identifier: GPL-2.0-or-later */
/* shift.bpf.c - the rewrite mode's data path in the kernel (tc, clsact,
 * direct action) on the gateway's client-facing interfaces: on ingress a
 * client's TSval += the flow's offset, never past the flow's real-time
 * bound; on egress the server's TSecr -= the offset (0 stays 0). The daemon
 * decides every SYN and fills the flows map; this program only applies.
 *
 * Client SYNs (SYN without ACK) are never touched on ingress: the daemon
 * decides each one through NFQUEUE, retransmissions included. Every other
 * packet of a flow in the map is the kernel's: ingress sets mark_bit in
 * its skb mark, which the firewall rules (tsnatd --print-rules) use to keep
 * the flow's packets out of the queue. FINs (a RST counts as both), the
 * server's answer and the last packet's time are kept for the daemon's
 * sweep (offload.c).
 *
 * Every packet gets TC_ACT_OK: anything not understood passes untouched
 * (and is counted). */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "shift.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct shift_key);
	__type(value, struct shift_flow);
} shift_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} shift_marks SEC(".maps");

/* Set by the daemon before loading: the skb mark bit of shifted packets
 * (0: none). */
const volatile __u32 mark_bit = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHIFT_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} shift_counters SEC(".maps");

static __always_inline void
count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&shift_counters, &which);

	if (c)
		*c += 1;
}

/* Where the packet's TCP header is, and its addresses, for both families;
 * 0 when it is not a TCP packet this program handles (fragments, IPv6
 * extension headers: the daemon sees those through NFQUEUE). */
static __always_inline int
locate(struct __sk_buff *skb, struct shift_key *k, bool ingress, __u32 *tcp_off)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP || ip->ihl < 5 ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return 0;
		k->family = 4;
		__builtin_memcpy(ingress ? k->client : k->server, &ip->saddr, 4);
		__builtin_memcpy(ingress ? k->server : k->client, &ip->daddr, 4);
		*tcp_off = sizeof(*eth) + ip->ihl * 4;
		return 1;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return 0;
		k->family = 6;
		__builtin_memcpy(ingress ? k->client : k->server, &ip6->saddr, 16);
		__builtin_memcpy(ingress ? k->server : k->client, &ip6->daddr, 16);
		*tcp_off = sizeof(*eth) + sizeof(*ip6);
		return 1;
	}
	return 0;
}

/* The offset of the last timestamp option of length 10 in the TCP header
 * at tcp_off (the one Linux uses), walked as tcp_parse_options() does: an
 * option whose length contradicts itself ends the walk, and a timestamp
 * before it still counts (the server takes it). 0 if none. */
static __always_inline __u32
find_ts(struct __sk_buff *skb, __u32 tcp_off, __u32 hlen)
{
	__u8 opt[64];
	__u64 i = 0, at = 0;
	__u32 olen;

	if (hlen <= 20 || hlen > 60)
		return 0;
	olen = hlen - 20;
	if (olen > 40 || bpf_skb_load_bytes(skb, tcp_off + 20, opt, olen) < 0)
		return 0;
#pragma unroll
	for (int n = 0; n < 40; n++) {
		__u8 kind, len;

		if (i >= olen)
			break;
		/* u64 index and a barrier: clang keeps the mask the verifier
		 * needs for a variable stack offset */
		asm volatile("" : "+r"(i));
		kind = opt[i & 63];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= olen)
			return (__u32)at;
		len = opt[(i + 1) & 63];
		if (len < 2 || i + len > olen)
			return (__u32)at;
		if (kind == 8 && len == 10)
			at = tcp_off + 20 + i;
		i += len;
	}
	return (__u32)at;
}

/* This CPU's highest TSval' (serial order): the daemon reads it before
 * it picks a SYN's TSval'. */
static __always_inline void
note_mark(__u32 v, __u64 now_ns)
{
	__u32 zero = 0;
	__u64 *m = bpf_map_lookup_elem(&shift_marks, &zero);
	__u64 sec = now_ns / 1000000000;

	/* a mark older than SHIFT_MARK_AGE is replaced, whatever its value */
	if (m && (!(*m & SHIFT_MARK_VALID) || (__s32)(v - (__u32)*m) > 0 ||
		  ((sec - (*m >> 32)) & 0x7fffffff) > SHIFT_MARK_AGE / 2))
		*m = SHIFT_MARK_VALID | (sec & 0x7fffffff) << 32 | v;
}

/* FIN and RST end flows; the server's first packet makes it answered.
 * After a RST the entry stays until the sweep, as after both FINs:
 * segments sent before it may still be on their way through another CPU,
 * and a raw one could reach the server before it. A new SYN on the tuple
 * replaces it. */
static __always_inline void
note_flags(struct shift_flow *f, const struct tcphdr *th, bool ingress)
{
	__u32 add = ingress ? 0 : SHIFT_ANSWERED;

	if (th->fin)
		add |= ingress ? SHIFT_FIN_CLIENT : SHIFT_FIN_SERVER;
	if (th->rst)
		add |= SHIFT_CLOSING;
	if ((f->flags & add) != add)
		f->flags |= add;
}

/* The client's TSval + offset, never past the flow's bound: its SYN's
 * TSval' plus the time since at 1 + 1/1024 ticks per ms (as the daemon's
 * flow_bound(); a flow 2^30 ms old restarts its bound where it stands). */
static __always_inline __u32
ingress_value(struct shift_flow *f, __u32 raw, __u64 now_ns)
{
	__u32 v = raw + f->offset, now_ms = (__u32)(now_ns / 1000000);
	__s32 e = (__s32)(now_ms - f->syn_ms);
	__u32 bound;

	if (e < 0)
		e = 0;
	bound = f->syn_val + (__u32)e + ((__u32)e >> 10);
	if ((__u32)e >= 1u << 30) {
		f->syn_val = bound;
		f->syn_ms = now_ms;
	}
	if ((__s32)(v - bound) > 0) {
		if (v - bound > f->syn_wait + SHIFT_CLAMP_GRACE)
			count(SHIFT_CLAMPED);
		v = bound;
	}
	/* In the client's own order a function of the client's TSval alone,
	 * never of the time a CPU shifted it: a newer TSval gets at least
	 * what the last one got and gains at most what the client's clock
	 * gained since (a same TSval gets the same value); an older one gets
	 * at most the last value. A flow's packets may be shifted on two CPUs
	 * and reach the server in another order than here (per-CPU backlogs
	 * after this hook): a clamped value that followed the time of the
	 * shift would turn a reordering the client's own stream shrugs off
	 * (a step back of 1) into one the server's PAWS drops. */
	if ((__s32)(raw - f->last_raw) >= 0) {
		__u32 cap = f->last_val + (raw - f->last_raw);

		if ((__s32)(v - f->last_val) < 0)
			v = f->last_val;
		else if ((__s32)(v - cap) > 0)
			v = cap;
		f->last_raw = raw;
		f->last_val = v;
	} else if ((__s32)(v - f->last_val) > 0) {
		v = f->last_val;
	}
	note_mark(v, now_ns);
	return v;
}

static __always_inline int
shift(struct __sk_buff *skb, bool ingress)
{
	struct shift_key k = {};
	struct shift_flow *f;
	struct tcphdr th;
	__u32 tcp_off = 0, at, field, old, new, offset;
	__u64 now_ns;

	if (!locate(skb, &k, ingress, &tcp_off) ||
	    bpf_skb_load_bytes(skb, tcp_off, &th, sizeof(th)) < 0) {
		count(SHIFT_NOT_OURS);
		return TC_ACT_OK;
	}
	if (ingress && th.syn && !th.ack)
		return TC_ACT_OK;	/* a client SYN: the daemon's */
	k.client_port = ingress ? th.source : th.dest;
	k.server_port = ingress ? th.dest : th.source;
	f = bpf_map_lookup_elem(&shift_flows, &k);
	if (!f)
		return TC_ACT_OK;	/* not a rewritten flow: the common case */
	if (ingress && mark_bit)
		skb->mark |= mark_bit;
	/* one clock read a packet: the bound, the mark's age, last_ns */
	f->last_ns = now_ns = bpf_ktime_get_ns();
	note_flags(f, &th, ingress);
	at = find_ts(skb, tcp_off, th.doff * 4);
	field = at + (ingress ? 2 : 6);
	if (!at) {
		count(SHIFT_NO_TS);
		new = old = 0;
	} else if (bpf_skb_load_bytes(skb, field, &old, 4) < 0) {
		count(SHIFT_ERRORS);
		new = old = 0;
	} else if (ingress) {
		new = bpf_htonl(ingress_value(f, bpf_ntohl(old), now_ns));
		count(SHIFT_INGRESS);
	} else {
		offset = f->offset;
		/* "no echo" stays 0 */
		new = old ? bpf_htonl(bpf_ntohl(old) - offset) : 0;
		count(SHIFT_EGRESS);
	}
	if (th.rst)
		count(SHIFT_RESETS);	/* the entry closed (note_flags) */
	if (new == old)
		return TC_ACT_OK;
	/* the checksum first (it reads the old value from its argument);
	 * SHIFT_NO_CSUM builds the negative control of the tests only */
	if (
#ifndef SHIFT_NO_CSUM
	    bpf_l4_csum_replace(skb, tcp_off + 16, old, new, sizeof(new)) < 0 ||
#endif
	    bpf_skb_store_bytes(skb, field, &new, sizeof(new), 0) < 0)
		count(SHIFT_ERRORS);
	return TC_ACT_OK;
}

SEC("tc")
int shift_ingress(struct __sk_buff *skb)
{
	return shift(skb, true);
}

SEC("tc")
int shift_egress(struct __sk_buff *skb)
{
	return shift(skb, false);
}

char LICENSE[] SEC("license") = "GPL";
