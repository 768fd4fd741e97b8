/*
 * export --json and import --json: a state as a JSON document.
 *
 *   {
 *     "format": "lxenstore-inspect",
 *     "version": 1,
 *     "seq": 42,
 *     "nodes": [
 *       {"path": "/", "value": "", "perms": ["n0"]},
 *       {"path": "/bin", "value_base64": "AP8=", "perms": ["b0", "r5"]},
 *       ...
 *     ],
 *     "quotas": [
 *       {"name": "nodes", "value": 1000},
 *       {"domid": 5, "name": "memory", "value": 4096, "soft": true},
 *       ...
 *     ]
 *   }
 *
 * Nodes come in the walk's pre-order (a parent before its children), the
 * special nodes last; perms are the wire strings, owner first. A value that
 * is valid UTF-8 without a NUL byte is written as "value", a JSON string
 * (quote, backslash and control characters escaped, DEL as \u007f);
 * anything else as "value_base64" (RFC 4648, padded). NUL is excluded
 * because many JSON readers stop at it. The quotas are every global value
 * and the per-domain values set explicitly; "seq" is the last log record
 * the state includes.
 *
 * import reads such a document (keys in any order, unknown keys ignored),
 * builds the store with store_apply as a snapshot load does, and installs
 * it with snap_write into an empty directory, with the boot id the daemon
 * will check, so that lxenstored starts from it. A node's parent must come
 * before it. The export is written as the walk goes; the import reads the
 * file into memory once.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/inspect.h"

#define INSPECT_JSON_FORMAT	"lxenstore-inspect"
#define INSPECT_JSON_VERSION	1
#define INSPECT_JSON_DEPTH	64
#define INSPECT_BOOT_ID		"/proc/sys/kernel/random/boot_id"

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* --- writing ------------------------------------------------------------------ */

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without NUL. */
static bool
inspect_json_text(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t more;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return false;
		}
		if (n - i - 1 < more || p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		i += more + 1;
	}
	return true;
}

static void
inspect_json_raw(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
inspect_json_string(struct buf *b, const char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			buf_add(b, "\\\"", 2);
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			break;
		case '\n':
			buf_add(b, "\\n", 2);
			break;
		case '\r':
			buf_add(b, "\\r", 2);
			break;
		case '\t':
			buf_add(b, "\\t", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(b, "\\u%04x", c);
			else
				buf_add(b, &c, 1);
			break;
		}
	}
	buf_add(b, "\"", 1);
}

static void
inspect_json_base64(struct buf *b, const unsigned char *p, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char out[4];

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[0] = b64_chars[v >> 18 & 63];
		out[1] = b64_chars[v >> 12 & 63];
		out[2] = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
		out[3] = i + 2 < n ? b64_chars[v & 63] : '=';
		buf_add(b, out, 4);
	}
	buf_add(b, "\"", 1);
}

struct export_ctx {
	bool first;
	struct buf line;
	struct buf perm;
};

static int
inspect_export_node(void *arg, const char *path, const void *value,
		    uint32_t len, const struct store_perm *perms,
		    uint32_t nperms)
{
	struct export_ctx *c = arg;
	struct buf *b = &c->line;

	buf_reset(b);
	inspect_json_raw(b, c->first ? "\n    {\"path\": " : ",\n    {\"path\": ");
	c->first = false;
	inspect_json_string(b, path, strlen(path));
	if (inspect_json_text(value, len)) {
		inspect_json_raw(b, ", \"value\": ");
		inspect_json_string(b, value, len);
	} else {
		inspect_json_raw(b, ", \"value_base64\": ");
		inspect_json_base64(b, value, len);
	}
	inspect_json_raw(b, ", \"perms\": [");
	for (uint32_t i = 0; i < nperms; i++) {
		buf_reset(&c->perm);
		store_perm_format(&perms[i], &c->perm);
		if (i)
			inspect_json_raw(b, ", ");
		inspect_json_string(b, c->perm.data, c->perm.len);
	}
	inspect_json_raw(b, "]}");
	fwrite(b->data, 1, b->len, stdout);
	return ferror(stdout) ? -EIO : 0;
}

struct export_quotas {
	const struct store *s;
	bool first;
};

static void
inspect_export_quota(struct export_quotas *q, uint32_t domid, int idx,
		     bool soft, uint32_t value)
{
	printf("%s\n    {", q->first ? "" : ",");
	q->first = false;
	if (domid != STORE_DOMID_GLOBAL)
		printf("\"domid\": %u, ", domid);
	printf("\"name\": \"%s\", \"value\": %u%s}",
	       store_quota_name((enum store_quota)idx), value,
	       soft ? ", \"soft\": true" : "");
}

