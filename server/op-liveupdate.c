/*
 * op-liveupdate: CONTROL live-update, the old daemon's side.
 *
 * Sub-commands (as Xen's xenstore-control sends them, one request each):
 *   -f <binary>   start a session: the file must be an executable regular
 *                 file; it is started as the new daemon (<binary> <args>
 *                 --live-update-fd=N, offered LU_LOADED_ENV) and -f is
 *                 answered when it has loaded and checked the current
 *                 state (LOADED). It then waits for -s (at most
 *                 --live-update-keep seconds), so the state is loaded
 *                 once for the check and the update.
 *   -c <cmdline>  the new binary's arguments instead of this daemon's own:
 *                 split on blanks, with quotes and backslashes as in sh
 *                 (lu_args_split); refused if they do not parse. A new
 *                 daemon loaded with other arguments is started again
 *                 with these, and -c answered when it has loaded.
 *   -s [-t <s>] [-F]  start: GO to the loaded new daemon (or it is
 *                 started now) and the request is held until it is ready
 *                 (at most -t seconds from the first -s). Its "OK" is
 *                 sent by the new daemon. -F is accepted and changes
 *                 nothing: open transactions are handed over, not waited
 *                 for.
 *   -a            abort: the child is killed, the session ends
 * A new binary that does not wait after loading (says EARLY or READY at
 * -f: from before LOADED) has passed the check; it is killed and started
 * again at -s.
 * Replies are text: "OK", "BUSY", or why it failed (xenstore-control
 * prints it). The session belongs to the connection that sent -f (or -c)
 * and ends with it.
 *
 * While it loads, the new daemon may ask for the socket connections
 * (EARLY; offered through LU_EARLY_ENV): they are sent at once, without
 * pausing, so that it sets them up before the pause. A connection that
 * closes after that is closed for its client once the new daemon serves
 * (or gives up): the new daemon holds a duplicate of its descriptor.
 *
 * Once the new daemon says READY, the handover runs from the next
 * before-sleep hook: the log is flushed, the state sent, and the old
 * daemon waits for the answer without serving. ACK is the point of no
 * return: the old daemon exits at once (its sockets and pid file stay for
 * the new one). Anything else: unless the new daemon has claimed the
 * release token (it serves then, and this one exits as on ACK), the child
 * is killed, the -s request gets the reason, and serving goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liveupdate/liveupdate.h"
#include "server/server-int.h"

#define LU_DEFAULT_TIMEOUT_S	60
/* How long the old daemon waits for the new one's answer to the state. */
#define LU_ANSWER_TIMEOUT_S	30
/* How long sending the connections ahead (EARLY) may block serving. */
#define LU_EARLY_TIMEOUT_S	2
#define LU_ARGS_MAX		256

enum lu_phase {
	LU_IDLE,	/* no child; binary set (or not yet) */
	LU_PREPARING,	/* new daemon loading for -f (or -c), which is held */
	LU_LOADED,	/* new daemon loaded and checked, waiting for -s */
	LU_LOADING,	/* GO sent (or started at -s): -s held until READY */
	LU_READY,	/* new daemon ready: hand over before the next wait */
};

struct lu_session {
	struct server *srv;
	struct conn *owner;
	char *binary;
	char *cmdline;			/* NULL: this daemon's arguments */
	enum lu_phase phase;
	pid_t pid;
	int chan;			/* with a child: our end, else -1 */
	struct xsd_sockmsg held;	/* the request waiting, if held */
	bool has_held;
	uint64_t timer;
	uint64_t first_start_ns;	/* first -s of this attempt, or 0 */
	uint64_t ready_ns;		/* READY received (CLOCK_MONOTONIC) */
	bool early_sent;		/* EARLY answered in this attempt */
	struct lu_token *token;		/* passed with EARLY, or NULL */
	uint32_t early_max_id;		/* sent with EARLY up to this id */
	unsigned int timeout_s;
};

static void lu_fail(struct lu_session *lu, const char *why);

/* ---- replies --------------------------------------------------------------- */

static void
lu_hold(struct lu_session *lu, struct op_req *r)
{
	lu->held = *r->hdr;
	lu->has_held = true;
	r->c->held = true;
	r->replied = true;
}

static void
lu_answer(struct lu_session *lu, const char *text)
{
	if (!lu->has_held)
		return;
	lu->has_held = false;
	conn_reply(lu->owner, &lu->held, XS_CONTROL, text, strlen(text) + 1);
	conn_unhold(lu->owner);
}

