/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_ctlsock.c - the control socket on a real Unix socket in a
 * temporary directory (no network): who may talk, a request answered, a
 * long or silent client cut off, a crowd told "busy", the file 0660 and
 * removed on close. The main loop is played by serve(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlsock.h"

static char dir[] = "/tmp/test_ctlsock.XXXXXX", path[128];
static struct ctlsock *cs;

static enum ctlsock_result
echo(void *ctx, const char *line, bool first, struct textbuf *out)
{
	(void)ctx;
	(void)first;
	textbuf_printf(out, "ok\nyou said %s\n", line);
	return CTLSOCK_DONE;
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_ctlsock.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/control", dir);
	cs = ctlsock_open(path, echo, NULL);
	assert_non_null(cs);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctlsock_close(cs);
	assert_int_equal(access(path, F_OK), -1);	/* removed */
	rmdir(dir);
	return 0;
}

/* The main loop for ms milliseconds. */
static void
serve(int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct pollfd pfd[CTLSOCK_NFDS];
		int n = ctlsock_pollfds(cs, pfd);

		poll(pfd, (nfds_t)n, ctlsock_timeout(cs, 10) < 10 ? ctlsock_timeout(cs, 10) : 10);
		ctlsock_run(cs, pfd, n);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static int
client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* What the daemon sent, after serving a while; "" when it closed silently. */
static void
answer(int fd, int ms, char *buf, size_t len)
{
	ssize_t n;

	serve(ms);
	n = recv(fd, buf, len - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
}

static void
root_own_user_and_group_members_may_talk(void **state)
{
	gid_t sup[] = { 100, 998 };

	(void)state;
	assert_true(ctlsock_peer_allowed(0, 0, NULL, 0, 998, 998));
	assert_true(ctlsock_peer_allowed(998, 5, NULL, 0, 998, 998));
	assert_true(ctlsock_peer_allowed(1000, 998, NULL, 0, 998, 998));
	assert_true(ctlsock_peer_allowed(1000, 1000, sup, 2, 998, 998));
	assert_false(ctlsock_peer_allowed(65534, 65534, sup, 1, 998, 998));
}

static void
the_socket_file_is_0660(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
}

static void
a_request_line_is_answered_and_closed(void **state)
{
	char buf[256];
	int fd = client();

	(void)state;
	assert_int_equal(send(fd, "status --json\n", 14, 0), 14);
	answer(fd, 50, buf, sizeof(buf));
	assert_string_equal(buf, "ok\nyou said status --json\n");
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);	/* EOF */
	close(fd);
}

static void
an_overlong_request_gets_an_error(void **state)
{
	char buf[512];
	int fd = client();

	(void)state;
	memset(buf, 'x', 300);
	assert_int_equal(send(fd, buf, 300, 0), 300);
	answer(fd, 50, buf, sizeof(buf));
	assert_non_null(strstr(buf, "error request too long"));
	close(fd);
}

static void
a_silent_client_is_closed_at_its_deadline(void **state)
{
	char buf[64];
	int fd = client();

	(void)state;
	answer(fd, CTLSOCK_REQUEST_MS / 2, buf, sizeof(buf));
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);	/* still open */
	answer(fd, CTLSOCK_REQUEST_MS / 2 + 100, buf, sizeof(buf));
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);		/* closed */
	close(fd);
}

static void
a_crowd_beyond_the_slots_hears_busy(void **state)
{
	int fd[CTLSOCK_CONNS + 3], busy = 0;
	char buf[128];

	(void)state;
	for (int i = 0; i < CTLSOCK_CONNS + 3; i++)
		fd[i] = client();
	serve(50);
	for (int i = 0; i < CTLSOCK_CONNS + 3; i++) {
		ssize_t n = recv(fd[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);

		busy += n > 0 && strncmp(buf, "error busy", 10) == 0;
		close(fd[i]);
	}
	assert_int_equal(busy, 3);
}

/* The framing alone, as each read leaves the buffer. */
static enum ctlsock_frame
frame(const char *bytes, size_t n, char *buf, size_t cap)
{
	memcpy(buf, bytes, n);
	return ctlsock_frame(buf, n, cap);
}

static void
a_line_is_framed_without_its_newline_or_crlf(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(frame("status\n", 7, buf, sizeof(buf)), CTLSOCK_LINE);
	assert_string_equal(buf, "status");
	assert_int_equal(frame("stats\r\nmore", 11, buf, sizeof(buf)), CTLSOCK_LINE);
	assert_string_equal(buf, "stats");
}

static void
a_partial_line_waits_for_more(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(frame("stat", 4, buf, sizeof(buf)), CTLSOCK_MORE);
	assert_int_equal(frame("", 0, buf, sizeof(buf)), CTLSOCK_MORE);
}

static void
a_nul_or_a_full_buffer_without_newline_is_bad(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(frame("sta\0tus", 7, buf, sizeof(buf)), CTLSOCK_BAD);
	assert_int_equal(frame("aaaaaaaaaaaaaaa", 15, buf, sizeof(buf)), CTLSOCK_BAD);
	assert_int_equal(frame("aaaaaaaaaaaaaa\n", 15, buf, sizeof(buf)), CTLSOCK_LINE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(root_own_user_and_group_members_may_talk),
		cmocka_unit_test(a_line_is_framed_without_its_newline_or_crlf),
		cmocka_unit_test(a_partial_line_waits_for_more),
		cmocka_unit_test(a_nul_or_a_full_buffer_without_newline_is_bad),
		cmocka_unit_test_setup_teardown(the_socket_file_is_0660, setup, teardown),
		cmocka_unit_test_setup_teardown(a_request_line_is_answered_and_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(an_overlong_request_gets_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_silent_client_is_closed_at_its_deadline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_crowd_beyond_the_slots_hears_busy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
