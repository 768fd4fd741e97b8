/*
 * log: daemon messages and the access log.
 *
 * Daemon messages go to syslog (LOG_DAEMON), or to stderr in the foreground.
 * The access log (--access-log FILE, cxenstored's -T trace) holds one line
 * per message:
 *
 *   20250101 12:00:00.123 c3 IN  READ r7 t0 (/tool/xenstored )
 *   <date>   <time>       conn dir type req tx (payload)
 *
 * with NULs shown as spaces and other control bytes as '.'. Each line is
 * one write(2). When a line would take the file past max_size bytes, the
 * file is rotated: FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1, and a
 * new FILE is started (keep 0: FILE is simply truncated). The state is
 * file-static: there is one daemon log per process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "server/server-int.h"

static bool log_foreground;

static struct {
	char *path;
	int fd;
	uint64_t size;
	uint64_t max_size;
	unsigned int keep;
} log_acc = { .fd = -1 };

void
log_open(const char *ident, bool foreground)
{
	log_foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_close(void)
{
	log_access_close();
	if (!log_foreground)
		closelog();
}

static void __attribute__((format(printf, 2, 0)))
log_vmsg(int prio, const char *fmt, va_list ap)
{
	if (log_foreground) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
}

/* ---- access log -------------------------------------------------------- */

static int
log_access_openfd(void)
{
	struct stat st;
	int fd;

	fd = open(log_acc.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		  0640);
	if (fd < 0) {
		int rc = -errno;

		log_err("log: open %s: %s", log_acc.path, strerror(-rc));
		return rc;
	}
	log_acc.fd = fd;
	log_acc.size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

int
log_access_open(const char *path, uint64_t max_size, unsigned int keep)
{
	char *copy;

	if (path == NULL) {
		log_access_close();
		return 0;
	}
	copy = xstrdup(path);
	log_access_close();
	log_acc.path = copy;
	log_acc.max_size = max_size;
	log_acc.keep = keep;
	return log_access_openfd();
}

int
log_access_reopen(void)
{
	if (log_acc.path == NULL)
		return 0;
	if (log_acc.fd >= 0)
		close(log_acc.fd);
	log_acc.fd = -1;
	return log_access_openfd();
}

void
log_access_close(void)
{
	if (log_acc.fd >= 0)
		close(log_acc.fd);
	log_acc.fd = -1;
	free(log_acc.path);
	log_acc.path = NULL;
}

bool
log_access_enabled(void)
{
	return log_acc.fd >= 0;
}

const char *
log_access_path(void)
{
	return log_acc.path;
}

static void
log_access_rotate(void)
{
	size_t n = strlen(log_acc.path) + 16;
	char *from = xmalloc(n), *to = xmalloc(n);

	close(log_acc.fd);
	log_acc.fd = -1;
	if (log_acc.keep == 0) {
		if (truncate(log_acc.path, 0) < 0)
			unlink(log_acc.path);
	} else {
		for (unsigned int i = log_acc.keep; i > 1; i--) {
			snprintf(from, n, "%s.%u", log_acc.path, i - 1);
			snprintf(to, n, "%s.%u", log_acc.path, i);
			rename(from, to);
		}
		snprintf(to, n, "%s.1", log_acc.path);
		rename(log_acc.path, to);
	}
	free(from);
	free(to);
	log_access_openfd();
}

static void
log_access_write(const struct buf *line)
{
	if (log_acc.max_size && log_acc.size > 0 &&
	    log_acc.size + line->len > log_acc.max_size)
		log_access_rotate();
	if (log_acc.fd < 0)
		return;
	if (write(log_acc.fd, line->data, line->len) == (ssize_t)line->len)
		log_acc.size += line->len;
}

static void
log_access_stamp(struct buf *b)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y%m%d %H:%M:%S", &tm);
	buf_printf(b, "%s.%03ld ", when, ts.tv_nsec / 1000000);
}

void
log_access_msg(uint32_t conn_id, const char *dir,
	       const struct xsd_sockmsg *hdr, const void *payload)
{
	const unsigned char *p = payload;
	const char *type = wire_type_name(hdr->type);
	struct buf line = { 0 };
	char *dst;

	if (log_acc.fd < 0)
		return;
	log_access_stamp(&line);
	buf_printf(&line, "c%u %-3s ", conn_id, dir);
	if (type)
		buf_printf(&line, "%s", type);
	else
		buf_printf(&line, "type%u", hdr->type);
	buf_printf(&line, " r%u t%u (", hdr->req_id, hdr->tx_id);
	dst = buf_reserve(&line, hdr->len + 2);
	for (uint32_t i = 0; i < hdr->len; i++)
		dst[i] = p[i] == '\0' ? ' ' : (p[i] < 0x20 || p[i] == 0x7f)
			 ? '.' : (char)p[i];
	dst[hdr->len] = ')';
	dst[hdr->len + 1] = '\n';
	line.len += hdr->len + 2;
	log_access_write(&line);
	buf_free(&line);
}

void
log_access_line(const char *fmt, ...)
{
	struct buf line = { 0 };
	va_list ap;
	char *msg;

	if (log_acc.fd < 0)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	log_access_stamp(&line);
	buf_printf(&line, "%s\n", msg);
	free(msg);
	log_access_write(&line);
	buf_free(&line);
}
