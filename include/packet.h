/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet.h - IPv4/IPv6/TCP parsing. Pure: no syscalls, no globals, never
 * reads past the buffer it is given. */
#ifndef TSNATD_PACKET_H
#define TSNATD_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_TIMESTAMP 8
#define TCPOLEN_TIMESTAMP 10

#define TCP_CHECK_OFF 16	/* the checksum field in the TCP header */

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
	uint32_t tsval, tsecr;	/* of the option at ts_off, host order */
	const uint8_t *saddr;	/* into the parsed buffer: addr_len bytes */
	const uint8_t *daddr;
	const uint8_t *tcp;	/* the TCP header in the parsed buffer */
};

/* Parse the IP packet buf[0..len) (as NFQUEUE delivers it: no link header).
 * Fills *p on PKT_OK only. IPv4 options and IPv6 hop-by-hop, routing and
 * destination-options headers are skipped; any fragment is PKT_NOT_OURS.
 * TCP options are walked exactly like Linux tcp_parse_options(): EOL ends the
 * walk, a length below 2 or past the header end makes the packet
 * PKT_MALFORMED, a timestamp counts only with length 10, the last one wins. */
enum pkt_status pkt_parse(const uint8_t *buf, size_t len, struct pkt *p);

/* A client's opening SYN: SYN set, ACK clear. */
bool pkt_is_client_syn(const struct pkt *p);

/* The ports, host order (read from the header when asked: only flows need
 * them). */
uint16_t pkt_sport(const struct pkt *p);
uint16_t pkt_dport(const struct pkt *p);

#endif
