/* packet.h - IPv4/IPv6/TCP parsing. Pure: no syscalls, no globals, never reads
 * past the buffer it is given. */
#ifndef TSNATD_PACKET_H
#define TSNATD_PACKET_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_TIMESTAMP 8
#define TCPOLEN_TIMESTAMP 10

enum pkt_status {
	PKT_OK = 0,
	PKT_NOT_OURS,	/* not IPv4/IPv6 TCP, or a fragment: pass untouched */
	PKT_TRUNCATED,	/* the headers we need end past the buffer */
	PKT_MALFORMED,	/* lengths or TCP options that contradict themselves */
};

struct pkt {
	uint8_t family;		/* 4 or 6 */
	uint8_t addr_len;	/* 4 or 16 */
	uint8_t tcp_flags;
	uint8_t ts_count;	/* timestamp options of length 10 */
	uint16_t l4_off;	/* offset of the TCP header in the buffer */
	uint16_t tcp_hlen;	/* TCP header length, options included */
	uint16_t tcp_len;	/* TCP header + payload, per the IP header */
	uint16_t ts_off;	/* last timestamp option (the one Linux uses),
				 * offset of its kind byte from the TCP header;
				 * 0 when ts_count == 0 */
	bool complete;		/* the whole segment is in the buffer */
	uint16_t sport, dport;
	uint32_t tsval, tsecr;	/* of the option at ts_off, host order */
	const uint8_t *saddr;	/* into the parsed buffer: addr_len bytes */
	const uint8_t *daddr;
};

/* pkt_parse() without its fast path for the common IPv4 case: the tests
 * check that both give the same answer. */
enum pkt_status pkt_parse_general(const uint8_t *buf, size_t len, struct pkt *p);

/* Call fn(tcp, off, arg) for every timestamp option of length 10 in the TCP
 * header tcp[0..hlen), off being the offset of its kind byte. The header must
 * have been accepted by pkt_parse(). Returns the number of calls. */
unsigned pkt_foreach_ts(uint8_t *tcp, size_t hlen,
			void (*fn)(uint8_t *tcp, size_t off, void *arg),
			void *arg);

/* Big-endian fields at any alignment: one load or store and a byte swap. */
static inline uint32_t
pkt_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline void
pkt_put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t
pkt_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

/* A 32-bit word as it lies in memory (network order), for compares
 * against constants converted at compile time. */
static inline uint32_t
pkt_raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The two layouts Linux itself sends, recognised whole, a 32-bit word at a
 * time: every option byte that decides the walk is checked, so the result
 * is what the full walk would give. tcp[0..hlen) must be readable. */
static inline bool
pkt_linux_layout(const uint8_t *tcp, size_t hlen, struct pkt *p)
{
	size_t at;

	if (hlen == 32 && pkt_raw32(tcp + 20) == htobe32(0x0101080a))
		at = 22;	/* NOP NOP TS: every segment after the SYNs */
	else if (hlen == 40 && pkt_raw32(tcp + 24) == htobe32(0x0402080a) &&
		 (pkt_raw32(tcp + 20) & htobe32(0xffff0000)) == htobe32(0x02040000) &&
		 (pkt_raw32(tcp + 36) & htobe32(0xffffff00)) == htobe32(0x01030300))
		at = 26;	/* MSS SACK_PERM TS NOP WS: SYN and SYN-ACK */
	else
		return false;
	p->ts_count = 1;
	p->ts_off = (uint16_t)at;
	p->tsval = pkt_get32(tcp + at + 2);
	p->tsecr = pkt_get32(tcp + at + 6);
	return true;
}

/* The common case in one pass, inline in the caller: IPv4 without options
 * or fragments, the whole segment present, TCP options in a Linux layout.
 * Every check of the general path is made, in the order that decides the
 * result; false means "not this case", and the general path decides. */
static inline bool
pkt_parse_fast4(const uint8_t *buf, size_t len, struct pkt *p)
{
	const uint8_t *tcp = buf + 20;
	size_t tot, hlen;

	/* bytes 6-9: MF and fragment offset zero, protocol TCP (6) */
	if (len < 40 || buf[0] != 0x45 ||
	    (pkt_raw32(buf + 6) & htobe32(0x3fff00ff)) != htobe32(6))
		return false;
	tot = pkt_get16(buf + 2);
	hlen = (size_t)(tcp[12] & 0xf0) >> 2;	/* data offset x 4 */
	/* (a Linux layout has hlen 32 or 40: no check for hlen < 20) */
	if (tot > len || tot < 20 + hlen || !pkt_linux_layout(tcp, hlen, p))
		return false;
	p->family = 4;
	p->addr_len = 4;
	p->saddr = buf + 12;
	p->daddr = buf + 16;
	p->l4_off = 20;
	p->tcp_hlen = (uint16_t)hlen;
	p->tcp_len = (uint16_t)(tot - 20);
	p->tcp_flags = tcp[13];
	p->sport = pkt_get16(tcp);
	p->dport = pkt_get16(tcp + 2);
	p->complete = true;
	return true;
}

/* Parse the IP packet buf[0..len) (as NFQUEUE delivers it: no link header).
 * Fills *p on PKT_OK only. IPv4 options and IPv6 hop-by-hop, routing and
 * destination-options headers are skipped; any fragment is PKT_NOT_OURS.
 * TCP options are walked exactly like Linux tcp_parse_options(): EOL ends the
 * walk, a length below 2 or past the header end makes the packet
 * PKT_MALFORMED, a timestamp counts only with length 10, the last one wins. */
static inline enum pkt_status
pkt_parse(const uint8_t *buf, size_t len, struct pkt *p)
{
	if (pkt_parse_fast4(buf, len, p))
		return PKT_OK;
	return pkt_parse_general(buf, len, p);
}

#endif
