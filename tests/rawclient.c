/*
 * rawclient: sends raw XenStore wire messages and prints the answers, for
 * the server's shell tests. Nothing is validated on the way out: lengths,
 * types and payloads are what the command line says.
 *
 *   rawclient [-n] [-i] [-s] [-w SECS] SOCKET SPEC...
 *
 * SPEC is one of
 *   [COUNT*]TYPE[,tx=N|last][,req=N][,len=N]:PAYLOAD
 *       TYPE is a name (READ, WATCH_EVENT, ...) or a number. PAYLOAD takes
 *       \0 \n \t \\ and \xHH escapes. len= overrides the header's length;
 *       tx=last uses the id of the last TRANSACTION_START reply. After
 *       sending, waits for the reply (watch events are printed as they
 *       come). With COUNT, sends COUNT copies while reading the replies,
 *       and prints runs of identical replies once, as "COUNTx REPLY".
 *   events:N      waits for N watch events
 *   sleep:SECS    sleeps (fractions allowed)
 *
 * Each message received is printed on one line: its type name, a space,
 * the escaped payload (with -i also " r<req_id> t<tx_id>" before the
 * space). "EOF" when the server closes the connection, "TIMEOUT" when no
 * reply comes within SECS (default 10; exit status 1).
 *
 * -n: never read. Sends every message (blocking when the server stops
 * reading) and exits after SECS seconds.
 * -s: send one byte per write, 1 ms apart (fragmented input).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

struct rc_msg {
	struct xsd_sockmsg hdr;
	char *payload;
	uint32_t plen;		/* bytes actually sent after the header */
	unsigned long count;
	bool tx_last;
};

static int rc_fd = -1;
static bool rc_ids;
static bool rc_slow;
static int rc_wait_ms = 10000;
static uint32_t rc_last_tx;
static uint32_t rc_next_req = 1;

static void __attribute__((noreturn))
rc_die(const char *msg, const char *arg)
{
	fprintf(stderr, "rawclient: %s%s%s\n", msg, arg ? ": " : "",
		arg ? arg : "");
	exit(2);
}

static int
rc_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
rc_unescape(const char *s, struct buf *out)
{
	while (*s) {
		char c = *s++;

		if (c == '\\' && *s) {
			c = *s++;
			switch (c) {
			case '0': c = '\0'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'x':
				if (rc_hex(s[0]) < 0 || rc_hex(s[1]) < 0)
					rc_die("bad \\x escape", s);
				c = (char)(rc_hex(s[0]) * 16 + rc_hex(s[1]));
				s += 2;
				break;
			default: break;
			}
		}
		buf_add(out, &c, 1);
	}
}

static void
rc_print(const struct xsd_sockmsg *hdr, const char *p, unsigned long times)
{
	const char *name = wire_type_name(hdr->type);

	if (times > 1)
		printf("%lux ", times);
	if (name)
		printf("%s", name);
	else
		printf("type%u", hdr->type);
	if (rc_ids)
		printf(" r%u t%u", hdr->req_id, hdr->tx_id);
	putchar(' ');
	for (uint32_t i = 0; i < hdr->len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\0')
			fputs("\\0", stdout);
		else if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('\n');
	fflush(stdout);
}

static void
rc_parse(const char *spec, struct rc_msg *m)
{
	const char *colon = strchr(spec, ':');
	char *head, *opt, *save = NULL, *star;
	struct buf payload = { 0 };
	bool len_set = false;
	unsigned long v;
	int type;

	if (colon == NULL)
		rc_die("SPEC needs a ':'", spec);
	memset(m, 0, sizeof(*m));
	m->count = 1;
	head = xstrndup(spec, (size_t)(colon - spec));
	star = strchr(head, '*');
	opt = head;
	if (star) {
		*star = '\0';
		if (parse_uint(head, 100000000, &m->count) < 0 || !m->count)
			rc_die("bad count", head);
		opt = star + 1;
	}
	opt = strtok_r(opt, ",", &save);
	if (opt == NULL)
		rc_die("no type", spec);
	type = wire_type_value(opt);
	if (type < 0) {
		if (parse_uint(opt, UINT32_MAX, &v) < 0)
			rc_die("unknown type", opt);
		type = (int)v;
	}
	m->hdr.type = (uint32_t)type;
	while ((opt = strtok_r(NULL, ",", &save)) != NULL) {
		if (strcmp(opt, "tx=last") == 0)
			m->tx_last = true;
		else if (strncmp(opt, "tx=", 3) == 0 &&
			 parse_uint(opt + 3, UINT32_MAX, &v) == 0)
			m->hdr.tx_id = (uint32_t)v;
		else if (strncmp(opt, "req=", 4) == 0 &&
			 parse_uint(opt + 4, UINT32_MAX, &v) == 0)
			m->hdr.req_id = (uint32_t)v;
		else if (strncmp(opt, "len=", 4) == 0 &&
			 parse_uint(opt + 4, UINT32_MAX, &v) == 0) {
			m->hdr.len = (uint32_t)v;
			len_set = true;
		} else
			rc_die("bad option", opt);
	}
	rc_unescape(colon + 1, &payload);
	m->payload = payload.data;
	m->plen = (uint32_t)payload.len;
	if (!len_set)
		m->hdr.len = m->plen;
	free(head);
}

static void
rc_write_all(const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = send(rc_fd, c, rc_slow ? 1 : len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/* The server closed the connection (e.g. a bad header). */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			printf("EOF\n");
			exit(0);
		}
		if (n < 0) {
			printf("SENDERR %s\n", strerror(errno));
			exit(1);
		}
		c += n;
		len -= (size_t)n;
		if (rc_slow)
			usleep(1000);
	}
}

