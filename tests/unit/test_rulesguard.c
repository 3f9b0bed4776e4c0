/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rulesguard.c - --apply-rules refuses to move the rules to other
 * queues than the running daemon listens on (issue 20): the status
 * answer's queues parsed, and the check against a fake daemon, a thread
 * serving one canned answer on a Unix socket in a temporary directory.
 * No root, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "confutil.h"
#include "rulesguard.h"

#define STATUS(first, count) "ok\n{\"version\": \"0.1.0\", \"enabled\": true, " \
	"\"queue_first\": " #first ", \"queue_count\": " #count ", \"policies\": []}\n"

static char dir[64], sock[128];

/* The fake daemon: answers each connection with answer, then closes. */
static struct {
	int fd;
	const char *answer;
	unsigned conns;
	char request[128];
	pthread_t t;
} srv;

static void *
serve(void *arg)
{
	int c;

	(void)arg;
	while ((c = accept(srv.fd, NULL, NULL)) >= 0) {
		ssize_t n = recv(c, srv.request, sizeof(srv.request) - 1, 0);

		srv.request[n > 0 ? n : 0] = '\0';
		srv.conns++;
		send(c, srv.answer, strlen(srv.answer), MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

/* Listen on sock; with answer NULL, bind and close at once (the stale
 * socket file a crashed daemon leaves). */
static void
daemon_at(const char *answer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, sock);
	srv.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (!answer) {
		close(srv.fd);
		srv.fd = -1;
		return;
	}
	assert_int_equal(listen(srv.fd, 4), 0);
	srv.answer = answer;
	assert_int_equal(pthread_create(&srv.t, NULL, serve, NULL), 0);
}

static int
setup(void **state)
{
	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.fd = -1;
	snprintf(dir, sizeof(dir), "/tmp/tsnatd-rulesguard-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/control", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (srv.fd >= 0) {
		shutdown(srv.fd, SHUT_RDWR);
		close(srv.fd);
		pthread_join(srv.t, NULL);
	}
	unlink(sock);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

/* A configuration with queue.count = count and the test's socket. */
static struct conf *
conf_with(unsigned count)
{
	char text[512];
	struct conf *c;

	snprintf(text, sizeof(text), "queue = { first = 0; count = %u; };\n"
		 "control_socket = \"%s\";\npolicies = ( { name = \"p\"; mode = \"strip\"; "
		 "destinations = \"198.51.100.0/24\"; } );\n", count, sock);
	c = conf_from_text(text, NULL);
	assert_non_null(c);
	return c;
}

/* check() with its message kept; returns its result. */
static int
check(const struct conf *c, char **msg)
{
	size_t len = 0;
	FILE *f = open_memstream(msg, &len);
	int rc = rulesguard_check(c, "tsnatd.conf", f);

	fclose(f);
	return rc;
}

static void
parse_takes_the_queues_of_a_status_answer(void **state)
{
	unsigned first = 9, count = 9;

	(void)state;
	assert_int_equal(rulesguard_parse(STATUS(3, 2), &first, &count), 0);
	assert_int_equal(first, 3);
	assert_int_equal(count, 2);
}

static void
parse_refuses_an_error_answer(void **state)
{
	unsigned first, count;

	(void)state;
	assert_int_equal(rulesguard_parse("error busy\n", &first, &count), -1);
}

static void
parse_refuses_an_answer_without_both_numbers(void **state)
{
	unsigned first, count;

	(void)state;
	assert_int_equal(rulesguard_parse("ok\n{\"queue_first\": 0}\n", &first, &count), -1);
	assert_int_equal(rulesguard_parse("ok\n{\"queue_first\": 0, \"queue_count\": x}\n",
					  &first, &count), -1);
	assert_int_equal(rulesguard_parse("ok\n{\"queue_first\": 0, \"queue_count\": 0}\n",
					  &first, &count), -1);
}

static void
no_socket_file_means_no_daemon_and_apply_goes_ahead(void **state)
{
	struct conf *c = conf_with(2);
	char *msg = NULL;

	(void)state;
	assert_int_equal(check(c, &msg), 0);
	assert_string_equal(msg, "");
	free(msg);
	conf_free(c);
}

static void
stale_socket_file_means_no_daemon_and_apply_goes_ahead(void **state)
{
	struct conf *c = conf_with(2);
	char *msg = NULL;

	(void)state;
	daemon_at(NULL);
	assert_int_equal(check(c, &msg), 0);
	free(msg);
	conf_free(c);
}

static void
daemon_on_the_same_queues_lets_apply_go_ahead(void **state)
{
	struct conf *c = conf_with(2);
	char *msg = NULL;

	(void)state;
	daemon_at(STATUS(0, 2));
	assert_int_equal(check(c, &msg), 0);
	assert_int_equal(srv.conns, 1);
	assert_string_equal(srv.request, "status --json\n");
	free(msg);
	conf_free(c);
}

static void
daemon_on_other_queues_refuses_apply_with_restart_required(void **state)
{
	struct conf *c = conf_with(2);
	char *msg = NULL;

	(void)state;
	daemon_at(STATUS(0, 1));
	assert_int_equal(check(c, &msg), -1);
	assert_non_null(strstr(msg, "restart required"));
	assert_non_null(strstr(msg, "queues 0..1, the running tsnatd listens on 0..0"));
	assert_non_null(strstr(msg, "rules not changed"));
	free(msg);
	conf_free(c);
}

static void
daemon_that_does_not_say_its_queues_refuses_apply(void **state)
{
	struct conf *c = conf_with(1);
	char *msg = NULL;

	(void)state;
	daemon_at("error unknown command\n");
	assert_int_equal(check(c, &msg), -1);
	assert_non_null(strstr(msg, "cannot ask the running tsnatd"));
	free(msg);
	conf_free(c);
}

static void
busy_daemon_is_asked_again(void **state)
{
	unsigned first, count;
	char why[256];

	(void)state;
	daemon_at("error busy\n");
	assert_int_equal(rulesguard_ask(sock, &first, &count, why, sizeof(why)), -1);
	assert_true(srv.conns > 1);
	assert_non_null(strstr(why, "busy"));
}

static void
without_a_control_socket_apply_goes_ahead_with_a_warning(void **state)
{
	struct conf *c = conf_from_text("control_socket = \"\";\npolicies = ( { name = \"p\"; "
					"mode = \"strip\"; destinations = \"198.51.100.0/24\"; } );\n",
					NULL);
	char *msg = NULL;

	(void)state;
	assert_non_null(c);
	assert_int_equal(check(c, &msg), 0);
	assert_non_null(strstr(msg, "warning"));
	free(msg);
	conf_free(c);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(parse_takes_the_queues_of_a_status_answer),
		T(parse_refuses_an_error_answer),
		T(parse_refuses_an_answer_without_both_numbers),
		T(no_socket_file_means_no_daemon_and_apply_goes_ahead),
		T(stale_socket_file_means_no_daemon_and_apply_goes_ahead),
		T(daemon_on_the_same_queues_lets_apply_go_ahead),
		T(daemon_on_other_queues_refuses_apply_with_restart_required),
		T(daemon_that_does_not_say_its_queues_refuses_apply),
		T(busy_daemon_is_asked_again),
		T(without_a_control_socket_apply_goes_ahead_with_a_warning),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
