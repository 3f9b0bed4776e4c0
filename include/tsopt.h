/* tsopt.h - the TCP timestamp option: strip and rewrite in place, with the
 * checksum left final. Pure functions over a buffer accepted by pkt_parse(). */
#ifndef TSNATD_TSOPT_H
#define TSNATD_TSOPT_H

#include <stdint.h>

#include "packet.h"

/* How the TCP checksum of a packet must be brought up to date. */
enum csum_mode {
	CSUM_INCREMENTAL,	/* field is final: RFC 1624 update */
	CSUM_FULL,		/* field holds only the pseudo-header sum
				 * (NFQA_SKB_CSUMNOTREADY): compute it all */
	CSUM_NONE,		/* GSO super-packet: segmentation rewrites it */
};

/* The checksum mode for NFQA_SKB_INFO flags (host order). */
enum csum_mode tsopt_csum_mode(uint32_t skb_info);

/* Overwrite every timestamp option of length 10 with NOPs (kind 1), keeping
 * the header length, and fix the checksum. Returns the number of options
 * stripped, or -1 without touching anything when mode is CSUM_FULL and the
 * segment is not complete in the buffer. */
int tsopt_strip(uint8_t *buf, const struct pkt *p, enum csum_mode mode);

/* TSval += val_add and, when TSecr != 0, TSecr -= ecr_sub, in every
 * timestamp option of length 10; fix the checksum. Returns the number of
 * options changed, or -1 as tsopt_strip(). */
int tsopt_shift(uint8_t *buf, const struct pkt *p, uint32_t val_add,
		uint32_t ecr_sub, enum csum_mode mode);

#endif
