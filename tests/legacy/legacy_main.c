/* legacy_main.c - tsnatd-legacy: run in a server's network namespace, take
 * its TCP traffic through NFQUEUE (INPUT and OUTPUT) and drop what a legacy
 * tcp_tw_recycle server would drop. A test oracle, not a product: one
 * packet per recv and per verdict, like libnetfilter_queue's nf-queue.c.
 * IPv4 and IPv6 alike (the queue is bound for every family, so iptables and
 * ip6tables rules may both feed it; the model keys its peers by family).
 *
 *   tsnatd-legacy --variant 310|4x [--queue N]
 * SIGUSR1 prints the counters, SIGTERM/SIGINT prints them and exits:
 *   legacy variant=4x syn=N PAWSPassive=N PAWSEstab=N recorded=N */
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
	while ((ch = getopt_long(argc, argv, "v:q:", opts, NULL)) != -1) {
		if (ch == 'v' && legacy_variant_parse(optarg, &variant) == 0)
			variant_name = optarg;
		else if (ch == 'q')
			queue = (unsigned)atoi(optarg);
		else {
			fprintf(stderr, "usage: tsnatd-legacy --variant 310|4x [--queue N]\n");
			return 1;
		}
	}
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
