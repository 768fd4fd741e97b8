/*
 * server: the lxenstored daemon core, as seen by main.c.
 *
 * A server owns the event loop, the store, the listening sockets and every
 * client connection. main.c parses options into a struct server_config,
 * creates the server (which binds the sockets, so readiness can be reported
 * right after), runs it until SIGTERM/SIGINT, and frees it.
 */
#ifndef LXS_SERVER_H
#define LXS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

/* Default socket when neither XENSTORED_PATH nor a rundir is given. */
#define SERVER_DEFAULT_RUNDIR	"/var/run/xenstored"
/* The read-only socket is the read-write path with this suffix. */
#define SERVER_RO_SUFFIX	"_ro"

/* A global quota given on the command line (-E, -S, -W, -Q, -q, ...). */
struct server_quota_opt {
	int quota;		/* enum store_quota */
	bool soft;
	uint32_t value;
};

struct server_config {
	const char *sock_path;		/* read-write socket; required */
	bool foreground;		/* daemon log to stderr, not syslog */
	const char *access_log;		/* NULL: no access log */
	uint64_t access_log_size;	/* rotate beyond this many bytes; 0: never */
	unsigned int access_log_keep;	/* rotated files kept: FILE.1..FILE.N */
	const struct server_quota_opt *quotas;
	unsigned int nquotas;
};

struct server;

/*
 * Resolves the socket path: <rundir>/socket if rundir (--rundir) is given,
 * else $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * SERVER_DEFAULT_RUNDIR/socket. Returns a string the caller frees.
 */
char *server_socket_path(const char *rundir);

/*
 * Creates the store, applies the quotas and binds both sockets. Refuses
 * (-EADDRINUSE) when a live daemon answers on the socket. Logs the reason
 * of any failure. The config's strings are copied. Caller frees with
 * server_free.
 */
int server_new(const struct server_config *cfg, struct server **out);
/* Closes every connection, unlinks the sockets it created. NULL is a no-op. */
void server_free(struct server *srv);

/* Serves until SIGTERM or SIGINT; SIGHUP reopens the logs. Returns 0. */
int server_run(struct server *srv);

#endif