static void
inspect_export_quotas_of(void *arg, uint32_t domid)
{
	struct export_quotas *q = arg;
	uint32_t v;

	for (int i = 0; i < STORE_QUOTA_COUNT; i++)
		if (store_quota_get_own(q->s, domid, (enum store_quota)i, false,
					&v) == 0)
			inspect_export_quota(q, domid, i, false, v);
	if (store_quota_get_own(q->s, domid, STORE_QUOTA_MEMORY, true, &v) == 0)
		inspect_export_quota(q, domid, STORE_QUOTA_MEMORY, true, v);
}

int
inspect_cmd_export(struct inspect *in, const struct inspect_point *at,
		   int argc, char **argv)
{
	struct export_ctx c = { .first = true };
	struct export_quotas q = { .first = true };
	struct inspect_state *st = NULL;
	int rc;

	if (argc != 2 || strcmp(argv[1], "--json") != 0)
		return inspect_usage("export");
	rc = inspect_state_open_at(in, at, false, &st);
	if (rc < 0)
		return INSPECT_EXIT_FAIL;
	printf("{\n  \"format\": \"%s\",\n  \"version\": %d,\n"
	       "  \"seq\": %" PRIu64 ",\n  \"nodes\": [", INSPECT_JSON_FORMAT,
	       INSPECT_JSON_VERSION, st->seq);
	rc = inspect_state_walk(in, st, inspect_export_node, &c);
	if (rc == 0) {
		printf("\n  ],\n  \"quotas\": [");
		q.s = inspect_state_quotas(st);
		inspect_export_quotas_of(&q, STORE_DOMID_GLOBAL);
		store_foreach_domain(q.s, inspect_export_quotas_of, &q);
		printf("\n  ]\n}\n");
	}
	buf_free(&c.line);
	buf_free(&c.perm);
	inspect_state_free(st);
	if (rc < 0)
		return INSPECT_EXIT_FAIL;
	return in->status;
}

/* --- reading ------------------------------------------------------------------ */

struct json {
	const char *start;
	const char *p;
	const char *end;
	const char *file;
	char *err;			/* the first error, with its line */
};

static int __attribute__((format(printf, 3, 4)))
inspect_json_fail_at(struct json *j, const char *at, const char *fmt, ...)
{
	unsigned long line = 1;
	va_list ap;
	char *msg;

	if (j->err)
		return -EINVAL;
	for (const char *q = j->start; q < at && q < j->end; q++)
		line += *q == '\n';
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	j->err = xasprintf("%s: line %lu: %s", j->file, line,
			   msg ? msg : "invalid JSON");
	free(msg);
	return -EINVAL;
}

#define inspect_json_fail(j, ...) inspect_json_fail_at((j), (j)->p, __VA_ARGS__)

static void
inspect_json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Consumes c after blanks, or fails. */
static int
inspect_json_expect(struct json *j, char c)
{
	inspect_json_ws(j);
	if (j->p == j->end || *j->p != c)
		return inspect_json_fail(j, "expected '%c'", c);
	j->p++;
	return 0;
}

/* Consumes c after blanks if it is there. */
static bool
inspect_json_accept(struct json *j, char c)
{
	inspect_json_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

static int
inspect_json_hex4(struct json *j, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, j->p++) {
		char c = j->p < j->end ? *j->p : '\0';

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return inspect_json_fail(j, "bad \\u escape");
	}
	return 0;
}

static void
inspect_json_utf8_put(struct buf *out, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(out, u, n);
}

