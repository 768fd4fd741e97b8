/*
 * wire-fuzzer: the input side of the wire protocol fed arbitrary bytes.
 *
 * Input: byte 0 seeds how the stream is cut into reads, byte 1 picks the
 * caller for path checks; the rest is the byte stream a client sends.
 *
 * The stream is framed three ways by server/frame.c: all at once
 * (frame_in_feed), in reads of pseudo-random sizes through
 * frame_in_space/frame_in_commit (as conn.c does), and byte by byte. All
 * three must give exactly the messages of an independent reference framer
 * (16-byte header, len <= 4096, stop at the first larger len), with the
 * payload NUL-terminated and the oversized header reported after exactly
 * its 16 bytes.
 *
 * Each whole message's payload then goes through the decoders every
 * handler uses, each compared with a reference or a round trip:
 * wire_split and op_args (argument shapes), parse_uint (strict decimal),
 * store_perm_parse/store_perm_format, store_path_resolve (path rules and
 * the 3072-byte limit, for a privileged and an unprivileged caller) and
 * the error and type name tables.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fuzz/fuzz-util.h"
#include "server/server-int.h"

struct wf_msg {
	struct xsd_sockmsg hdr;
	const uint8_t *payload;	/* into the stream */
};

struct wf_result {
	struct wf_msg *msgs;
	unsigned int n, cap;
	bool too_big;		/* stopped at an oversized header */
	size_t consumed;	/* bytes taken, including that header */
};

static struct store *wf_store;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_open("lxs-wire-fuzzer", false);
	wf_store = store_new(NULL, NULL, 0);
	return 0;
}

static void
wf_add(struct wf_result *r, const struct xsd_sockmsg *h, const uint8_t *p)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->msgs = xrealloc(r->msgs, r->cap * sizeof(*r->msgs));
	}
	r->msgs[r->n].hdr = *h;
	r->msgs[r->n].payload = p;
	r->n++;
}

/* The reference: as simple as possible, no state machine. */
static void
wf_reference(const uint8_t *d, size_t len, struct wf_result *r)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	while (len - off >= LXS_HDR_SIZE) {
		struct xsd_sockmsg h;

		memcpy(&h, d + off, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			r->too_big = true;
			off += LXS_HDR_SIZE;
			break;
		}
		if (len - off - LXS_HDR_SIZE < h.len)
			break;
		wf_add(r, &h, d + off + LXS_HDR_SIZE);
		off += LXS_HDR_SIZE + h.len;
	}
	r->consumed = off;
}

/* Checks one message framed by frame.c against the reference's next one. */
static void
wf_check_msg(const struct frame_in *f, const struct wf_result *ref,
	     unsigned int i, const char *how)
{
	FZ_ASSERT(i < ref->n, "%s: message %u that the reference does not have",
		  how, i);
	FZ_ASSERT(memcmp(&f->hdr, &ref->msgs[i].hdr, LXS_HDR_SIZE) == 0,
		  "%s: header of message %u differs", how, i);
	FZ_ASSERT(f->got == LXS_HDR_SIZE + f->hdr.len,
		  "%s: message %u: got %u for len %u", how, i, f->got,
		  f->hdr.len);
	FZ_ASSERT(memcmp(f->payload, ref->msgs[i].payload, f->hdr.len) == 0,
		  "%s: payload of message %u differs", how, i);
	FZ_ASSERT(f->payload[f->hdr.len] == '\0',
		  "%s: payload of message %u not NUL-terminated", how, i);
}

/* Framing with frame_in_feed over chunks of at most step bytes (0: all). */
static void
wf_frame_feed(const uint8_t *d, size_t len, size_t step,
	      const struct wf_result *ref, const char *how)
{
	static struct frame_in f;
	unsigned int n = 0;
	size_t off = 0;
	bool too_big = false;

	frame_in_reset(&f);
	while (off < len && !too_big) {
		size_t chunk = step && len - off > step ? step : len - off;
		size_t used = 0, pos = 0;

		while (pos < chunk) {
			enum frame_status st;

			st = frame_in_feed(&f, d + off + pos, chunk - pos, &used);
			FZ_ASSERT(used > 0 && used <= chunk - pos,
				  "%s: feed used %zu of %zu", how, used,
				  chunk - pos);
			pos += used;
			if (st == FRAME_TOO_BIG) {
				FZ_ASSERT(f.got == LXS_HDR_SIZE,
					  "%s: too big after %u bytes", how,
					  f.got);
				too_big = true;
				break;
			}
			if (st == FRAME_DONE) {
				wf_check_msg(&f, ref, n++, how);
				frame_in_reset(&f);
			} else {
				FZ_ASSERT(pos == chunk,
					  "%s: MORE with input left", how);
			}
		}
		off += pos;
	}
	FZ_ASSERT(n == ref->n, "%s: %u messages, reference %u", how, n, ref->n);
	FZ_ASSERT(too_big == ref->too_big, "%s: too_big %d, reference %d", how,
		  too_big, ref->too_big);
	if (too_big)
		FZ_ASSERT(off == ref->consumed, "%s: consumed %zu, reference %zu",
			  how, off, ref->consumed);
}

