/*
 * server: the lxenstored daemon core, as seen by main.c.
 *
 * A server owns the event loop, the store, the listening sockets, the
 * guest domains and every client connection (socket or ring). main.c parses options into a struct server_config,
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

/* How far a change is persisted before any client may observe it. */
enum durable_sync {
	DURABLE_SYNC_NONE,	/* nothing persisted: unsafe */
	DURABLE_SYNC_WRITE,	/* write(2) to the log: survives the process */
	DURABLE_SYNC_ALWAYS,	/* write(2) + fdatasync: survives the host */
};

struct durable_config {
	const char *state_dir;		/* log, snapshots, boot id, lock */
	enum durable_sync sync;
	uint64_t segment_bytes;		/* log segment rotation size */
	uint64_t snap_records;		/* snapshot after this many records */
	uint64_t snap_bytes;		/* ... or this many log bytes */
	uint64_t snap_seconds;		/* ... or this long with changes */
	const char *boot_id_file;	/* /proc/sys/kernel/random/boot_id */
};

#define DURABLE_DEFAULT_STATE_DIR	"/var/lib/lxenstored"
#define DURABLE_DEFAULT_BOOT_ID		"/proc/sys/kernel/random/boot_id"
#define DURABLE_DEFAULT_SEGMENT		(64ull << 20)
#define DURABLE_DEFAULT_SNAP_RECORDS	1000000ull
#define DURABLE_DEFAULT_SNAP_BYTES	(256ull << 20)
#define DURABLE_DEFAULT_SNAP_SECONDS	3600ull

const char *durable_sync_name(enum durable_sync s);
/* "none", "write" or "always"; -EINVAL otherwise. */
int durable_sync_parse(const char *s, enum durable_sync *out);

struct server_config {
	const char *sock_path;		/* read-write socket; required */
	bool foreground;		/* daemon log to stderr, not syslog */
	const char *access_log;		/* NULL: no access log */
	uint64_t access_log_size;	/* rotate beyond this many bytes; 0: never */
	unsigned int access_log_keep;	/* rotated files kept: FILE.1..FILE.N */
	const struct server_quota_opt *quotas;
	unsigned int nquotas;
	struct durable_config durable;
	/* dom0's kernel ring: page and event channel port; absent is fine. */
	const char *xsd_kva;
	const char *xsd_port;
	bool keep_orphans;		/* RELEASE gives a domain's nodes to dom0 */
	/* Live update: the arguments a new binary gets (argv[1..]), the pid
	 * file it rewrites, how long it may take to load at -f, and how long
	 * it then waits for -s. */
	char *const *argv;
	int argc;
	const char *pid_file;
	unsigned int lu_check_seconds;
	unsigned int lu_keep_seconds;
};

#define SERVER_DEFAULT_XSD_KVA	"/proc/xen/xsd_kva"
#define SERVER_DEFAULT_XSD_PORT	"/proc/xen/xsd_port"

struct server;

/*
 * Resolves the socket path: <rundir>/socket if rundir (--rundir) is given,
 * else $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * SERVER_DEFAULT_RUNDIR/socket. Returns a string the caller frees.
 */
char *server_socket_path(const char *rundir);

/*
 * Rebuilds the store from the state directory, applies the quotas, binds
 * both sockets and opens the Xen interfaces (event channels, grant tables,
 * dom0's ring) where they exist. Refuses
 * (-EADDRINUSE) when a live daemon answers on the socket. Logs the reason
 * of any failure. The config's strings are copied. Caller frees with
 * server_free.
 */
int server_new(const struct server_config *cfg, struct server **out);
/* Closes every connection, unlinks the sockets it created. NULL is a no-op. */
void server_free(struct server *srv);

/* Serves until SIGTERM or SIGINT; SIGHUP reopens the logs. Returns 0. */
int server_run(struct server *srv);

/*
 * The new daemon of a live update (--live-update-fd=fd): loads the state
 * directory read-only while the old daemon serves, takes over its
 * descriptors and connections, and answers the old one. On success *out
 * serves like a server from server_new; on failure the old daemon has been
 * told why (it goes on serving) and nothing on disk was changed.
 */
int server_live_update(const struct server_config *cfg, int fd,
		       struct server **out);
/*
 * The dry run older daemons run at `live-update -f` (--live-update-check):
 * loads the state directory read-only and checks the store. Returns 0, or -errno with the
 * reason on stderr.
 */
int server_live_update_check(const struct server_config *cfg);
/* Sends msg ("READY=1", "MAINPID=N", ...) to $NOTIFY_SOCKET, if set. */
void server_notify(const char *msg);

#endif
