/*
 * Unit tests of liveupdate/: the handover message (round trip, an older
 * message without optional fields, a newer version refused, descriptors
 * named but not passed), and the channel (descriptors and a message larger
 * than one packet over a real socketpair, NAK and EOF), and the parser of
 * the new binary's command line (live-update -c).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "liveupdate/liveupdate.h"
#include "liveupdate/liveupdate.pb-c.h"

/* Two descriptors that name the same open file. */
static bool
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
fill_state(struct lu_state *st, int fd_a, int fd_b)
{
	struct lu_conn *c;

	lu_state_init(st);
	st->final_seq = 12345;
	st->fd_rw = fd_a;
	st->fd_lock = fd_b;
	st->next_conn_id = 77;
	st->access_log = xstrdup("/tmp/acc");
	st->access_log_on = true;
	st->has_reply = true;
	st->reply_conn = 5;
	st->reply_req_id = 9;
	st->reply_tx_id = 0;
	c = lu_state_add_conn(st);
	c->id = 5;
	c->fd = fd_a;
	c->readonly = true;
	c->features = 3;
	c->caller.domid = 0;
	c->caller.priv = true;
	c->partial_in = xmalloc(20);
	memset(c->partial_in, 'p', 20);
	c->partial_len = 20;
	lu_conn_add_out(c, "hello", 5, true);
	lu_conn_add_out(c, "event", 5, false);
	lu_conn_add_watch(c, "rel/path", "tok", -1);
	lu_conn_add_watch(c, "/abs", "t2", 2);
	{
		static const struct store_perm perms[] = { { 0, 0 }, { 5, 1 } };
		struct store_txn_ent ent = {
			.path = "/x", .deps = STORE_TXN_DEP_GEN, .seen = true,
			.exists = true, .value = "vx", .len = 2,
			.perms = perms, .nperms = 2,
		};
		struct store_op ops[2] = {
			{ .kind = STORE_OP_PUT, .path = "/y", .value = "vy",
			  .len = 2, .perms = perms, .nperms = 1 },
			{ .kind = STORE_OP_DEL, .path = "/z" },
		};
		struct store_txn_state t = {
			.id = 4, .doomed = true, .node_delta = -1,
			.ents = &ent, .nents = 1, .ops = ops, .nops = 2,
		};

		lu_conn_add_txn(c, &t);
		c->next_txid = 9;
	}
	c = lu_state_add_conn(st);
	c->id = 6;
	c->ring = true;
	c->ring_domid = 40;
	{
		struct lu_domain d = {
			.domid = 40, .target = 41, .features = 7,
			.introduced = true, .gfn = 123, .remote_port = 3,
			.local_port = 9, .resets = 2,
		};

		lu_state_add_domain(st, &d);
	}
}