/* ---- the child --------------------------------------------------------------- */

static bool
lu_env_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* environ plus LU_EARLY_ENV=1 and LU_LOADED_ENV=1 (the array is the
 * caller's to free). */
static char **
lu_env_offers(void)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 3, sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (!lu_env_is(environ[i], LU_EARLY_ENV) &&
		    !lu_env_is(environ[i], LU_LOADED_ENV))
			env[k++] = environ[i];
	env[k++] = (char *)LU_EARLY_ENV "=1";
	env[k] = (char *)LU_LOADED_ENV "=1";
	return env;
}

/*
 * Starts <binary> <args> --live-update-fd=<child_fd> (inheritable in the
 * child, which is offered EARLY and LOADED). Returns the pid or -errno.
 *
 * posix_spawn, not fork: glibc starts the child with vfork semantics, so
 * this daemon's page tables are not copied. A fork stops the loop for as
 * long as that copy takes, which grows with the store (milliseconds at
 * 1,000,000 nodes), while clients wait.
 */
static pid_t
lu_spawn(struct lu_session *lu, int child_fd)
{
	const struct server_config *cfg = &lu->srv->cfg;
	char **env = lu_env_offers();
	char *extra = xasprintf("--live-update-fd=%d", child_fd);
	char *argv[LU_ARGS_MAX];
	char **cmd = NULL;
	const char *why;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int argc = 0, ncmd = 0, rc;
	pid_t pid = -1;

	argv[argc++] = lu->binary;
	/* The command line parsed when -c was given: it parses again. */
	if (lu->cmdline &&
	    lu_args_split(lu->cmdline, LU_ARGS_MAX - 3, &cmd, &ncmd, &why) < 0) {
		free(env);
		free(extra);
		return -EINVAL;
	}
	if (cmd)
		for (int i = 0; i < ncmd; i++)
			argv[argc++] = cmd[i];
	else
		for (int i = 0; i < cfg->argc && argc < LU_ARGS_MAX - 3; i++) {
			/* This daemon's own live-update role is not passed
			 * on; its options (a timeout) are. */
			if (strcmp(cfg->argv[i], "--live-update-fd") == 0)
				i++;
			else if (strcmp(cfg->argv[i],
					"--live-update-check") != 0 &&
				 strncmp(cfg->argv[i], "--live-update-fd=",
					 strlen("--live-update-fd=")) != 0)
				argv[argc++] = cfg->argv[i];
		}
	argv[argc++] = extra;
	argv[argc] = NULL;
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	/* A dup2 onto itself clears FD_CLOEXEC in the child only (POSIX
	 * 2024, glibc since 2.29): inherited there, still close-on-exec
	 * here. */
	rc = posix_spawn_file_actions_adddup2(&fa, child_fd, child_fd);
	if (rc == 0)
		rc = posix_spawn(&pid, lu->binary, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	lu_args_free(cmd);
	free(env);
	free(extra);
	return rc ? -rc : pid;
}

/* Kills (if still there) and reaps the child; *status gets its status. */
static void
lu_reap(struct lu_session *lu, int *status)
{
	*status = -1;
	if (lu->pid <= 0)
		return;
	for (int i = 0; i < 100; i++) {
		if (waitpid(lu->pid, status, WNOHANG) == lu->pid)
			goto done;
		usleep(10000);
	}
	kill(lu->pid, SIGKILL);
	waitpid(lu->pid, status, 0);
done:
	lu->pid = 0;
}

static char *
lu_status_text(int status)
{
	/* posix_spawn reports a binary that cannot be executed itself, so
	 * an exit status is always the binary's own. */
	if (status >= 0 && WIFEXITED(status))
		return xasprintf("exited with status %d", WEXITSTATUS(status));
	if (status >= 0 && WIFSIGNALED(status))
		return xasprintf("was killed by signal %d (%s)",
				 WTERMSIG(status), strsignal(WTERMSIG(status)));
	return xstrdup("ended");
}

static void
lu_stop_child(struct lu_session *lu)
{
	int status;

	if (lu->timer) {
		loop_del_timer(lu->srv->loop, lu->timer);
		lu->timer = 0;
	}
	if (lu->pid > 0) {
		kill(lu->pid, SIGKILL);
		lu_reap(lu, &status);
	}
	if (lu->chan >= 0) {
		loop_del_fd(lu->srv->loop, lu->chan);
		close(lu->chan);
		lu->chan = -1;
	}
	lu_token_free(lu->token);
	lu->token = NULL;
	durable_hold(lu->srv->dur, false);
}

static void
lu_session_free(struct server *srv)
{
	struct lu_session *lu = srv->lu;

	if (lu == NULL)
		return;
	lu_stop_child(lu);
	srv->lu = NULL;
	free(lu->binary);
	free(lu->cmdline);
	free(lu);
}

/* ---- the child: started, loaded ------------------------------------------- */

static void lu_on_chan(struct loop *l, int fd, unsigned int mask, void *arg);
static void lu_on_timeout(struct loop *l, uint64_t id, void *arg);

static void
lu_set_timer(struct lu_session *lu, uint64_t ms)
{
	if (lu->timer)
		loop_del_timer(lu->srv->loop, lu->timer);
	lu->timer = loop_add_timer(lu->srv->loop, ms ? ms : 1, lu_on_timeout,
				   lu);
}

/*
 * Starts the new daemon on a fresh channel; from here until the child is
 * stopped, snapshots and pruning are held (it reads the log's files).
 */
static int
lu_spawn_child(struct lu_session *lu)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	durable_hold(lu->srv->dur, true);
	pid = lu_spawn(lu, sv[1]);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		durable_hold(lu->srv->dur, false);
		return (int)pid;
	}
	log_info("live update: started %s (pid %ld)", lu->binary, (long)pid);
	lu->pid = pid;
	lu->chan = sv[0];
	lu->early_sent = false;
	lu->early_max_id = 0;
	loop_add_fd(lu->srv->loop, lu->chan, LOOP_READ, lu_on_chan, lu);
	return 0;
}

