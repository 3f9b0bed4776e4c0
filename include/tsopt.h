/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tsopt.h - the TCP timestamp option: strip and rewrite in place, with the
 * checksum left final. Pure functions over a buffer accepted by pkt_parse(). */
#ifndef TSNATD_TSOPT_H
#define TSNATD_TSOPT_H

#include <stdint.h>

#include "csum.h"
#include "packet.h"

/* Overwrite every timestamp option of length 10 with NOPs (kind 1), keeping
 * the header length, and bring the checksum up to date as mode says.
 * Returns the number of options stripped (0: none, buffer untouched), or -1
 * without touching anything when mode is CSUM_FULL and the segment is not
 * complete in the buffer. */
int tsopt_strip(uint8_t *buf, const struct pkt *p, enum csum_mode mode);

/* TSval += val_add and, when TSecr != 0, TSecr -= ecr_sub (0 means "no
 * echo" and stays 0), in every timestamp option of length 10; checksum as
 * tsopt_strip(). Same returns. */
int tsopt_shift(uint8_t *buf, const struct pkt *p, uint32_t val_add,
		uint32_t ecr_sub, enum csum_mode mode);

#endif
