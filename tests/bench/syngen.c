/* SPDX-License-Identifier: GPL-2.0-or-later */
/* syngen.c - offer SYNs as fast as one core can: a raw socket, sendmmsg,
 * prebuilt SYNs (MSS, SACK-permitted, timestamp, window scale) from several
 * source addresses and many ports, for a bounded number of seconds.
 *
 *   syngen DST_ADDR SRC_BASE NSRC SECONDS [fresh]
 * e.g. syngen 198.51.100.10 192.0.2.2 8 3 -> prints "sent=N seconds=S"
 * fresh: every SYN a new connection, built as it is sent, from a random
 * start: the server port moves fastest (10000..59999: the gateway's SNAT
 * never runs short of ports for one server port), then the source, then
 * its port; else NPKT SYNs to port 80 over and over. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define NPKT 8192	/* distinct SYNs, sent round robin */
#define BATCH 64
#define PKT_LEN 60	/* 20 IP + 40 TCP */

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return s;
}

static void
build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t tsval)
{
	uint8_t *t = p + 20;
	uint16_t ck;
	uint32_t s;

	memset(p, 0, PKT_LEN);
	p[0] = 0x45;
	p[2] = 0, p[3] = PKT_LEN;
	p[6] = 0x40;		/* DF */
	p[8] = 64;
	p[9] = 6;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	ck = (uint16_t)~fold(sum16(p, 20, 0));
	p[10] = (uint8_t)(ck >> 8), p[11] = (uint8_t)ck;
	t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
	t[4] = 0x11, t[5] = 0x22, t[6] = (uint8_t)(sport >> 8), t[7] = (uint8_t)sport;
	t[12] = 10 << 4;	/* 40-byte header */
	t[13] = 0x02;		/* SYN */
	t[14] = 0xfa, t[15] = 0xf0;
	/* MSS 1460, SACK-permitted, TS, NOP, WS 7: as Linux sends them */
	t[20] = 2, t[21] = 4, t[22] = 0x05, t[23] = 0xb4;
	t[24] = 4, t[25] = 2;
	t[26] = 8, t[27] = 10;
	t[28] = (uint8_t)(tsval >> 24), t[29] = (uint8_t)(tsval >> 16);
	t[30] = (uint8_t)(tsval >> 8), t[31] = (uint8_t)tsval;
	t[36] = 1;
	t[37] = 3, t[38] = 3, t[39] = 7;
	s = sum16(p + 12, 8, 0) + 6 + 40;
	ck = (uint16_t)~fold(sum16(t, 40, s));
	t[16] = (uint8_t)(ck >> 8), t[17] = (uint8_t)ck;
}

int
main(int argc, char **argv)
{
	static uint8_t pkts[NPKT][PKT_LEN];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct timespec t0, t;
	uint32_t dst, base;
	unsigned nsrc, seconds, next = 0;
	unsigned long long k = 0;
	bool fresh;
	unsigned long long sent = 0;
	double el = 0;
	int fd, one = 1;

	if ((argc != 5 && !(argc == 6 && strcmp(argv[5], "fresh") == 0)) ||
	    inet_pton(AF_INET, argv[1], &dst) != 1 || inet_pton(AF_INET, argv[2], &base) != 1) {
		fprintf(stderr, "usage: syngen DST SRC_BASE NSRC SECONDS [fresh]\n");
		return 2;
	}
	fresh = argc == 6;
	nsrc = (unsigned)atoi(argv[3]);
	seconds = (unsigned)atoi(argv[4]);
	if (nsrc < 1 || nsrc > 64 || seconds < 1 || seconds > 60) {
		fprintf(stderr, "syngen: 1..64 sources, 1..60 seconds\n");
		return 2;
	}
	to.sin_addr.s_addr = dst;
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		perror("syngen: raw socket");
		return 1;
	}
	for (unsigned i = 0; i < NPKT; i++) {
		uint32_t src = htonl(ntohl(base) + i % nsrc);

		build(pkts[i], src, dst, (uint16_t)(20000 + i / nsrc), 80, 1000000u + i * 7919u);
	}
	memset(mm, 0, sizeof(mm));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	k = (unsigned long long)t0.tv_nsec * nsrc;	/* a random start */
	do {
		int n;

		/* the batch's slots, with new connections */
		for (unsigned i = 0; fresh && i < BATCH; i++, k++)
			build(pkts[(next + i) % NPKT],
			      htonl(ntohl(base) + (uint32_t)(k / 50000 % nsrc)), dst,
			      (uint16_t)(1024 + k / 50000 / nsrc % 64512),
			      (uint16_t)(10000 + k % 50000), 1000000u + (uint32_t)k * 7919u);
		if (fresh)
			k -= BATCH;
		for (unsigned i = 0; i < BATCH; i++) {
			iov[i].iov_base = pkts[(next + i) % NPKT];
			iov[i].iov_len = PKT_LEN;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &to;
			mm[i].msg_hdr.msg_namelen = sizeof(to);
		}
		n = sendmmsg(fd, mm, BATCH, 0);
		if (n > 0) {
			sent += (unsigned)n;
			next = (next + (unsigned)n) % NPKT;
			k += (unsigned)n;	/* the ones not sent are built again */
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	} while (el < seconds);
	printf("sent=%llu seconds=%.3f\n", sent, el);
	return 0;
}
