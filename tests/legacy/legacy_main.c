/* SPDX-License-Identifier: GPL-2.0-or-later */
/* legacy_main.c - tsnatd-legacy: run in a server's network namespace, take
 * its TCP traffic through NFQUEUE (INPUT and OUTPUT) and drop what a legacy
 * tcp_tw_recycle server would drop. A test oracle, not a product: one
 * packet per recv and per verdict, like libnetfilter_queue's nf-queue.c.
 * IPv4 and IPv6 alike (the queue is bound for every family, so iptables and
 * ip6tables rules may both feed it; the model keys its peers by family).
 *
 *   tsnatd-legacy --variant 310|4x [--queue N]
 * SIGUSR1 prints the counters, SIGTERM/SIGINT prints them and exits:
 *   legacy variant=4x syn=N PAWSPassive=N PAWSEstab=N recorded=N
 * --help says the same to a user, doc/tsnatd-legacy.8 at length; both are
 * decided before any socket (tests/legacy/cli.sh, without root). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bytes.h"
#include "legacy_model.h"
#include "packet.h"

static volatile sig_atomic_t got_usr1, got_term;
static struct legacy *model;
static const char *variant_name;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void
print_counts(void)
{
	const struct legacy_counts *c = legacy_counts(model);

	printf("legacy variant=%s syn=%llu PAWSPassive=%llu PAWSEstab=%llu recorded=%llu\n",
	       variant_name, (unsigned long long)c->syns,
	       (unsigned long long)c->paws_passive, (unsigned long long)c->paws_estab,
	       (unsigned long long)c->recorded);
	fflush(stdout);
}

static const char usage_line[] = "usage: tsnatd-legacy [--variant 310|4x] [--queue N]";

static void
usage_help(void)
{
	printf("%s\n\n"
"Emulates a legacy Linux server (kernel < 4.12) running net.ipv4.tcp_tw_recycle=1\n"
"on a modern one, so that the failure tsnatd fixes can be reproduced in a lab:\n"
"after the server closes a connection first, it remembers the peer's last TCP\n"
"timestamp for 60 s and silently drops a new SYN from that peer whose timestamp\n"
"is older (PAWSPassive). Behind a NAT, clients share the peer address and a\n"
"share of their connects time out. It also applies per-connection PAWS\n"
"(PAWSEstab). IPv4 and IPv6. A test tool: one packet per system call.\n"
"\n"
"Options:\n"
"  --variant 310  vanilla 3.10: the peer cache is keyed by the peer address;\n"
"                 a SYN without timestamp is never checked\n"
"  --variant 4x   4.0-4.11 and RHEL/CentOS 7 (3.10.0-*.el7), the default:\n"
"                 keyed by (server address, peer address); a SYN without\n"
"                 timestamp is dropped while a fresh entry exists\n"
"  --queue N      the NFQUEUE number to bind, 0-65535 (default 7)\n"
"  -h, --help     this text\n"
"\n"
"Run it as root on the server (or in its network namespace) and queue the\n"
"service's TCP traffic to it, both directions: it must see the server's FINs\n"
"to know who closed first. For a web server on port 80:\n"
"  iptables -A INPUT  -p tcp --dport 80 -j NFQUEUE --queue-num 7 --queue-bypass\n"
"  iptables -A OUTPUT -p tcp --sport 80 -j NFQUEUE --queue-num 7 --queue-bypass\n"
"(ip6tables alike for IPv6), or with nftables:\n"
"  nft add table inet legacy\n"
"  nft add chain inet legacy in '{ type filter hook input priority 0; }'\n"
"  nft add chain inet legacy out '{ type filter hook output priority 0; }'\n"
"  nft add rule inet legacy in tcp dport 80 queue num 7 bypass\n"
"  nft add rule inet legacy out tcp sport 80 queue num 7 bypass\n"
"Then connect from two or more clients behind a NAT gateway (the server must\n"
"close first: HTTP/1.0, or a server that closes idle keep-alive connections).\n"
"Remove the rules afterwards (iptables -D ..., nft delete table inet legacy);\n"
"with --queue-bypass / bypass, traffic passes while the emulator is stopped.\n"
"\n"
"It prints \"legacy ready variant=V queue=N\" once bound. SIGUSR1 prints its\n"
"counters, SIGTERM or SIGINT prints them and exits:\n"
"  legacy variant=4x syn=N PAWSPassive=N PAWSEstab=N recorded=N\n"
"(recorded: peer timestamps remembered at the server's active closes).\n"
"See tsnatd-legacy(8).\n", usage_line);
}

static int
usage_error(const char *what, const char *arg)
{
	if (what)
		fprintf(stderr, "tsnatd-legacy: %s: %s\n", what, arg);
	fprintf(stderr, "%s (tsnatd-legacy --help)\n", usage_line);
	return 1;
}

/* A queue number: all digits, 0..65535. */
static int
queue_parse(const char *s, unsigned *q)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	*q = (unsigned)v;
	return 0;
}

