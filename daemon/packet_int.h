/* SPDX-License-Identifier: GPL-2.0-or-later */
/* packet_int.h - what only the packet path and its tests see of the parser:
 * the two parsers that pkt_parse() combines, and the option walk. */
#ifndef TSNATD_PACKET_INT_H
#define TSNATD_PACKET_INT_H

#include "packet.h"

/* The common case: IPv4 without options or fragments, the whole segment
 * present, TCP options in one of the two layouts Linux sends. Every check
 * of the general parser is made, in the order that decides the result;
 * false means "not this case" and leaves *p undefined. */
bool pkt_parse_fast4(const uint8_t *buf, size_t len, struct pkt *p);

/* The full parser, for everything (the fast parser is held to it by a
 * differential test). */
enum pkt_status pkt_parse_general(const uint8_t *buf, size_t len, struct pkt *p);

/* Call fn(tcp, off, arg) for every timestamp option of length 10 in the TCP
 * header tcp[0..hlen), off being the offset of its kind byte. The header must
 * have been accepted by pkt_parse(). Returns the number of calls. */
unsigned pkt_foreach_ts(uint8_t *tcp, size_t hlen,
			void (*fn)(uint8_t *tcp, size_t off, void *arg),
			void *arg);

#endif
