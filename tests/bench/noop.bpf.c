/* SPDX-License-Identifier: GPL-2.0-or-later */
/* noop.bpf.c - make bench's floor for the kernel data path: a tc program
 * of shift.bpf.c's shape (clsact, direct action, the same context) that
 * does nothing. The bench attaches it before the shift programs on the
 * same hooks (a lower tc priority), so that both run on the same packets
 * and kernel.bpf_stats_enabled times both; the difference is what the
 * shift costs beyond the hook and the timing itself. It returns
 * TC_ACT_UNSPEC, which passes the packet on to the next filter (the shift
 * program) instead of ending classification as TC_ACT_OK would. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int noop_ingress(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int noop_egress(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