/* Framing the way conn.c reads: ask for space, read some, commit. */
static void
wf_frame_commit(const uint8_t *d, size_t len, uint32_t seed,
		const struct wf_result *ref)
{
	static struct frame_in f;
	unsigned int n = 0;
	size_t off = 0;
	bool too_big = false;

	frame_in_reset(&f);
	while (off < len) {
		size_t want, got;
		void *dst = frame_in_space(&f, &want);
		enum frame_status st;

		FZ_ASSERT(want > 0 && want <= LXS_HDR_SIZE + XENSTORE_PAYLOAD_MAX,
			  "commit: space %zu", want);
		seed = seed * 1103515245u + 12345u;
		got = 1 + (seed >> 16) % want;
		if (got > len - off)
			got = len - off;
		memcpy(dst, d + off, got);
		off += got;
		st = frame_in_commit(&f, got);
		if (st == FRAME_TOO_BIG) {
			FZ_ASSERT(f.got == LXS_HDR_SIZE, "commit: too big at %u",
				  f.got);
			too_big = true;
			break;
		}
		if (st == FRAME_DONE) {
			wf_check_msg(&f, ref, n++, "commit");
			frame_in_reset(&f);
		}
	}
	FZ_ASSERT(n == ref->n, "commit: %u messages, reference %u", n, ref->n);
	FZ_ASSERT(too_big == ref->too_big, "commit: too_big %d", too_big);
	if (too_big)
		FZ_ASSERT(off == ref->consumed, "commit: consumed %zu", off);
}

/* ---- payload decoders ---------------------------------------------------- */

static bool
wf_digits_ok(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long long acc = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		acc = acc * 10 + (unsigned long long)(*s - '0');
		if (acc > max)
			return false;
	}
	*v = (unsigned long)acc;
	return true;
}

static void
wf_check_uint(const char *s)
{
	static const unsigned long maxes[] = { 65535, UINT32_MAX, ULONG_MAX };

	for (size_t i = 0; i < LXS_ARRAY_SIZE(maxes); i++) {
		unsigned long got = 0, want = 0;
		bool ok = wf_digits_ok(s, maxes[i], &want);
		int rc = parse_uint(s, maxes[i], &got);

		/* The reference overflows for ULONG_MAX: only compare below. */
		if (maxes[i] == ULONG_MAX && strlen(s) > 19)
			continue;
		FZ_ASSERT((rc == 0) == ok, "parse_uint(\"%.40s\", %lu) = %d", s,
			  maxes[i], rc);
		FZ_ASSERT(!ok || got == want, "parse_uint(\"%.40s\") = %lu, not %lu",
			  s, got, want);
	}
}

static void
wf_check_perm(const char *s)
{
	struct store_perm p, q;
	struct buf b = { 0 };

	if (store_perm_parse(s, &p) < 0)
		return;
	FZ_ASSERT(strchr("nrwb", s[0]) != NULL, "perm \"%.40s\" accepted", s);
	FZ_ASSERT(p.domid <= 65535 && p.bits <= STORE_PERM_BOTH,
		  "perm \"%.40s\": domid %u bits %u", s, p.domid, p.bits);
	store_perm_format(&p, &b);
	buf_add(&b, "", 1);
	FZ_ASSERT(store_perm_parse(b.data, &q) == 0 && q.domid == p.domid &&
		  q.bits == p.bits, "perm \"%.40s\" -> \"%s\" does not round-trip",
		  s, b.data);
	buf_free(&b);
}

/* The path rules of the protocol text, restated. */
static bool
wf_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
	       c == '@';
}

