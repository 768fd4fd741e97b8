/*
 * What every command of lxenstore-inspect uses: one-line messages, UTC
 * times and points of the log, and the progress line on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/inspect.h"

/* --- messages ------------------------------------------------------------ */

static void
inspect_vmsg(const char *kind, const char *fmt, va_list ap)
{
	inspect_progress_end();
	fflush(stdout);
	fprintf(stderr, "%s: %s", INSPECT_PROG, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
inspect_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inspect_vmsg("", fmt, ap);
	va_end(ap);
}

void
inspect_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inspect_vmsg("note: ", fmt, ap);
	va_end(ap);
}

int
inspect_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		inspect_error("standard output: %s", strerror(errno));
		return INSPECT_EXIT_FAIL;
	}
	return INSPECT_EXIT_OK;
}

/* --- times and points ------------------------------------------------------ */

void
inspect_time_format(uint64_t ns, char out[INSPECT_TIME_LEN])
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(out, INSPECT_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, INSPECT_TIME_LEN - n, ".%06uZ",
		 (unsigned int)(ns % 1000000000u / 1000u));
}

/* Reads exactly n digits at *p into *v. */
static bool
inspect_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

/* ".123" -> nanoseconds; *p moves past the digits. */
static uint64_t
inspect_fraction(const char **p)
{
	uint64_t ns = 0, scale = 100000000u;

	if (**p != '.')
		return 0;
	for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
		ns += (uint64_t)(**p - '0') * scale;
	return ns;
}

int
inspect_time_parse(const char *s, uint64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = s;
	int64_t off = 0;
	uint64_t frac = 0;
	time_t sec;
	int y, mo, d, h = 0, mi = 0, se = 0;

	if (*p == '@') {
		unsigned long v = 0;
		const char *q = ++p;

		while (*q >= '0' && *q <= '9')
			q++;
		if (q == p || q - p > 12)
			return -EINVAL;
		for (; p < q; p++)
			v = v * 10 + (unsigned long)(*p - '0');
		frac = inspect_fraction(&p);
		if (*p != '\0')
			return -EINVAL;
		*ns = (uint64_t)v * 1000000000u + frac;
		return 0;
	}
	if (!inspect_digits(&p, 4, &y) || *p++ != '-' ||
	    !inspect_digits(&p, 2, &mo) || *p++ != '-' ||
	    !inspect_digits(&p, 2, &d))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!inspect_digits(&p, 2, &h) || *p++ != ':' ||
		    !inspect_digits(&p, 2, &mi))
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (!inspect_digits(&p, 2, &se))
				return -EINVAL;
			frac = inspect_fraction(&p);
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if (!inspect_digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (!inspect_digits(&p, 2, &om))
			return -EINVAL;
		off = sign * (int64_t)(oh * 3600 + om * 60);
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60 || y < 1970)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	sec = timegm(&tm);
	if (sec == (time_t)-1 || (int64_t)sec - off < 0)
		return -EINVAL;
	*ns = (uint64_t)((int64_t)sec - off) * 1000000000u + frac;
	return 0;
}

int
inspect_point_parse(const char *s, struct inspect_point *p)
{
	unsigned long v;

	if (strcmp(s, "latest") == 0) {
		p->kind = INSPECT_AT_LATEST;
		p->value = INSPECT_SEQ_ALL;
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9' && parse_uint(s, ULONG_MAX, &v) == 0) {
		p->kind = INSPECT_AT_SEQ;
		p->value = v;
		return 0;
	}
	p->kind = INSPECT_AT_TIME;
	return inspect_time_parse(s, &p->value);
}

/* --- progress -------------------------------------------------------------- */

/*
 * File-static because the decoding hooks (inspect-tap.c) report progress
 * from inside the libraries, where no context reaches them.
 */
static struct {
	bool on;
	bool drawn;
	char what[64];
	uint64_t total;
	uint64_t done;
	uint64_t next_ns;
	uint32_t calls;
} progress;

#define INSPECT_BAR_WIDTH	30

static void
inspect_progress_draw(void)
{
	if (progress.total) {
		uint64_t done = progress.done < progress.total ? progress.done :
								 progress.total;
		unsigned int fill = (unsigned int)(done * INSPECT_BAR_WIDTH /
						   progress.total);
		char bar[INSPECT_BAR_WIDTH + 1];

		memset(bar, '#', fill);
		memset(bar + fill, '.', INSPECT_BAR_WIDTH - fill);
		bar[INSPECT_BAR_WIDTH] = '\0';
		fprintf(stderr, "\r%s [%s] %3u%%", progress.what, bar,
			(unsigned int)(done * 100 / progress.total));
	} else {
		fprintf(stderr, "\r%s %" PRIu64, progress.what, progress.done);
	}
	progress.drawn = true;
}

void
inspect_progress_begin(const struct inspect *in, const char *what,
		       uint64_t total)
{
	inspect_progress_end();
	if (!in->tty_err)
		return;
	progress.on = true;
	snprintf(progress.what, sizeof(progress.what), "%s", what);
	progress.total = total;
	progress.done = 0;
	progress.calls = 0;
	/* Quick operations finish before the first redraw and draw nothing. */
	progress.next_ns = mono_ns() + 200000000u;
}

void
inspect_progress_add(uint64_t n)
{
	uint64_t now;

	progress.done += n;
	if (!progress.on || (++progress.calls & 63) != 0)
		return;
	now = mono_ns();
	if (now < progress.next_ns)
		return;
	progress.next_ns = now + 100000000u;
	inspect_progress_draw();
}

void
inspect_progress_end(void)
{
	if (progress.drawn)
		fputs("\r\033[K", stderr);
	progress.on = false;
	progress.drawn = false;
}

int
inspect_read_all(const char *path, struct buf *out)
{
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) :
					  open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf_reserve(out, 1 << 20), 1 << 20);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	close(fd);
	return rc;
}