/* -f or -c: the new daemon loads; r is answered when it has (LOADED). */
static int
lu_prepare(struct lu_session *lu, struct op_req *r)
{
	int rc = lu_spawn_child(lu);

	if (rc < 0)
		return rc;
	lu->phase = LU_PREPARING;
	lu_set_timer(lu, lu->srv->cfg.lu_check_seconds * 1000ull);
	lu_hold(lu, r);
	return 0;
}

/* ---- failure and handover -------------------------------------------------- */

/*
 * The child is stopped and the held request (if any) answered with why.
 * A binary that failed its check (-f, -c) is forgotten: -s needs a new -f.
 */
static void
lu_fail(struct lu_session *lu, const char *why)
{
	char *text = xasprintf("live update failed: %s", why);

	log_warn("%s; this daemon goes on serving", text);
	lu_stop_child(lu);
	if (lu->phase == LU_PREPARING) {
		free(lu->binary);
		lu->binary = NULL;
	}
	lu->phase = LU_IDLE;
	lu->first_start_ns = 0;
	lu_answer(lu, text);
	free(text);
}

static void
lu_on_timeout(struct loop *l, uint64_t id, void *arg)
{
	struct lu_session *lu = arg;
	char *why;

	lu->timer = 0;
	if (lu->phase == LU_LOADED) {
		log_info("live update: no -s within %u s: the new daemon is "
			 "stopped (-s starts it again)",
			 lu->srv->cfg.lu_keep_seconds);
		lu_stop_child(lu);
		lu->phase = LU_IDLE;
		return;
	}
	if (lu->phase == LU_PREPARING)
		why = xasprintf("new binary did not load the state within "
				"%u s", lu->srv->cfg.lu_check_seconds);
	else
		why = xasprintf("new binary not ready within %u s",
				lu->timeout_s);
	lu_fail(lu, why);
	free(why);
}