START_TEST(test_lu_message_roundtrip)
{
	struct lu_state st, got;
	uint8_t *msg;
	size_t len;
	int *fds, fdv[3];
	uint32_t nfds;
	char *why;

	fill_state(&st, 100, 101);
	lu_encode(&st, &msg, &len, &fds, &nfds);
	ck_assert_uint_eq(nfds, 3);
	ck_assert_int_eq(fds[0], 100);	/* rw */
	ck_assert_int_eq(fds[1], 101);	/* lock */
	ck_assert_int_eq(fds[2], 100);	/* the connection */
	/* Indexes into what the receiver got: -1 means "taken". */
	fdv[0] = 200;
	fdv[1] = 201;
	fdv[2] = 202;
	ck_assert_int_eq(lu_decode(msg, len, fdv, 3, &got, &why), 0);
	ck_assert_int_eq(got.fd_rw, 200);
	ck_assert_int_eq(got.fd_lock, 201);
	ck_assert_int_eq(got.fd_ro, -1);
	ck_assert_int_eq(fdv[0], -1);
	ck_assert_uint_eq(got.final_seq, 12345);
	ck_assert_uint_eq(got.next_conn_id, 77);
	ck_assert_str_eq(got.access_log, "/tmp/acc");
	ck_assert(got.access_log_on);
	ck_assert(got.has_reply);
	ck_assert_uint_eq(got.reply_req_id, 9);
	ck_assert_uint_eq(got.nconns, 2);
	ck_assert(got.conns[1].ring);
	ck_assert_uint_eq(got.conns[1].ring_domid, 40);
	ck_assert_int_eq(got.conns[1].fd, -1);
	ck_assert_uint_eq(got.ndomains, 1);
	ck_assert_uint_eq(got.domains[0].target, 41);
	ck_assert_uint_eq(got.domains[0].gfn, 123);
	ck_assert_uint_eq(got.domains[0].local_port, 9);
	ck_assert_uint_eq(got.domains[0].resets, 2);
	ck_assert(got.domains[0].introduced && !got.domains[0].priv);
	ck_assert_int_eq(got.fd_evtchn, -1);
	ck_assert_int_eq(got.conns[0].fd, 202);
	ck_assert(got.conns[0].readonly);
	ck_assert_uint_eq(got.conns[0].features, 3);
	ck_assert_uint_eq(got.conns[0].partial_len, 20);
	ck_assert_uint_eq(got.conns[0].nout, 2);
	ck_assert(got.conns[0].out[0].reply);
	ck_assert(!got.conns[0].out[1].reply);
	ck_assert_mem_eq(got.conns[0].out[1].data, "event", 5);
	ck_assert_uint_eq(got.conns[0].nwatches, 2);
	ck_assert_str_eq(got.conns[0].watches[0].wpath, "rel/path");
	ck_assert_int_eq(got.conns[0].watches[0].depth, -1);
	ck_assert_int_eq(got.conns[0].watches[1].depth, 2);
	ck_assert_uint_eq(got.conns[0].ntxns, 1);
	ck_assert_uint_eq(got.conns[0].next_txid, 9);
	{
		const struct store_txn_state *t = &got.conns[0].txns[0];

		ck_assert_uint_eq(t->id, 4);
		ck_assert(t->doomed);
		ck_assert_int_eq(t->node_delta, -1);
		ck_assert_uint_eq(t->nents, 1);
		ck_assert_str_eq(t->ents[0].path, "/x");
		ck_assert_uint_eq(t->ents[0].deps, STORE_TXN_DEP_GEN);
		ck_assert(t->ents[0].seen && t->ents[0].exists);
		ck_assert_mem_eq(t->ents[0].value, "vx", 2);
		ck_assert_uint_eq(t->ents[0].nperms, 2);
		ck_assert_uint_eq(t->ents[0].perms[1].domid, 5);
		ck_assert_uint_eq(t->nops, 2);
		ck_assert_int_eq(t->ops[0].kind, STORE_OP_PUT);
		ck_assert_mem_eq(t->ops[0].value, "vy", 2);
		ck_assert_int_eq(t->ops[1].kind, STORE_OP_DEL);
		ck_assert_str_eq(t->ops[1].path, "/z");
	}
	/* The fds were not real: forget them before release closes them. */
	got.fd_rw = got.fd_lock = got.conns[0].fd = -1;
	lu_state_release(&got);
	st.fd_rw = st.fd_lock = st.conns[0].fd = -1;
	lu_state_release(&st);
	free(msg);
	free(fds);
}
END_TEST

/* Version 1 with only the required fields: what an older writer may send. */
START_TEST(test_lu_message_minimal_older_loads)
{
	Lxslu__Handover m = LXSLU__HANDOVER__INIT;
	Lxslu__Conn c = LXSLU__CONN__INIT;
	Lxslu__Conn *pc = &c;
	struct lu_state got;
	uint8_t buf[256];
	size_t len;
	int fdv[1] = { 300 };
	char *why;

	m.version = 1;
	m.final_seq = 7;
	c.id = 3;
	c.fd = 0;
	m.n_conns = 1;
	m.conns = &pc;
	len = lxslu__handover__pack(&m, buf);
	ck_assert_int_eq(lu_decode(buf, len, fdv, 1, &got, &why), 0);
	ck_assert_uint_eq(got.final_seq, 7);
	ck_assert_int_eq(got.fd_rw, -1);
	ck_assert(!got.has_reply);
	ck_assert(!got.access_log_on);
	ck_assert_ptr_null(got.access_log);
	ck_assert_uint_eq(got.nconns, 1);
	/* Defaults: a privileged dom0 socket, no target, no watches. */
	ck_assert(got.conns[0].caller.priv);
	ck_assert_uint_eq(got.conns[0].caller.target, LXS_DOMID_INVALID);
	ck_assert_uint_eq(got.conns[0].nout, 0);
	ck_assert_uint_eq(got.conns[0].nwatches, 0);
	ck_assert_uint_eq(got.conns[0].ntxns, 0);
	ck_assert(!got.conns[0].readonly);
	got.conns[0].fd = -1;
	lu_state_release(&got);
}
END_TEST

START_TEST(test_lu_message_refusals)
{
	Lxslu__Handover m = LXSLU__HANDOVER__INIT;
	struct lu_state got;
	uint8_t buf[256];
	size_t len;
	char *why;

	m.version = LU_VERSION + 1;
	len = lxslu__handover__pack(&m, buf);
	ck_assert_int_eq(lu_decode(buf, len, NULL, 0, &got, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "version"));
	free(why);
	m.version = 1;
	m.has_fd_rw = true;
	m.fd_rw = 4;
	len = lxslu__handover__pack(&m, buf);
	ck_assert_int_eq(lu_decode(buf, len, NULL, 0, &got, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "descriptor"));
	free(why);
	ck_assert_int_eq(lu_decode((const uint8_t *)"\xff\xff", 2, NULL, 0,
				   &got, &why), -EINVAL);
	free(why);
}
END_TEST

