/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_packet.c - libFuzzer: arbitrary bytes through parse, strip and shift,
 * in every checksum mode, under ASan/UBSan. After a change the packet must
 * still parse and, in incremental mode, keep a checksum that a full
 * recomputation agrees with whenever the input's checksum was valid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "packet.h"
#include "tsopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	struct pkt p, after;
	uint16_t before_ok;

	if (size < 1)
		return 0;
	/* first byte selects the operation; the rest is the packet */
	buf = malloc(size - 1 ? size - 1 : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (pkt_parse(buf, size - 1, &p) == PKT_OK) {
		enum csum_mode mode = (enum csum_mode)(data[0] % 3);
		uint8_t *tcp = buf + p.l4_off;
		int n;

		before_ok = p.complete &&
			csum_tcp(p.saddr, p.daddr, p.addr_len, tcp, p.tcp_len) ==
			pkt_get16(tcp + 16);
		if (data[0] & 0x80)
			n = tsopt_strip(buf, &p, mode);
		else
			n = tsopt_shift(buf, &p, 0x9e3779b9u * data[0], 0x7f4a7c15u, mode);
		if (pkt_parse(buf, size - 1, &after) != PKT_OK)
			abort();
		if ((data[0] & 0x80) && n > 0 && after.ts_count != 0)
			abort();
		if (n > 0 && before_ok && mode == CSUM_INCREMENTAL &&
		    csum_tcp(after.saddr, after.daddr, after.addr_len, buf + after.l4_off,
			     after.tcp_len) != pkt_get16(buf + after.l4_off + 16))
			abort();
		if (n > 0 && mode == CSUM_FULL &&
		    csum_tcp(after.saddr, after.daddr, after.addr_len, buf + after.l4_off,
			     after.tcp_len) != pkt_get16(buf + after.l4_off + 16))
			abort();
	}
	free(buf);
	return 0;
}