static void
lu_set_timeouts(int fd, unsigned int s)
{
	struct timeval tv = { .tv_sec = s };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* EARLY: the socket connections of now, while this daemon serves on. */
static int
lu_send_early_conns(struct lu_session *lu)
{
	struct lu_state st;
	uint64_t t0 = mono_ns();
	int rc, tfd = -1;

	lu_state_init(&st);
	lu_export_early(lu->srv, &st, &lu->early_max_id);
	lu->early_sent = true;
	/* Without a token the new daemon waits for our close instead. */
	rc = lu_token_new(&lu->token, &tfd);
	if (rc < 0)
		log_warn("live update: release token: %s", strerror(-rc));
	st.fd_token = tfd;
	/* The new daemon is reading them: a short bound on this stall. */
	lu_set_timeouts(lu->chan, LU_EARLY_TIMEOUT_S);
	rc = lu_send_state(lu->chan, &st);
	log_info("live update: %u connection(s) sent ahead in %" PRIu64 " us",
		 st.nconns, (mono_ns() - t0) / 1000);
	lu_export_release(&st);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

/* READY: the handover runs before the next wait. */
static void
lu_on_ready(struct lu_session *lu, uint64_t seq)
{
	log_info("live update: new daemon (pid %ld) ready at seq %" PRIu64,
		 (long)lu->pid, seq);
	lu->phase = LU_READY;
	lu->ready_ns = mono_ns();
	loop_del_fd(lu->srv->loop, lu->chan);
}

/* What the new daemon said, in this phase: 0, or -EPROTO if out of turn. */
static int
lu_on_said(struct lu_session *lu, enum lu_said said, uint64_t seq)
{
	if (lu->phase == LU_PREPARING && said == LU_SAID_LOADED) {
		log_info("live update: %s loaded and checked the state up to "
			 "seq %" PRIu64 "; waiting for -s", lu->binary, seq);
		lu->phase = LU_LOADED;
		/* The log is neither snapshotted nor pruned meanwhile. */
		lu_set_timer(lu, lu->srv->cfg.lu_keep_seconds * 1000ull);
		lu_answer(lu, "OK");
		return 0;
	}
	if (lu->phase == LU_PREPARING) {
		/* From before LOADED: it loaded (the check), but would not
		 * wait for -s. */
		log_info("live update: %s loads the state; it does not wait "
			 "for -s, so it starts again then", lu->binary);
		lu_stop_child(lu);
		lu->phase = LU_IDLE;
		lu_answer(lu, "OK");
		return 0;
	}
	if (lu->phase != LU_LOADING)
		return -EPROTO;
	if (said == LU_SAID_LOADED)
		return lu_send_go(lu->chan);
	if (said == LU_SAID_EARLY)
		return lu->early_sent ? -EPROTO : lu_send_early_conns(lu);
	lu_on_ready(lu, seq);
	return 0;
}

static void
lu_on_chan(struct loop *l, int fd, unsigned int mask, void *arg)
{
	struct lu_session *lu = arg;
	char *why = NULL, *st;
	enum lu_said said;
	uint64_t seq;
	int rc, status;

	rc = lu_recv_ready(fd, &seq, &said, &why);
	if (rc == -EAGAIN)
		return;
	if (rc == 0)
		rc = lu_on_said(lu, said, seq);
	if (rc == 0)
		return;
	if (rc == -ECANCELED) {
		st = xasprintf("new binary refused the state: %s", why);
	} else {
		lu_reap(lu, &status);
		free(why);
		why = lu_status_text(status);
		st = xasprintf("new binary %s while loading", why);
	}
	lu_fail(lu, st);
	free(st);
	free(why);
}

/*
 * The handover. Nothing is read meanwhile: this runs in the before-sleep
 * hook and returns only if the new daemon did not take over.
 */
static void
lu_handover(struct lu_session *lu)
{
	struct server *srv = lu->srv;
	struct lu_state st;
	uint64_t seq, t0 = mono_ns(), t1, t2;
	char *why = NULL, *text;
	int rc, status;

	rc = durable_flush(srv->dur, &seq);
	if (rc < 0) {
		text = xasprintf("flushing the log: %s", strerror(-rc));
		lu_fail(lu, text);
		free(text);
		return;
	}
	lu_state_init(&st);
	lu_export(srv, &st, lu->early_max_id);
	st.final_seq = seq;
	st.pause_start_ns = t0;
	st.has_reply = true;
	st.reply_conn = lu->owner->id;
	st.reply_req_id = lu->held.req_id;
	st.reply_tx_id = lu->held.tx_id;
	lu_set_timeouts(lu->chan, LU_ANSWER_TIMEOUT_S);
	t1 = mono_ns();
	rc = lu_send_state(lu->chan, &st);
	lu_export_release(&st);
	t2 = mono_ns();
	if (rc == 0)
		rc = lu_recv_result(lu->chan, &why);
	/* No ACK, but the new daemon may have claimed the token (and
	 * serve): then it is too late to resume. */
	if (rc < 0 && lu->token &&
	    lu_token_claim(lu->token, LU_TOKEN_OLD) == LU_TOKEN_NEW) {
		log_warn("live update: no answer (%s), but the new daemon "
			 "claimed the release token: it serves",
			 rc == -ECANCELED ? why : strerror(-rc));
		rc = 0;
	}
	if (rc == 0) {
		char mainpid[32];

		/* The point of no return: the new daemon serves. systemd
		 * must follow it, not take our exit for the service's. */
		snprintf(mainpid, sizeof(mainpid), "MAINPID=%ld",
			 (long)lu->pid);
		/* The new daemon serves once it sees this close: had we
		 * given up on its answer instead, it would be killed. */
		close(lu->chan);
		server_notify(mainpid);
		/* With the token the new daemon serves from its claim and
		 * answers later: "answer" is not part of the pause then. */
		log_info("live update: handed over at seq %" PRIu64 " to pid "
			 "%ld (%u connections), %" PRIu64 " us after READY: "
			 "flush and export %" PRIu64 " us, send %" PRIu64
			 " us, answer after %" PRIu64 " us%s; exiting", seq,
			 (long)lu->pid, srv->nconns,
			 (t0 - lu->ready_ns) / 1000, (t1 - t0) / 1000,
			 (t2 - t1) / 1000, (mono_ns() - t2) / 1000,
			 lu->token ? " (token)" : "");
		_exit(0);
	}
	if (rc == -ECANCELED) {
		text = xasprintf("new binary refused the state: %s", why);
	} else {
		kill(lu->pid, SIGKILL);
		lu_reap(lu, &status);
		free(why);
		why = lu_status_text(status);
		text = xasprintf("handover: %s (new binary %s)",
				 strerror(-rc), why);
	}
	lu_fail(lu, text);
	free(text);
	free(why);
}

void
lu_poll(struct server *srv)
{
	struct lu_session *lu = srv->lu;

	if (lu && lu->phase == LU_READY)
		lu_handover(lu);
}

/* ---- -s ---------------------------------------------------------------------- */

static const char *
lu_blocker(struct server *srv)
{
	if (durable_dir(srv->dur) == NULL)
		return "nothing to hand over without a log (--sync=none)";
	return NULL;
}

static int
lu_start(struct lu_session *lu, struct op_req *r)
{
	const char *blocker = lu_blocker(lu->srv);
	uint64_t now = mono_ns(), elapsed_ms, left_ms;
	int rc;

	if (blocker) {
		op_reply_str(r, blocker);
		return 0;
	}
	if (lu->first_start_ns == 0)
		lu->first_start_ns = now;
	elapsed_ms = (now - lu->first_start_ns) / 1000000;
	left_ms = lu->timeout_s * 1000ull > elapsed_ms ?
		  lu->timeout_s * 1000ull - elapsed_ms : 0;
	/* A loaded daemon gone since (it would have been reaped) or not
	 * taking GO: start one now. */
	if (lu->phase == LU_LOADED && lu_send_go(lu->chan) < 0) {
		log_warn("live update: the loaded new daemon is gone; "
			 "starting it again");
		lu_stop_child(lu);
		lu->phase = LU_IDLE;
	}
	if (lu->phase == LU_IDLE) {
		rc = lu_spawn_child(lu);
		if (rc < 0)
			return rc;
	}
	lu->phase = LU_LOADING;
	lu_set_timer(lu, left_ms);
	lu_hold(lu, r);
	return 0;
}

static int
lu_cmd_start(struct lu_session *lu, struct op_req *r, int argc,
	     const char **argv)
{
	unsigned long v;

	lu->timeout_s = LU_DEFAULT_TIMEOUT_S;
	for (int i = 1; i < argc; i++) {
		/* -F: nothing needs forcing, open transactions are carried. */
		if (strcmp(argv[i], "-F") == 0) {
			continue;
		} else if ((strcmp(argv[i], "-t") == 0 ||
			    strcmp(argv[i], "-v") == 0) && i + 1 < argc) {
			if (argv[i][1] == 't') {
				if (parse_uint(argv[i + 1], 86400, &v) < 0)
					return -EINVAL;
				lu->timeout_s = (unsigned int)v;
			}
			i++;
		} else {
			return -EINVAL;
		}
	}
	if (lu->binary == NULL) {
		op_reply_str(r, "no new binary given (live-update -f)");
		return 0;
	}
	if (lu->phase == LU_LOADING || lu->phase == LU_READY) {
		lu_hold(lu, r);
		return 0;
	}
	return lu_start(lu, r);
}

/* ---- the command ---------------------------------------------------------------- */

static int
lu_cmd_binary(struct lu_session *lu, struct op_req *r, const char *path)
{
	struct stat st;
	char *text;
	const char *bad = lu_blocker(lu->srv);

	if (lu->phase != LU_IDLE && lu->phase != LU_LOADED) {
		op_reply_str(r, "a live update is already under way");
		return 0;
	}
	if (bad) {
		op_reply_str(r, bad);
		return 0;
	}
	/* Another binary: the one loaded goes. */
	lu_stop_child(lu);
	lu->phase = LU_IDLE;
	free(lu->binary);
	lu->binary = NULL;
	if (stat(path, &st) < 0)
		bad = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else if (access(path, X_OK) < 0)
		bad = strerror(errno);
	if (bad) {
		text = xasprintf("new binary %s: %s", path, bad);
		op_reply_str(r, text);
		free(text);
		return 0;
	}
	lu->binary = xstrdup(path);
	return lu_prepare(lu, r);
}

static int
lu_cmd_cmdline(struct lu_session *lu, struct op_req *r, const char *cmdline)
{
	const char *why;
	char **args, *text;
	bool same;
	int n;

	if (lu->phase != LU_IDLE && lu->phase != LU_LOADED) {
		op_reply_str(r, "a live update is already under way");
		return 0;
	}
	if (lu_args_split(cmdline, LU_ARGS_MAX - 3, &args, &n, &why) < 0) {
		text = xasprintf("command line: %s", why);
		op_reply_str(r, text);
		free(text);
		return 0;
	}
	lu_args_free(args);
	same = lu->cmdline && strcmp(lu->cmdline, cmdline) == 0;
	free(lu->cmdline);
	lu->cmdline = xstrdup(cmdline);
	if (lu->phase != LU_LOADED || same) {
		op_reply_str(r, "OK");
		return 0;
	}
	/* Loaded with other arguments: again, with these. */
	lu_stop_child(lu);
	lu->phase = LU_IDLE;
	return lu_prepare(lu, r);
}

int
op_control_live_update(struct op_req *r, int argc, const char **argv)
{
	struct server *srv = r->srv;
	struct lu_session *lu = srv->lu;

	if (argc < 1)
		return -EINVAL;
	if (lu && lu->owner != r->c) {
		op_reply_str(r, "a live-update session is active on another "
			     "connection");
		return 0;
	}
	if (strcmp(argv[0], "-a") == 0 && argc == 1) {
		if (lu)
			log_info("live update: aborted");
		lu_session_free(srv);
		op_reply_str(r, "OK");
		return 0;
	}
	if (lu == NULL) {
		if (strcmp(argv[0], "-s") == 0) {
			op_reply_str(r, "no new binary given (live-update -f)");
			return 0;
		}
		lu = xcalloc(1, sizeof(*lu));
		lu->srv = srv;
		lu->owner = r->c;
		lu->chan = -1;
		srv->lu = lu;
	}
	if (strcmp(argv[0], "-f") == 0 && argc == 2)
		return lu_cmd_binary(lu, r, argv[1]);
	if (strcmp(argv[0], "-c") == 0 && argc == 2)
		return lu_cmd_cmdline(lu, r, argv[1]);
	if (strcmp(argv[0], "-s") == 0)
		return lu_cmd_start(lu, r, argc, argv);
	return -EINVAL;
}

void
lu_conn_gone(struct conn *c)
{
	struct lu_session *lu = c->srv->lu;

	if (lu && lu->owner == c) {
		log_info("live update: the session's connection closed");
		lu->has_held = false;
		lu_session_free(c->srv);
	}
}

void
lu_child_exited(struct server *srv)
{
	struct lu_session *lu = srv->lu;
	char *why, *text;
	int status;

	if (lu == NULL || lu->pid <= 0 ||
	    waitpid(lu->pid, &status, WNOHANG) != lu->pid)
		return;
	lu->pid = 0;
	why = lu_status_text(status);
	text = xasprintf("new binary %s%s", why,
			 lu->phase == LU_READY ? "" : " while loading");
	lu_fail(lu, text);
	free(text);
	free(why);
}