/* A string's bytes into out (reset first), NUL-terminated beyond out->len. */
static int
inspect_json_str(struct json *j, struct buf *out)
{
	int rc = inspect_json_expect(j, '"');

	buf_reset(out);
	while (rc == 0) {
		const char *run = j->p;
		uint32_t cp, lo;

		while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
		       (unsigned char)*j->p >= 0x20)
			j->p++;
		buf_add(out, run, (size_t)(j->p - run));
		if (j->p == j->end)
			return inspect_json_fail(j, "unterminated string");
		if (*j->p == '"') {
			j->p++;
			break;
		}
		if (*j->p != '\\')
			return inspect_json_fail(j, "control character in a "
						 "string");
		if (++j->p == j->end)
			return inspect_json_fail(j, "unterminated string");
		switch (*j->p++) {
		case '"':
			buf_add(out, "\"", 1);
			break;
		case '\\':
			buf_add(out, "\\", 1);
			break;
		case '/':
			buf_add(out, "/", 1);
			break;
		case 'b':
			buf_add(out, "\b", 1);
			break;
		case 'f':
			buf_add(out, "\f", 1);
			break;
		case 'n':
			buf_add(out, "\n", 1);
			break;
		case 'r':
			buf_add(out, "\r", 1);
			break;
		case 't':
			buf_add(out, "\t", 1);
			break;
		case 'u':
			rc = inspect_json_hex4(j, &cp);
			if (rc == 0 && cp >= 0xd800 && cp < 0xdc00) {
				if (j->end - j->p < 2 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return inspect_json_fail(j, "lone surrogate");
				j->p += 2;
				rc = inspect_json_hex4(j, &lo);
				if (rc == 0 && (lo < 0xdc00 || lo > 0xdfff))
					return inspect_json_fail(j, "lone surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (rc == 0 && cp >= 0xdc00 && cp <= 0xdfff) {
				return inspect_json_fail(j, "lone surrogate");
			}
			if (rc == 0)
				inspect_json_utf8_put(out, cp);
			break;
		default:
			return inspect_json_fail(j, "bad escape");
		}
	}
	buf_reserve(out, 1)[0] = '\0';
	return rc;
}

/* A non-negative integer no larger than max. */
static int
inspect_json_uint(struct json *j, uint64_t max, uint64_t *v)
{
	const char *s;

	inspect_json_ws(j);
	s = j->p;
	*v = 0;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		unsigned int d = (unsigned int)(*j->p++ - '0');

		if (*v > (max - d) / 10)
			return inspect_json_fail_at(j, s, "number too large");
		*v = *v * 10 + d;
	}
	if (j->p == s || (j->p - s > 1 && *s == '0') ||
	    (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')))
		return inspect_json_fail_at(j, s, "expected a non-negative "
					    "integer");
	return 0;
}

static int
inspect_json_word(struct json *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return inspect_json_fail(j, "unexpected value");
	j->p += n;
	return 0;
}

static int
inspect_json_bool(struct json *j, bool *v)
{
	inspect_json_ws(j);
	*v = j->p < j->end && *j->p == 't';
	return inspect_json_word(j, *v ? "true" : "false");
}

/* Skips any value (an unknown key's). */
static int
inspect_json_skip(struct json *j, int depth)
{
	struct buf tmp = { 0 };
	uint64_t v;
	int rc = 0;

	if (depth > INSPECT_JSON_DEPTH)
		return inspect_json_fail(j, "nested too deeply");
	inspect_json_ws(j);
	if (j->p == j->end)
		return inspect_json_fail(j, "unexpected end");
	switch (*j->p) {
	case '"':
		rc = inspect_json_str(j, &tmp);
		break;
	case '{':
		j->p++;
		if (inspect_json_accept(j, '}'))
			break;
		do {
			rc = inspect_json_str(j, &tmp);
			if (rc == 0)
				rc = inspect_json_expect(j, ':');
			if (rc == 0)
				rc = inspect_json_skip(j, depth + 1);
		} while (rc == 0 && inspect_json_accept(j, ','));
		if (rc == 0)
			rc = inspect_json_expect(j, '}');
		break;
	case '[':
		j->p++;
		if (inspect_json_accept(j, ']'))
			break;
		do
			rc = inspect_json_skip(j, depth + 1);
		while (rc == 0 && inspect_json_accept(j, ','));
		if (rc == 0)
			rc = inspect_json_expect(j, ']');
		break;
	case 't':
		rc = inspect_json_word(j, "true");
		break;
	case 'f':
		rc = inspect_json_word(j, "false");
		break;
	case 'n':
		rc = inspect_json_word(j, "null");
		break;
	default:
		if (*j->p == '-')
			j->p++;
		rc = inspect_json_uint(j, UINT64_MAX, &v);
		if (rc == 0 && j->p < j->end && *j->p == '.') {
			j->p++;
			rc = inspect_json_uint(j, UINT64_MAX, &v);
		}
		break;
	}
	buf_free(&tmp);
	return rc;
}

/* Calls member(key) for each member of an object; member parses the value. */
static int
inspect_json_object(struct json *j,
		    int (*member)(struct json *j, const char *key, void *arg),
		    void *arg)
{
	struct buf key = { 0 };
	int rc = inspect_json_expect(j, '{');

	if (rc == 0 && !inspect_json_accept(j, '}')) {
		do {
			rc = inspect_json_str(j, &key);
			if (rc == 0)
				rc = inspect_json_expect(j, ':');
			if (rc == 0)
				rc = member(j, key.data, arg);
		} while (rc == 0 && inspect_json_accept(j, ','));
		if (rc == 0)
			rc = inspect_json_expect(j, '}');
	}
	buf_free(&key);
	return rc;
}

static int
inspect_json_array(struct json *j, int (*elem)(struct json *j, void *arg),
		   void *arg)
{
	int rc = inspect_json_expect(j, '[');

	if (rc == 0 && !inspect_json_accept(j, ']')) {
		do
			rc = elem(j, arg);
		while (rc == 0 && inspect_json_accept(j, ','));
		if (rc == 0)
			rc = inspect_json_expect(j, ']');
	}
	return rc;
}

static int
inspect_base64_value(int c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

/* Decodes padded base64 in place of out. */
static int
inspect_base64_decode(const char *in, size_t n, struct buf *out)
{
	buf_reset(out);
	if (n % 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		unsigned char o[3];
		size_t keep = 3;

		for (int k = 0; k < 4; k++) {
			v[k] = inspect_base64_value((unsigned char)in[i + k]);
			if (v[k] < 0 && !(in[i + k] == '=' && i + 4 == n && k >= 2))
				return -EINVAL;
		}
		if (v[2] < 0 && v[3] >= 0)
			return -EINVAL;
		keep = v[2] < 0 ? 1 : v[3] < 0 ? 2 : 3;
		o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		o[1] = (unsigned char)((v[1] & 15) << 4 | (v[2] < 0 ? 0 : v[2] >> 2));
		o[2] = (unsigned char)(((v[2] < 0 ? 0 : v[2]) & 3) << 6 |
				       (v[3] < 0 ? 0 : v[3]));
		buf_add(out, o, keep);
	}
	return 0;
}

struct import_ctx {
	struct store *s;
	uint64_t seq;
	bool format, version;
	uint64_t nodes;
	uint64_t quotas;
	/* The node being read. */
	const char *node_at;
	struct buf path;
	struct buf value;
	struct buf tmp;
	bool has_path, has_value;
	struct store_perm *perms;
	uint32_t nperms, capperms;
	/* The quota being read. */
	struct buf qname;
	uint64_t qdomid, qvalue;
	bool qhas_name, qhas_domid, qhas_value, qsoft;
};

static int
inspect_import_perm(struct json *j, void *arg)
{
	struct import_ctx *c = arg;
	const char *at;
	int rc;

	inspect_json_ws(j);
	at = j->p;
	rc = inspect_json_str(j, &c->tmp);
	if (rc < 0)
		return rc;
	if (c->nperms == c->capperms) {
		c->capperms = c->capperms ? c->capperms * 2 : 8;
		c->perms = xrealloc(c->perms, c->capperms * sizeof(*c->perms));
	}
	if (strlen(c->tmp.data) != c->tmp.len ||
	    store_perm_parse(c->tmp.data, &c->perms[c->nperms]) < 0)
		return inspect_json_fail_at(j, at, "bad permission \"%s\"",
					    c->tmp.data);
	c->nperms++;
	return 0;
}

static int
inspect_import_node_member(struct json *j, const char *key, void *arg)
{
	struct import_ctx *c = arg;
	const char *at;
	int rc;

	if (strcmp(key, "path") == 0) {
		c->has_path = true;
		return inspect_json_str(j, &c->path);
	}
	if (strcmp(key, "value") == 0) {
		c->has_value = true;
		return inspect_json_str(j, &c->value);
	}
	if (strcmp(key, "value_base64") == 0) {
		c->has_value = true;
		inspect_json_ws(j);
		at = j->p;
		rc = inspect_json_str(j, &c->tmp);
		if (rc == 0 && inspect_base64_decode(c->tmp.data, c->tmp.len,
						     &c->value) < 0)
			rc = inspect_json_fail_at(j, at, "bad base64");
		return rc;
	}
	if (strcmp(key, "perms") == 0) {
		c->nperms = 0;
		return inspect_json_array(j, inspect_import_perm, c);
	}
	return inspect_json_skip(j, 1);
}

static int
inspect_import_node(struct json *j, void *arg)
{
	struct import_ctx *c = arg;
	struct store_op op = { .kind = STORE_OP_PUT };
	struct store_mutation m = { .nops = 1, .ops = &op };
	int rc;

	inspect_json_ws(j);
	c->node_at = j->p;
	c->has_path = c->has_value = false;
	c->nperms = 0;
	rc = inspect_json_object(j, inspect_import_node_member, c);
	if (rc < 0)
		return rc;
	if (!c->has_path || c->nperms == 0)
		return inspect_json_fail_at(j, c->node_at, "a node needs "
					    "\"path\" and \"perms\"");
	if (strlen(c->path.data) != c->path.len)
		return inspect_json_fail_at(j, c->node_at, "NUL in a path");
	op.path = c->path.data;
	op.value = c->has_value ? c->value.data : "";
	op.len = c->has_value ? (uint32_t)c->value.len : 0;
	op.perms = c->perms;
	op.nperms = c->nperms;
	if (store_apply(c->s, &m) < 0)
		return inspect_json_fail_at(j, c->node_at, "node %s: invalid "
					    "path, or its parent is missing "
					    "(parents must come first)",
					    c->path.data);
	c->nodes++;
	return 0;
}

static int
inspect_import_quota_member(struct json *j, const char *key, void *arg)
{
	struct import_ctx *c = arg;

	if (strcmp(key, "name") == 0) {
		c->qhas_name = true;
		return inspect_json_str(j, &c->qname);
	}
	if (strcmp(key, "domid") == 0) {
		c->qhas_domid = true;
		return inspect_json_uint(j, UINT32_MAX - 1, &c->qdomid);
	}
	if (strcmp(key, "value") == 0) {
		c->qhas_value = true;
		return inspect_json_uint(j, UINT32_MAX - 1, &c->qvalue);
	}
	if (strcmp(key, "soft") == 0)
		return inspect_json_bool(j, &c->qsoft);
	return inspect_json_skip(j, 1);
}

static int
inspect_import_quota(struct json *j, void *arg)
{
	struct import_ctx *c = arg;
	const char *at;
	int idx, rc;

	inspect_json_ws(j);
	at = j->p;
	c->qhas_name = c->qhas_domid = c->qhas_value = c->qsoft = false;
	rc = inspect_json_object(j, inspect_import_quota_member, c);
	if (rc < 0)
		return rc;
	if (!c->qhas_name || !c->qhas_value)
		return inspect_json_fail_at(j, at, "a quota needs \"name\" "
					    "and \"value\"");
	idx = store_quota_lookup(c->qname.data);
	if (idx < 0) {
		/* A newer writer's quota: skipped, as snapshots skip it. */
		inspect_note("%s: unknown quota \"%s\" skipped", j->file,
			     c->qname.data);
		return 0;
	}
	if (store_quota_set(c->s, c->qhas_domid ? (uint32_t)c->qdomid :
						  STORE_DOMID_GLOBAL,
			    (enum store_quota)idx, c->qsoft,
			    (uint32_t)c->qvalue) < 0)
		return inspect_json_fail_at(j, at, "bad quota \"%s\"",
					    c->qname.data);
	c->quotas++;
	return 0;
}

static int
inspect_import_member(struct json *j, const char *key, void *arg)
{
	struct import_ctx *c = arg;
	uint64_t v;
	int rc;

	if (strcmp(key, "format") == 0) {
		rc = inspect_json_str(j, &c->tmp);
		if (rc == 0 && strcmp(c->tmp.data, INSPECT_JSON_FORMAT) != 0)
			rc = inspect_json_fail(j, "format is not \"%s\"",
					       INSPECT_JSON_FORMAT);
		c->format = true;
		return rc;
	}
	if (strcmp(key, "version") == 0) {
		rc = inspect_json_uint(j, UINT32_MAX, &v);
		if (rc == 0 && v != INSPECT_JSON_VERSION)
			rc = inspect_json_fail(j, "unknown version %" PRIu64, v);
		c->version = true;
		return rc;
	}
	if (strcmp(key, "seq") == 0)
		return inspect_json_uint(j, UINT64_MAX - 1, &c->seq);
	if (strcmp(key, "nodes") == 0)
		return inspect_json_array(j, inspect_import_node, c);
	if (strcmp(key, "quotas") == 0)
		return inspect_json_array(j, inspect_import_quota, c);
	return inspect_json_skip(j, 1);
}

/* Nothing in dir, or it does not exist yet (then it is made). */
static int
inspect_import_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL && errno == ENOENT) {
		if (mkdir(dir, 0700) == 0)
			return 0;
		rc = -errno;
		inspect_error("%s: %s", dir, strerror(errno));
		return rc;
	}
	if (d == NULL) {
		rc = -errno;
		inspect_error("%s: %s", dir, strerror(errno));
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = -EEXIST;
	closedir(d);
	if (rc < 0)
		inspect_error("%s: not empty; import writes only into an empty "
			      "directory", dir);
	return rc;
}

/* Writes <dir>/boot-id, as lxenstored checks it at start. */
static int
inspect_import_boot_id(const char *dir, const char *from)
{
	char line[128] = "";
	char *tmp = xasprintf("%s/boot-id.tmp", dir);
	char *path = xasprintf("%s/boot-id", dir);
	FILE *f = fopen(from, "re");
	int fd, rc = 0;

	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
		rc = f ? -EINVAL : -errno;
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (rc == 0 && line[0] == '\0')
		rc = -EINVAL;
	if (rc < 0) {
		inspect_error("%s: cannot read a boot id: %s", from,
			      strerror(-rc));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", line) < 0 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(dir);
	if (rc < 0) {
		inspect_error("%s: %s", path, strerror(-rc));
		unlink(tmp);
	}
out:
	free(tmp);
	free(path);
	return rc;
}

static void
inspect_import_release(struct import_ctx *c)
{
	buf_free(&c->path);
	buf_free(&c->value);
	buf_free(&c->tmp);
	buf_free(&c->qname);
	free(c->perms);
	store_free(c->s);
}

int
inspect_cmd_import(struct inspect *in, const struct inspect_point *at,
		   int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_DIR, OPT_BOOT };
	static const struct option opts[] = {
		{ "json", required_argument, NULL, OPT_JSON },
		{ "state-dir", required_argument, NULL, OPT_DIR },
		{ "boot-id-file", required_argument, NULL, OPT_BOOT },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *dir = in->state_dir, *boot = INSPECT_BOOT_ID;
	struct import_ctx c = { 0 };
	struct snap_info info = { 0 };
	struct buf data = { 0 };
	struct json j = { 0 };
	int opt, rc;

	(void)at;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == OPT_JSON)
			file = optarg;
		else if (opt == OPT_DIR)
			dir = optarg;
		else if (opt == OPT_BOOT)
			boot = optarg;
		else
			return inspect_usage("import");
	}
	if (file == NULL || dir == NULL || optind != argc || in->nfiles)
		return inspect_usage("import");
	rc = inspect_read_all(file, &data);
	if (rc < 0) {
		inspect_error("%s: %s", file, strerror(-rc));
		buf_free(&data);
		return INSPECT_EXIT_FAIL;
	}
	j.start = j.p = data.data ? data.data : "";
	j.end = j.start + data.len;
	j.file = file;
	c.s = inspect_store_new(NULL);
	inspect_progress_begin(in, "importing: nodes", 0);
	rc = inspect_json_object(&j, inspect_import_member, &c);
	inspect_progress_end();
	inspect_json_ws(&j);
	if (rc == 0 && j.p != j.end)
		rc = inspect_json_fail(&j, "data after the document");
	if (rc == 0 && (!c.format || !c.version))
		rc = inspect_json_fail_at(&j, j.start, "not an %s export "
					  "(\"format\" and \"version\" missing)",
					  INSPECT_PROG);
	if (rc < 0) {
		inspect_error("%s", j.err ? j.err : "invalid JSON");
		free(j.err);
		goto out;
	}
	rc = inspect_import_dir(dir);
	if (rc == 0) {
		rc = snap_write(c.s, NULL, c.seq, dir, &info);
		if (rc < 0)
			inspect_error("%s: writing the snapshot: %s", dir,
				      strerror(-rc));
	}
	if (rc == 0) {
		rc = inspect_import_boot_id(dir, boot);
		if (rc < 0)
			unlink(info.path);
	}
	if (rc == 0)
		printf("%s: %" PRIu64 " nodes, %" PRIu64 " quotas, seq %" PRIu64
		       "\n", info.path, info.nodes, c.quotas, c.seq);
	snap_info_release(&info);
out:
	inspect_import_release(&c);
	buf_free(&data);
	return rc < 0 ? INSPECT_EXIT_FAIL : INSPECT_EXIT_OK;
}