static void
rc_send(struct rc_msg *m)
{
	if (m->tx_last)
		m->hdr.tx_id = rc_last_tx;
	if (m->hdr.req_id == 0)
		m->hdr.req_id = rc_next_req++;
	rc_write_all(&m->hdr, sizeof(m->hdr));
	rc_write_all(m->payload, m->plen);
}

/*
 * Reads exactly len bytes. Returns 1, 0 on EOF (prints it), -1 on timeout
 * (prints it).
 */
static int
rc_read_all(void *p, size_t len)
{
	char *c = p;

	while (len) {
		struct pollfd pfd = { .fd = rc_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, rc_wait_ms) == 0) {
			printf("TIMEOUT\n");
			return -1;
		}
		n = read(rc_fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			printf("EOF\n");
			return 0;
		}
		c += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Reads one message into hdr/payload (payload: 64 KiB). */
static int
rc_recv(struct xsd_sockmsg *hdr, char *payload)
{
	int rc = rc_read_all(hdr, sizeof(*hdr));

	if (rc <= 0)
		return rc;
	if (hdr->len > 65536) {
		printf("BADLEN %u\n", hdr->len);
		return -1;
	}
	return rc_read_all(payload, hdr->len);
}

static void
rc_exit_on(int rc)
{
	if (rc == 0)
		exit(0);
	if (rc < 0)
		exit(1);
}

/* Reads until a reply (not an event) arrives; prints unless quiet. */
static void
rc_reply(struct xsd_sockmsg *hdr, char *payload, bool quiet)
{
	for (;;) {
		rc_exit_on(rc_recv(hdr, payload));
		if (hdr->type == XS_WATCH_EVENT) {
			rc_print(hdr, payload, 1);
			continue;
		}
		if (hdr->type == XS_TRANSACTION_START && hdr->len > 0) {
			unsigned long v;

			payload[hdr->len - 1] = '\0';
			if (parse_uint(payload, UINT32_MAX, &v) == 0)
				rc_last_tx = (uint32_t)v;
		}
		if (!quiet)
			rc_print(hdr, payload, 1);
		return;
	}
}

/* COUNT copies: send while reading, print runs of identical replies. */
static void
rc_send_many(struct rc_msg *m, char *payload)
{
	struct xsd_sockmsg hdr, run_hdr = { 0 };
	char *run = xmalloc(65536);
	unsigned long sent = 0, got = 0, run_n = 0;

	while (got < m->count) {
		struct pollfd pfd = { .fd = rc_fd, .events = POLLIN };

		if (sent < m->count && sent - got < 64)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, rc_wait_ms) == 0) {
			printf("TIMEOUT\n");
			exit(1);
		}
		if ((pfd.revents & POLLOUT) && sent < m->count) {
			m->hdr.req_id = 0;
			rc_send(m);
			sent++;
			continue;
		}
		rc_reply(&hdr, payload, true);
		got++;
		if (run_n && (hdr.type != run_hdr.type ||
			      hdr.len != run_hdr.len ||
			      memcmp(payload, run, hdr.len) != 0)) {
			rc_print(&run_hdr, run, run_n);
			run_n = 0;
		}
		if (run_n == 0) {
			run_hdr = hdr;
			memcpy(run, payload, hdr.len);
		}
		run_n++;
	}
	if (run_n)
		rc_print(&run_hdr, run, run_n);
	free(run);
}

static void
rc_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path))
		rc_die("socket path too long", path);
	strcpy(sun.sun_path, path);
	rc_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rc_fd < 0 ||
	    connect(rc_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		printf("CONNERR %s\n", strerror(errno));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	char *payload = xmalloc(65536);
	struct xsd_sockmsg hdr;
	bool no_read = false;
	double secs;
	int opt;

	while ((opt = getopt(argc, argv, "niw:s")) != -1) {
		switch (opt) {
		case 'n':
			no_read = true;
			break;
		case 'i':
			rc_ids = true;
			break;
		case 's':
			rc_slow = true;
			break;
		case 'w':
			secs = atof(optarg);
			if (secs <= 0)
				rc_die("bad -w", optarg);
			rc_wait_ms = (int)(secs * 1000);
			break;
		default:
			rc_die("usage: rawclient [-n] [-i] [-s] [-w SECS] "
			       "SOCKET SPEC...", NULL);
		}
	}
	if (optind >= argc)
		rc_die("no socket given", NULL);
	signal(SIGPIPE, SIG_IGN);
	rc_connect(argv[optind++]);
	if (no_read)
		alarm((unsigned int)((rc_wait_ms + 999) / 1000));
	for (int i = optind; i < argc; i++) {
		const char *spec = argv[i];
		struct rc_msg m;

		if (strncmp(spec, "sleep:", 6) == 0) {
			struct timespec ts;

			secs = atof(spec + 6);
			ts.tv_sec = (time_t)secs;
			ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
			continue;
		}
		if (strncmp(spec, "events:", 7) == 0) {
			for (long n = atol(spec + 7); n > 0; n--) {
				rc_exit_on(rc_recv(&hdr, payload));
				rc_print(&hdr, payload, 1);
			}
			continue;
		}
		rc_parse(spec, &m);
		if (no_read) {
			for (unsigned long k = 0; k < m.count; k++) {
				m.hdr.req_id = 0;
				rc_send(&m);
			}
		} else if (m.count > 1) {
			rc_send_many(&m, payload);
		} else {
			rc_send(&m);
			rc_reply(&hdr, payload, false);
		}
		free(m.payload);
	}
	if (no_read)
		pause();
	free(payload);
	close(rc_fd);
	return 0;
}
