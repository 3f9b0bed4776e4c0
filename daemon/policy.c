/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.c - CIDR matching; the first matching policy wins. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "policy.h"

int
cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	long pfx;

	memset(c, 0, sizeof(*c));
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not an address or CIDR", s);
		return -1;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = 6;
		max = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an address or CIDR", s);
		return -1;
	}
	pfx = max;
	if (slash) {
		char *end;

		pfx = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || pfx < 0 || pfx > (long)max) {
			snprintf(err, errlen, "'%s': prefix length must be 0..%u", s, max);
			return -1;
		}
	}
	c->prefix = (uint8_t)pfx;
	if (c->family == 4) {
		c->mask4 = pfx ? ~0u << (32 - pfx) : 0;
		c->net4 = pkt_get32(c->addr);
	}
	for (unsigned bit = (unsigned)pfx; bit < max; bit++) {
		if (c->addr[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, errlen, "'%s' has host bits set under /%ld", s, pfx);
			return -1;
		}
	}
	return 0;
}

void
cidr_format(const struct cidr *c, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	snprintf(out, outlen, "%s/%u", a, c->prefix);
}

static inline bool
cidr_has(const struct cidr *c, int family, const uint8_t *addr)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (c->family != family)
		return false;
	if (family == 4)	/* one masked 32-bit compare */
		return (pkt_get32(addr) & c->mask4) == c->net4;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00 >> rest);

		return (addr[full] & mask) == c->addr[full];
	}
	return true;
}

bool
cidr_contains(const struct cidr *c, int family, const uint8_t *addr)
{
	return cidr_has(c, family, addr);
}

/* IPv4: one masked compare per CIDR. */
static bool
cidr4_set_contains(const struct cidr *set, size_t n, uint32_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].family == 4 && (addr & set[i].mask4) == set[i].net4)
			return true;
	return false;
}

static inline bool
cidr_set_contains(const struct cidr *set, size_t n, int family,
		  const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_has(&set[i], family, addr))
			return true;
	return false;
}

const struct policy *
policy_match(const struct policy *pol, size_t npol, int family,
		     const uint8_t *saddr, const uint8_t *daddr)
{
	for (size_t i = 0; i < npol; i++) {
		const struct policy *p = &pol[i];

		if (!cidr_set_contains(p->dst, p->ndst, family, daddr))
			continue;
		if (p->nsrc && !cidr_set_contains(p->src, p->nsrc, family, saddr))
			continue;
		return p;
	}
	return NULL;
}

long
policy_dst4_build(const struct policy *pol, size_t npol, struct policy_dst4 **out)
{
	size_t n = 0, k = 0;

	*out = NULL;
	for (size_t i = 0; i < npol; i++)
		for (size_t j = 0; j < pol[i].ndst; j++)
			n += pol[i].dst[j].family == 4;
	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -1;
	for (size_t i = 0; i < npol; i++)
		for (size_t j = 0; j < pol[i].ndst; j++)
			if (pol[i].dst[j].family == 4)
				(*out)[k++] = (struct policy_dst4){ .net = pol[i].dst[j].net4,
					.mask = pol[i].dst[j].mask4, .pol = &pol[i] };
	return (long)n;
}

const struct policy *
policy_match4(const struct policy_dst4 *t, size_t n, const uint8_t *saddr,
	      const uint8_t *daddr)
{
	uint32_t s = pkt_get32(saddr), d = pkt_get32(daddr);

	for (size_t i = 0; i < n; i++) {
		const struct policy *p;

		if ((d & t[i].mask) != t[i].net)
			continue;
		p = t[i].pol;
		if (!p->nsrc || cidr4_set_contains(p->src, p->nsrc, s))
			return p;
	}
	return NULL;
}