/* Many connections and a message of several packets, over a real pair. */
START_TEST(test_lu_channel_passes_fds_and_big_message)
{
	struct lu_state st, got;
	int sv[2], fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char big[100000], *why;
	uint64_t seq;
	enum lu_said said;
	pid_t pid;
	int status;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(big, 'x', sizeof(big));
	lu_state_init(&st);
	st.final_seq = 99;
	for (int i = 0; i < 300; i++) {
		struct lu_conn *c = lu_state_add_conn(&st);

		c->id = (uint32_t)i + 1;
		c->fd = fd;
		/* Passed with EARLY before: no descriptor this time. */
		c->early = i == 5;
		if (i == 7)
			lu_conn_add_out(c, big, sizeof(big), false);
	}
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		if (lu_send_loaded(sv[0], 40) < 0 ||
		    lu_recv_go(sv[0]) < 0 ||
		    lu_send_early(sv[0], 41) < 0 ||
		    lu_send_ready(sv[0], 42) < 0 ||
		    lu_send_state(sv[0], &st) < 0 ||
		    lu_recv_result(sv[0], &why) != -ECANCELED ||
		    strcmp(why, "no thanks") != 0)
			_exit(1);
		_exit(0);
	}
	close(sv[0]);
	ck_assert_int_eq(lu_recv_ready(sv[1], &seq, &said, &why), 0);
	ck_assert_uint_eq(seq, 40);
	ck_assert_int_eq(said, LU_SAID_LOADED);
	ck_assert_int_eq(lu_send_go(sv[1]), 0);
	ck_assert_int_eq(lu_recv_ready(sv[1], &seq, &said, &why), 0);
	ck_assert_uint_eq(seq, 41);
	ck_assert_int_eq(said, LU_SAID_EARLY);
	ck_assert_int_eq(lu_recv_ready(sv[1], &seq, &said, &why), 0);
	ck_assert_uint_eq(seq, 42);
	ck_assert_int_eq(said, LU_SAID_READY);
	ck_assert_int_eq(lu_recv_state(sv[1], &got, NULL, &why), 0);
	ck_assert_uint_eq(got.nconns, 300);
	ck_assert_uint_eq(got.final_seq, 99);
	ck_assert(same_file(got.conns[299].fd, fd));
	ck_assert(got.conns[0].fd != got.conns[1].fd);
	ck_assert(got.conns[5].early);
	ck_assert_int_eq(got.conns[5].fd, -1);
	ck_assert(!got.conns[6].early);
	ck_assert(same_file(got.conns[6].fd, fd));
	ck_assert_uint_eq(got.conns[7].nout, 1);
	ck_assert_uint_eq(got.conns[7].out[0].len, sizeof(big));
	ck_assert_int_eq(lu_send_result(sv[1], "no thanks"), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The peer is gone: EOF. */
	ck_assert_int_eq(lu_recv_result(sv[1], &why), -EPIPE);
	lu_state_release(&got);
	for (uint32_t i = 0; i < st.nconns; i++)
		st.conns[i].fd = -1;
	lu_state_release(&st);
	close(sv[1]);
	close(fd);
}
END_TEST

/* A child process maps the token from fd and claims it for who. */
static uint32_t
token_claim_in_child(int fd, uint32_t who)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct lu_token *t;

		if (lu_token_open(fd, &t) < 0)
			_exit(99);
		_exit((int)lu_token_claim(t, who));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return (uint32_t)WEXITSTATUS(status);
}

/* A READY that never came (peer gone, or a NAK) says nothing of what. */
START_TEST(test_lu_recv_ready_failure_is_not_early)
{
	uint64_t seq = 7;
	enum lu_said said = LU_SAID_EARLY;
	char *why = NULL;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(lu_send_result(sv[0], "no room"), 0);
	ck_assert_int_eq(lu_recv_ready(sv[1], &seq, &said, &why),
			 -ECANCELED);
	ck_assert_int_eq(said, LU_SAID_EARLY);
	ck_assert_str_eq(why, "no room");
	free(why);
	why = NULL;
	/* GO where a seq is expected, and a seq where GO is. */
	ck_assert_int_eq(lu_send_go(sv[0]), 0);
	ck_assert_int_eq(lu_recv_ready(sv[1], &seq, &said, &why), -EPROTO);
	ck_assert_int_eq(lu_send_ready(sv[0], 3), 0);
	ck_assert_int_eq(lu_recv_go(sv[1]), -EPROTO);
	close(sv[0]);
	ck_assert_int_lt(lu_recv_ready(sv[1], &seq, &said, &why), 0);
	ck_assert_int_eq(lu_recv_go(sv[1]), -EPIPE);
	ck_assert_int_eq(said, LU_SAID_EARLY);
	ck_assert_uint_eq(seq, 7);
	free(why);
	close(sv[1]);
}
END_TEST