static uint32_t
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec;
}

static int
verdict_for(const uint8_t *buf, size_t len, uint8_t hook)
{
	struct legacy_seg s = { 0 };
	struct pkt p;

	if (pkt_parse(buf, len, &p) != PKT_OK)
		return NF_ACCEPT;
	s.inbound = hook == NF_INET_LOCAL_IN;
	s.family = p.family;
	memcpy(s.local, s.inbound ? p.daddr : p.saddr, p.addr_len);
	memcpy(s.peer, s.inbound ? p.saddr : p.daddr, p.addr_len);
	s.lport = s.inbound ? pkt_dport(&p) : pkt_sport(&p);
	s.pport = s.inbound ? pkt_sport(&p) : pkt_dport(&p);
	s.flags = p.tcp_flags;
	s.has_ts = p.ts_count > 0;
	s.tsval = p.tsval;
	s.tsecr = p.tsecr;
	s.seq = pkt_get32(p.tcp + 4);
	s.ack = pkt_get32(p.tcp + 8);
	s.payload = (uint16_t)(p.tcp_len - p.tcp_hlen);
	return legacy_segment(model, &s, now_sec()) == LEGACY_ACCEPT ? NF_ACCEPT : NF_DROP;
}

static int
on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct mnl_socket *nl = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	char buf[256];
	struct nlmsghdr *v;
	int verdict = NF_ACCEPT;
	struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_PAYLOAD])
		verdict = verdict_for(mnl_attr_get_payload(attr[NFQA_PAYLOAD]),
				      mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]), ph->hook);
	v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, ntohs(nfg->res_id));
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), verdict);
	if (mnl_socket_sendto(nl, v, v->nlmsg_len) < 0)
		perror("tsnatd-legacy: verdict");
	return MNL_CB_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "variant", required_argument, NULL, 'v' },
		{ "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char buf[0xffff + 4096];
	enum legacy_variant variant = LEGACY_V4X;
	unsigned queue = 7;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct timeval tv = { 0, 200000 };
	struct sigaction sa = { .sa_handler = on_signal };
	int ch, one = 1;
	ssize_t ack;

	variant_name = "4x";
	while ((ch = getopt_long(argc, argv, "v:q:h", opts, NULL)) != -1) {
		if (ch == 'h') {
			usage_help();
			return 0;
		} else if (ch == 'v') {
			if (legacy_variant_parse(optarg, &variant) < 0)
				return usage_error("unknown variant (310 or 4x)", optarg);
			variant_name = optarg;
		} else if (ch == 'q') {
			if (queue_parse(optarg, &queue) < 0)
				return usage_error("not a queue number (0-65535)", optarg);
		} else {
			return usage_error(NULL, NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	model = legacy_new(variant);
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!model || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("tsnatd-legacy: netlink");
		return 1;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    (ack = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0 ||
	    mnl_cb_run(buf, (size_t)ack, 0, mnl_socket_get_portid(nl), NULL, NULL) < 0) {
		perror("tsnatd-legacy: bind queue");
		return 1;
	}
	printf("legacy ready variant=%s queue=%u\n", variant_name, queue);
	fflush(stdout);
	while (!got_term) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (got_usr1) {
			got_usr1 = 0;
			print_counts();
		}
		if (n < 0)
			continue;
		mnl_cb_run(buf, (size_t)n, 0, 0, on_packet, nl);
	}
	print_counts();
	mnl_socket_close(nl);
	legacy_free(model);
	return 0;
}
