/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctnl.c - ctnetlink messages: label writes, one entry, the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ctnl.h"

static struct nlmsghdr *
header(void *buf, uint16_t type, uint16_t flags, int family, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)(family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC);
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return nlh;
}

static bool
put_tuple(struct nlmsghdr *nlh, size_t room, const struct ct_tuple *t)
{
	struct nlattr *tuple, *ip, *proto;
	size_t alen = t->family == 4 ? 4 : 16;

	if (!(tuple = mnl_attr_nest_start_check(nlh, room, CTA_TUPLE_ORIG)) ||
	    !(ip = mnl_attr_nest_start_check(nlh, room, CTA_TUPLE_IP)) ||
	    !mnl_attr_put_check(nlh, room, t->family == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC,
				alen, t->src) ||
	    !mnl_attr_put_check(nlh, room, t->family == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST,
				alen, t->dst))
		return false;
	mnl_attr_nest_end(nlh, ip);
	if (!(proto = mnl_attr_nest_start_check(nlh, room, CTA_TUPLE_PROTO)) ||
	    !mnl_attr_put_u8_check(nlh, room, CTA_PROTO_NUM, IPPROTO_TCP) ||
	    !mnl_attr_put_u16_check(nlh, room, CTA_PROTO_SRC_PORT, t->sport) ||
	    !mnl_attr_put_u16_check(nlh, room, CTA_PROTO_DST_PORT, t->dport))
		return false;
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
	return true;
}

struct nlmsghdr *
ctnl_build_labels(void *buf, size_t room, const struct ct_tuple *t,
		  const uint8_t labels[CTLABEL_SIZE], const uint8_t mask[CTLABEL_SIZE], uint32_t seq)
{
	struct nlmsghdr *nlh;

	if (room < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
		return NULL;
	nlh = header(buf, IPCTNL_MSG_CT_NEW, 0, t->family, seq);
	if (!put_tuple(nlh, room, t) ||
	    !mnl_attr_put_check(nlh, room, CTA_LABELS, CTLABEL_SIZE, labels) ||
	    !mnl_attr_put_check(nlh, room, CTA_LABELS_MASK, CTLABEL_SIZE, mask))
		return NULL;
	return nlh;
}

struct nlmsghdr *
ctnl_build_get(void *buf, const struct ct_tuple *t, uint32_t seq)
{
	struct nlmsghdr *nlh = header(buf, IPCTNL_MSG_CT_GET, 0, t->family, seq);

	put_tuple(nlh, CTNL_GET_MSG_MAX, t);
	return nlh;
}

struct nlmsghdr *
ctnl_build_dump(void *buf, uint32_t seq)
{
	return header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, 0, seq);
}

/* Attributes of one nest, by type; unknown ones skipped. */
struct attrs {
	const struct nlattr *a[CTA_MAX + 1];
	int max;
};

static int
collect(const struct nlattr *attr, void *data)
{
	struct attrs *t = data;
	int type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->a[type] = attr;
	return MNL_CB_OK;
}

static int
nest(const struct nlattr *attr, int max, struct attrs *t)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	return mnl_attr_parse_nested(attr, collect, t) < 0 ? -1 : 0;
}

static int
addr(const struct nlattr *a, size_t len, uint8_t *out)
{
	if (!a || mnl_attr_get_payload_len(a) != len)
		return -1;
	memset(out, 0, 16);
	memcpy(out, mnl_attr_get_payload(a), len);
	return 0;
}

/* A tuple nest: family (from the addresses present), addresses, ports. */
static int
tuple(const struct nlattr *nest_attr, struct ct_tuple *t)
{
	struct attrs tu, ip, pr;

	if (!nest_attr || nest(nest_attr, CTA_TUPLE_MAX, &tu) < 0 ||
	    !tu.a[CTA_TUPLE_IP] || !tu.a[CTA_TUPLE_PROTO] ||
	    nest(tu.a[CTA_TUPLE_IP], CTA_IP_MAX, &ip) < 0 ||
	    nest(tu.a[CTA_TUPLE_PROTO], CTA_PROTO_MAX, &pr) < 0)
		return -1;
	if (ip.a[CTA_IP_V4_SRC]) {
		t->family = 4;
		if (addr(ip.a[CTA_IP_V4_SRC], 4, t->src) < 0 || addr(ip.a[CTA_IP_V4_DST], 4, t->dst) < 0)
			return -1;
	} else {
		t->family = 6;
		if (addr(ip.a[CTA_IP_V6_SRC], 16, t->src) < 0 || addr(ip.a[CTA_IP_V6_DST], 16, t->dst) < 0)
			return -1;
	}
	if (!pr.a[CTA_PROTO_NUM] || mnl_attr_validate(pr.a[CTA_PROTO_NUM], MNL_TYPE_U8) < 0 ||
	    mnl_attr_get_u8(pr.a[CTA_PROTO_NUM]) != IPPROTO_TCP ||
	    !pr.a[CTA_PROTO_SRC_PORT] || mnl_attr_validate(pr.a[CTA_PROTO_SRC_PORT], MNL_TYPE_U16) < 0 ||
	    !pr.a[CTA_PROTO_DST_PORT] || mnl_attr_validate(pr.a[CTA_PROTO_DST_PORT], MNL_TYPE_U16) < 0)
		return -1;
	t->sport = mnl_attr_get_u16(pr.a[CTA_PROTO_SRC_PORT]);
	t->dport = mnl_attr_get_u16(pr.a[CTA_PROTO_DST_PORT]);
	return 0;
}