START_TEST(test_lu_token_one_claim_wins)
{
	struct lu_token *t;
	int fd;

	/* The new daemon (another process) claims first: the old one's
	 * later claim finds it taken and must not resume. */
	ck_assert_int_eq(lu_token_new(&t, &fd), 0);
	ck_assert_uint_eq(token_claim_in_child(fd, LU_TOKEN_NEW),
			  LU_TOKEN_NEW);
	ck_assert_uint_eq(lu_token_claim(t, LU_TOKEN_OLD), LU_TOKEN_NEW);
	lu_token_free(t);
	close(fd);
	/* The old one gave up first: the new daemon's claim fails. */
	ck_assert_int_eq(lu_token_new(&t, &fd), 0);
	ck_assert_uint_eq(lu_token_claim(t, LU_TOKEN_OLD), LU_TOKEN_OLD);
	ck_assert_uint_eq(token_claim_in_child(fd, LU_TOKEN_NEW),
			  LU_TOKEN_OLD);
	ck_assert_uint_eq(lu_token_claim(t, LU_TOKEN_NEW), LU_TOKEN_OLD);
	lu_token_free(t);
	lu_token_free(NULL);
	close(fd);
}
END_TEST

/* Splits cmdline and joins the arguments as "[a][b]..." into out. */
static int
split_joined(const char *cmdline, int max, char *out, size_t size,
	     const char **why)
{
	char **argv;
	int argc, rc;
	size_t len = 0;

	out[0] = '\0';
	rc = lu_args_split(cmdline, max, &argv, &argc, why);
	if (rc < 0)
		return rc;
	ck_assert_ptr_null(argv[argc]);
	for (int i = 0; i < argc; i++)
		len += (size_t)snprintf(out + len, size - len, "[%s]", argv[i]);
	lu_args_free(argv);
	return argc;
}

START_TEST(test_lu_args_split_quotes_and_escapes)
{
	static const struct {
		const char *in, *want;
		int n;
	} cases[] = {
		/* Xen's rule: blanks separate, runs of them count once. */
		{ "--sync=write  -N\t--foo\n", "[--sync=write][-N][--foo]", 3 },
		{ "", "", 0 },
		{ " \t ", "", 0 },
		{ "--a=\"x y\" 'c\\d' e\\ f", "[--a=x y][c\\d][e f]", 3 },
		{ "'' \"\"", "[][]", 2 },
		{ "a'b c'd", "[ab cd]", 1 },
		{ "\"q\\\"r\\\\s\\t\"", "[q\"r\\s\\t]", 1 },
		{ "'it''s' \"it's\" it\\'s", "[its][it's][it's]", 3 },
		{ "\\\" \\\\", "[\"][\\]", 2 },
	};
	char out[256];
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = split_joined(cases[i].in, 16, out, sizeof(out), &why);

		ck_assert_msg(n == cases[i].n, "%s: %d arguments",
			      cases[i].in, n);
		ck_assert_str_eq(out, cases[i].want);
	}
}
END_TEST

START_TEST(test_lu_args_split_refusals)
{
	static const char *bad[] = {
		"a 'b", "\"b", "a \"b\\\"", "a\\",
	};
	char out[64];
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_int_eq(split_joined(bad[i], 16, out, sizeof(out),
					      &why), -EINVAL);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert_int_eq(split_joined("a b c", 2, out, sizeof(out), &why),
			 -E2BIG);
	ck_assert_int_eq(split_joined("a b", 2, out, sizeof(out), &why), 2);
	lu_args_free(NULL);
}
END_TEST

static Suite *
lu_suite(void)
{
	Suite *s = suite_create("liveupdate");
	TCase *tc = tcase_create("handover");

	tcase_add_test(tc, test_lu_message_roundtrip);
	tcase_add_test(tc, test_lu_message_minimal_older_loads);
	tcase_add_test(tc, test_lu_message_refusals);
	tcase_add_test(tc, test_lu_channel_passes_fds_and_big_message);
	tcase_add_test(tc, test_lu_recv_ready_failure_is_not_early);
	tcase_add_test(tc, test_lu_token_one_claim_wins);
	suite_add_tcase(s, tc);
	tc = tcase_create("args");
	tcase_add_test(tc, test_lu_args_split_quotes_and_escapes);
	tcase_add_test(tc, test_lu_args_split_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(lu_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