static void
wf_check_path(const char *s, const struct store_caller *who)
{
	for (int special = 0; special < 2; special++) {
		char *abs = NULL;
		int rc = store_path_resolve(wf_store, who, s, special, &abs);
		size_t len;

		if (rc < 0) {
			FZ_ASSERT(rc == -EINVAL, "resolve \"%.40s\": %d", s, rc);
			continue;
		}
		len = strlen(abs);
		FZ_ASSERT(len > 0 && len <= STORE_ABS_PATH_MAX,
			  "resolve \"%.40s\": %zu bytes", s, len);
		for (size_t i = 0; i < len; i++)
			FZ_ASSERT(wf_path_char(abs[i]), "resolve \"%.40s\": char %d",
				  s, abs[i]);
		if (abs[0] == '@') {
			FZ_ASSERT(special && strcmp(abs, s) == 0 && len > 1,
				  "special \"%.40s\" accepted", s);
		} else {
			FZ_ASSERT(abs[0] == '/', "resolve \"%.40s\" -> \"%.40s\"",
				  s, abs);
			FZ_ASSERT(strstr(abs, "//") == NULL &&
				  (len == 1 || abs[len - 1] != '/'),
				  "resolve \"%.40s\" -> \"%.40s\"", s, abs);
			if (s[0] == '/') {
				FZ_ASSERT(strcmp(abs, s) == 0,
					  "absolute \"%.40s\" changed", s);
			} else {
				char *want = xasprintf("/local/domain/%u/%s",
						       who->domid, s);

				FZ_ASSERT(strcmp(abs, want) == 0,
					  "relative \"%.40s\" -> \"%.40s\"", s,
					  abs);
				free(want);
			}
		}
		free(abs);
	}
}

static void
wf_check_payload(const struct xsd_sockmsg *h, const char *payload,
		 const struct store_caller *who)
{
	const char *argv[8];
	uint32_t tail = 0, nuls = 0, last = 0;
	unsigned int n;
	struct op_req r = { .hdr = h, .payload = payload, .len = h->len };

	for (uint32_t i = 0; i < h->len; i++)
		if (payload[i] == '\0') {
			nuls++;
			last = i + 1;
		}
	n = wire_split(payload, h->len, argv, LXS_ARRAY_SIZE(argv), &tail);
	FZ_ASSERT(n == nuls && tail == h->len - last,
		  "wire_split: %u strings tail %u, want %u tail %u", n, tail,
		  nuls, h->len - last);
	for (unsigned int i = 0; i < n && i < LXS_ARRAY_SIZE(argv); i++) {
		FZ_ASSERT(argv[i] >= payload && argv[i] < payload + h->len,
			  "wire_split: string %u outside the payload", i);
		wf_check_uint(argv[i]);
		wf_check_perm(argv[i]);
		wf_check_path(argv[i], who);
		if (wire_error_value(argv[i]))
			FZ_ASSERT(strcmp(wire_error_name(wire_error_value(argv[i])),
					 argv[i]) == 0, "error name %.20s", argv[i]);
		if (wire_type_value(argv[i]) >= 0)
			FZ_ASSERT(strcmp(wire_type_name((uint32_t)wire_type_value(
						 argv[i])), argv[i]) == 0,
				  "type name %.20s", argv[i]);
	}
	for (unsigned int min = 0; min <= 3; min++)
		for (unsigned int max = min; max <= 4; max++) {
			int rc = op_args(&r, min, max, argv);
			bool ok = tail == 0 && n >= min && n <= max;

			FZ_ASSERT(ok ? rc == (int)n : rc == -EINVAL,
				  "op_args(%u, %u) = %d with %u strings tail %u",
				  min, max, rc, n, tail);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct store_caller callers[] = {
		{ 0, LXS_DOMID_INVALID, true },
		{ 7, LXS_DOMID_INVALID, false },
		{ 65535, 3, false },
	};
	struct fz_in in = { data, size };
	uint8_t seed = fz_u8(&in), who = fz_u8(&in);
	const uint8_t *d = in.p;
	size_t len = in.n;
	struct wf_result ref;

	wf_reference(d, len, &ref);
	wf_frame_feed(d, len, 0, &ref, "feed all");
	wf_frame_feed(d, len, 1, &ref, "feed bytes");
	wf_frame_feed(d, len, 1 + seed % 37, &ref, "feed chunks");
	wf_frame_commit(d, len, seed, &ref);
	for (unsigned int i = 0; i < ref.n; i++) {
		static char payload[XENSTORE_PAYLOAD_MAX + 1];

		memcpy(payload, ref.msgs[i].payload, ref.msgs[i].hdr.len);
		payload[ref.msgs[i].hdr.len] = '\0';
		wf_check_payload(&ref.msgs[i].hdr, payload,
				 &callers[who % LXS_ARRAY_SIZE(callers)]);
	}
	free(ref.msgs);
	return 0;
}