int
ctnl_parse(const struct nlmsghdr *nlh, struct ct_entry *e)
{
	struct attrs top = { .max = CTA_MAX };
	struct ct_tuple reply;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), collect, &top) < 0)
		return -1;
	memset(e, 0, sizeof(*e));
	if (tuple(top.a[CTA_TUPLE_ORIG], &e->orig) < 0 || tuple(top.a[CTA_TUPLE_REPLY], &reply) < 0 ||
	    reply.family != e->orig.family)
		return -1;
	memcpy(e->reply_dst, reply.dst, 16);
	if (top.a[CTA_STATUS] && mnl_attr_validate(top.a[CTA_STATUS], MNL_TYPE_U32) == 0)
		e->status = ntohl(mnl_attr_get_u32(top.a[CTA_STATUS]));
	if (top.a[CTA_LABELS]) {
		size_t n = mnl_attr_get_payload_len(top.a[CTA_LABELS]);

		/* the kernel sends its whole array: 16 bytes today */
		memcpy(e->labels, mnl_attr_get_payload(top.a[CTA_LABELS]),
		       n < CTLABEL_SIZE ? n : CTLABEL_SIZE);
		e->has_labels = n > 0;
	}
	return 0;
}

#define CTNL_BUF 32768

struct ctnl {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint8_t buf[CTNL_BUF] __attribute__((aligned(8)));
};

struct ctnl *
ctnl_open(void)
{
	struct ctnl *c = calloc(1, sizeof(*c));
	struct timeval tv = { 0, CTNL_GET_TIMEOUT_MS * 1000 };
	int e;

	if (!c)
		return NULL;
	if (!(c->nl = mnl_socket_open(NETLINK_NETFILTER)) ||
	    mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(c->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		e = errno;
		ctnl_close(c);
		errno = e;
		return NULL;
	}
	c->portid = mnl_socket_get_portid(c->nl);
	c->seq = 1;
	return c;
}

void
ctnl_close(struct ctnl *c)
{
	if (!c)
		return;
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c);
}

/* The errors waiting on the socket (answers to label writes): how many. */
static int
drain_errors(struct ctnl *c)
{
	int refused = 0;
	ssize_t n;

	while ((n = recv(mnl_socket_get_fd(c->nl), c->buf, sizeof(c->buf), MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)c->buf;
		int len = (int)n;

		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(*err) && err->error)
				refused++;
		}
	}
	return refused;
}

int
ctnl_send_writes(struct ctnl *c, const void *buf, size_t len)
{
	if (mnl_socket_sendto(c->nl, buf, len) < 0) {
		drain_errors(c);
		return -1;
	}
	return drain_errors(c);
}

int
ctnl_get(struct ctnl *c, const struct ct_tuple *t, struct ct_entry *e)
{
	uint32_t seq = ++c->seq;
	struct nlmsghdr *nlh = ctnl_build_get(c->buf, t, seq);
	ssize_t n;

	drain_errors(c);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((n = mnl_socket_recvfrom(c->nl, c->buf, sizeof(c->buf))) > 0) {
		const struct nlmsghdr *m = (const struct nlmsghdr *)c->buf;
		int len = (int)n;

		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != seq)
				continue;	/* a late answer to something else */
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);

				if (m->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*err))
					return -1;
				if (err->error == -ENOENT)
					return 0;
				errno = -err->error;
				return -1;
			}
			return ctnl_parse(m, e) < 0 ? 0 : 1;
		}
	}
	return -1;
}

struct dump_cb {
	void (*fn)(const struct ct_entry *e, void *arg);
	void *arg;
};

static int
dump_one(const struct nlmsghdr *nlh, void *data)
{
	struct dump_cb *d = data;
	struct ct_entry e;

	if (ctnl_parse(nlh, &e) == 0)
		d->fn(&e, d->arg);
	return MNL_CB_OK;
}

int
ctnl_dump(struct ctnl *c, void (*fn)(const struct ct_entry *e, void *arg), void *arg)
{
	uint32_t seq = ++c->seq;
	struct nlmsghdr *nlh = ctnl_build_dump(c->buf, seq);
	struct dump_cb d = { fn, arg };
	struct timeval tv = { 2, 0 }, back = { 0, CTNL_GET_TIMEOUT_MS * 1000 };
	int fd = mnl_socket_get_fd(c->nl), r = MNL_CB_OK;
	ssize_t n;

	drain_errors(c);
	/* a large table takes longer than a get: wait for each part */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0)
		r = MNL_CB_ERROR;
	while (r > MNL_CB_STOP && (n = mnl_socket_recvfrom(c->nl, c->buf, sizeof(c->buf))) > 0)
		r = mnl_cb_run(c->buf, (size_t)n, seq, c->portid, dump_one, &d);
	if (r > MNL_CB_STOP)
		r = MNL_CB_ERROR;	/* the receive failed before the end */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &back, sizeof(back));
	return r == MNL_CB_ERROR ? -1 : 0;
}
