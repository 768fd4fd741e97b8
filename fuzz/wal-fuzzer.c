/*
 * wal-fuzzer: the write-ahead log's reader, repair and record decoders.
 *
 * Input: byte 0 picks the mode, the rest is its data.
 *
 *   mode 0  segment bytes: the data is written as the only segment of a
 *           state directory, wal-<its header's first seq>.log, then read
 *           back with wal_scan and recovered (and repaired) the way the
 *           daemon starts: snap_recover.
 *   mode 1  two segments: u16 split point, then the data, cut in two
 *           files named after their headers' first seqs (a damaged middle
 *           segment, a gap, a torn last one).
 *   mode 2  records with valid framing: the data is a list of
 *           (type u8, len u16, payload) that the harness frames into a
 *           segment with correct checksums, so the payload decoders run
 *           through the scan path.
 *   mode 3  one payload: decoded by wal_decode_mutation and by
 *           protobuf-c (differential), then wal_apply_mutation and
 *           wal_apply_quota on fresh stores, and wal_domtab_apply on a
 *           fresh domain table.
 *
 * Invariants:
 *   - what the hand-written record decoder accepts, protobuf-c accepts
 *     with the same content;
 *   - nothing crashes, leaks or reads out of bounds; the stores pass
 *     store_check() even after a record that fails to apply;
 *   - scanning is read-only: a second wal_scan gives the same result;
 *   - recovery replays what a scan finds valid, and leaves the directory
 *     holding exactly that: recovering again finds a clean log ending at
 *     the same seq and rebuilds the same tree (a record that fails
 *     half-way must not leave part of itself in the store);
 *   - a tree rebuilt from a payload survives the encoder: written back
 *     as one mutation record (wal_encode_mutation) and decoded into a
 *     fresh store, it is the same tree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz-util.h"
#include "snapshot/snapshot.h"
#include "wal/wal-int.h"
#include "wal/wal.pb-c.h"

struct wz_replay {
	struct store *s;
	struct wal_domtab *doms;
	uint64_t records;
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_tmpdir();
	return 0;
}

/* As snapshot/recover.c replays (wal_apply_frame): a record that does not
 * apply, or of a type this version does not know, is damage. */
static int
wz_frame(void *arg, const struct wal_frame *f)
{
	struct wz_replay *rp = arg;
	int rc = wal_apply_frame(rp->s, rp->doms, f);

	fz_store_check(rp->s, "after a log record");
	if (rc < 0)
		return -EBADMSG;
	rp->records++;
	return 0;
}

static struct store *
wz_new_store(void *arg)
{
	return store_new(NULL, NULL, 0);
}

static uint64_t
wz_first_seq(const uint8_t *d, size_t len)
{
	struct wal_seg_hdr h;

	if (len >= WAL_HDR_SIZE && wal_seg_hdr_decode(d, &h) == 0)
		return h.first_seq;
	return 1;
}

static void
wz_put_segment(const char *dir, const uint8_t *d, size_t len)
{
	char *name = wal_seg_name(wz_first_seq(d, len));
	char *path = xasprintf("%s/%s", dir, name);

	fz_write_file(path, d, len);
	free(path);
	free(name);
}

static void
wz_scan_same(const struct wal_scan *a, const struct wal_scan *b,
	     const char *what)
{
	FZ_ASSERT(a->damage == b->damage && a->first_seq == b->first_seq &&
		  a->last_seq == b->last_seq && a->records == b->records &&
		  a->bad_offset == b->bad_offset,
		  "%s: damage %d/%d last %" PRIu64 "/%" PRIu64
		  " records %" PRIu64 "/%" PRIu64, what, a->damage, b->damage,
		  a->last_seq, b->last_seq, a->records, b->records);
}

/*
 * Scanning (read-only) twice gives the same result. Then the daemon's own
 * recovery, snap_recover with repair, and once more: the second finds a
 * clean log ending where the first stopped, and the same tree, so what a
 * daemon serves after recovery is exactly what the log holds.
 */
static void
wz_check_dir(const char *dir)
{
	struct wz_replay r1 = { 0 }, r2 = { 0 };
	struct wal_scan s1, s2;
	struct snap_recovery ra, rb;
	struct store *a = NULL, *b = NULL;
	int rc1, rc2, rc;

	r1.s = store_new(NULL, NULL, 0);
	r1.doms = wal_domtab_new();
	rc1 = wal_scan(dir, 0, wz_frame, &r1, &s1);
	r2.s = store_new(NULL, NULL, 0);
	r2.doms = wal_domtab_new();
	rc2 = wal_scan(dir, 0, wz_frame, &r2, &s2);
	FZ_ASSERT(rc1 == 0 && rc2 == 0, "scan: %d then %d", rc1, rc2);
	wz_scan_same(&s1, &s2, "scan twice");
	fz_store_same(r1.s, r2.s, "scan twice");
	wal_scan_release(&s2);
	store_free(r2.s);
	wal_domtab_free(r2.doms);

	rc = snap_recover(dir, wz_new_store, NULL, UINT64_MAX, true, &a, &ra);
	FZ_ASSERT(rc == 0, "snap_recover: %d", rc);
	fz_store_check(a, "after recovery");
	FZ_ASSERT(ra.records == s1.records &&
		  (s1.records == 0 || ra.last_seq == s1.last_seq),
		  "recovery replayed %" PRIu64 " records to %" PRIu64
		  ", a scan %" PRIu64 " to %" PRIu64, ra.records, ra.last_seq,
		  s1.records, s1.last_seq);
	rc = snap_recover(dir, wz_new_store, NULL, UINT64_MAX, true, &b, &rb);
	FZ_ASSERT(rc == 0 && rb.wal.scan.damage == WAL_CLEAN &&
		  rb.rejected == 0, "recovering again: rc %d damage %d (%s)", rc,
		  rb.wal.scan.damage, rb.wal.scan.why ? rb.wal.scan.why : "");
	FZ_ASSERT(rb.records == ra.records && rb.last_seq == ra.last_seq,
		  "recovering again: %" PRIu64 " records to %" PRIu64
		  ", first %" PRIu64 " to %" PRIu64, rb.records, rb.last_seq,
		  ra.records, ra.last_seq);
	fz_store_same(a, b, "recovered state vs recovering again");
	snap_recovery_release(&ra);
	snap_recovery_release(&rb);
	store_free(a);
	store_free(b);
	wal_scan_release(&s1);
	store_free(r1.s);
	wal_domtab_free(r1.doms);
}

/* Frames (type, len, payload) records into a valid segment. */
static void
wz_build_segment(struct fz_in *in, struct buf *out)
{
	struct wal_seg_hdr h = { WAL_VERSION, 0, 1 };
	unsigned char hdr[WAL_HDR_SIZE];
	uint64_t seq;

	h.salt = fz_u32(in);
	h.first_seq = 1 + fz_u8(in);
	seq = h.first_seq;
	wal_seg_hdr_encode(&h, hdr);
	buf_add(out, hdr, sizeof(hdr));
	while (in->n) {
		uint8_t type = fz_u8(in);
		size_t got;
		const uint8_t *p = fz_take(in, fz_u16(in), &got);
		unsigned char fh[WAL_FRAME_HDR], crc[4];
		size_t at = out->len;

		/* Mostly known types; sometimes one from a newer daemon. */
		type = type < 250 ? 1 + type % 3 : type;
		wal_frame_hdr_encode(fh, (uint32_t)got, type, seq++, 0);
		buf_add(out, fh, sizeof(fh));
		buf_add(out, p, got);
		le32_put(crc, wal_frame_crc(h.salt,
					    (unsigned char *)out->data + at,
					    (uint32_t)got));
		buf_add(out, crc, sizeof(crc));
	}
}

/* store_walk into owned PUT ops. */
struct wz_ops {
	struct store_op *ops;
	uint32_t n, cap;
};

static int
wz_collect(void *arg, const char *path, const void *value, uint32_t len,
	   const struct store_perm *perms, uint32_t nperms)
{
	struct wz_ops *v = arg;

	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 16;
		v->ops = xrealloc(v->ops, v->cap * sizeof(*v->ops));
	}
	v->ops[v->n].kind = STORE_OP_PUT;
	v->ops[v->n].path = xstrdup(path);
	v->ops[v->n].value = xmemdup(value, len ? len : 1);
	v->ops[v->n].len = len;
	v->ops[v->n].perms = xmemdup(perms, nperms * sizeof(*perms));
	v->ops[v->n].nperms = nperms;
	v->ops[v->n].quiet = false;
	v->n++;
	return 0;
}

/*
 * The whole tree of s as one mutation of PUTs (parents first), through
 * the encoder and the decoder into a fresh store: the same tree.
 */
static void
wz_roundtrip(const struct store *s)
{
	struct wz_ops v = { 0 };
	struct store_mutation m = { 0 };
	struct store *t = store_new(NULL, NULL, 0);
	struct buf enc = { 0 };
	int rc;

	store_walk(s, wz_collect, &v);
	m.nops = v.n;
	m.ops = v.ops;
	wal_encode_mutation(&m, &enc);
	rc = wal_apply_mutation(t, enc.data, (uint32_t)enc.len);
	FZ_ASSERT(rc == 0, "re-encoded tree does not apply: %d", rc);
	fz_store_same(s, t, "tree re-encoded as a log record");
	for (uint32_t i = 0; i < v.n; i++) {
		free((void *)v.ops[i].path);
		free((void *)v.ops[i].value);
		free((void *)v.ops[i].perms);
	}
	free(v.ops);
	buf_free(&enc);
	store_free(t);
}

/* One canonical line per op, for comparing two decoders. */
static void
wz_dump_op(struct buf *out, int kind, const char *path, const void *value,
	   size_t len, bool quiet)
{
	const unsigned char *v = value;

	buf_printf(out, "%s %s q%d =", kind ? "DEL" : "PUT", path, quiet);
	for (size_t i = 0; i < len; i++)
		buf_printf(out, "%02x", v[i]);
}

static int
wz_dump_ours(void *arg, const struct store_mutation *m)
{
	struct buf *out = arg;

	buf_printf(out, "domid %u\n", m->domid);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];
		bool put = op->kind == STORE_OP_PUT;

		wz_dump_op(out, put ? 0 : 1, op->path, op->value,
			   put ? op->len : 0, put && op->quiet);
		for (uint32_t j = 0; put && j < op->nperms; j++)
			buf_printf(out, " %u:%u", op->perms[j].domid,
				   op->perms[j].bits);
		buf_add(out, "\n", 1);
	}
	return 0;
}

/*
 * wal_decode_mutation is a hand-written protobuf reader: everything it
 * accepts, protobuf-c (the generated lxs.Mutation parser) must accept
 * too, with the same content. (It may refuse more: an unknown op kind, a
 * PUT without perms, a NUL inside a path.)
 */
static void
wz_differential(const uint8_t *d, size_t len)
{
	struct buf ours = { 0 }, ref = { 0 };
	Lxs__Mutation *msg;
	int rc;

	rc = wal_decode_mutation(d, (uint32_t)len, wz_dump_ours, &ours);
	FZ_ASSERT(rc == 0 || rc == -EINVAL, "wal_decode_mutation: %d", rc);
	if (rc < 0) {
		buf_free(&ours);
		return;
	}
	msg = lxs__mutation__unpack(NULL, len, d);
	FZ_ASSERT(msg != NULL, "wal_decode_mutation accepts a record that "
		  "protobuf-c refuses");
	buf_printf(&ref, "domid %u\n", msg->domid);
	for (size_t i = 0; i < msg->n_ops; i++) {
		const Lxs__Op *o = msg->ops[i];
		bool put = o->kind == LXS__OP__KIND__PUT;

		wz_dump_op(&ref, put ? 0 : 1, o->path,
			   put && o->has_value ? o->value.data : NULL,
			   put && o->has_value ? o->value.len : 0,
			   put && o->quiet);
		for (size_t j = 0; put && j < o->n_perms; j++)
			buf_printf(&ref, " %u:%u", o->perms[j]->domid,
				   o->perms[j]->bits & STORE_PERM_BOTH);
		buf_add(&ref, "\n", 1);
	}
	buf_add(&ours, "", 1);
	buf_add(&ref, "", 1);
	FZ_ASSERT(strcmp(ours.data, ref.data) == 0,
		  "the two decoders disagree:\n%.400s\nvs protobuf-c:\n%.400s",
		  ours.data, ref.data);
	lxs__mutation__free_unpacked(msg, NULL);
	buf_free(&ours);
	buf_free(&ref);
}

static void
wz_payload(const uint8_t *d, size_t len)
{
	struct store *s = store_new(NULL, NULL, 0);
	struct wal_domtab *t = wal_domtab_new();
	int rc;

	wz_differential(d, len);
	rc = wal_apply_mutation(s, d, (uint32_t)len);

	fz_store_check(s, "after wal_apply_mutation");
	FZ_ASSERT(rc == 0 || rc == -EINVAL, "wal_apply_mutation: %d", rc);
	if (rc == 0)
		wz_roundtrip(s);
	store_free(s);
	s = store_new(NULL, NULL, 0);
	rc = wal_apply_quota(s, d, (uint32_t)len);
	FZ_ASSERT(rc == 0 || rc == -EINVAL, "wal_apply_quota: %d", rc);
	fz_store_check(s, "after wal_apply_quota");
	rc = wal_domtab_apply(t, d, (uint32_t)len);
	FZ_ASSERT(rc == 0 || rc == -EINVAL, "wal_domtab_apply: %d", rc);
	wal_domtab_free(t);
	store_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	const char *dir = fz_tmpdir();
	uint8_t mode = fz_u8(&in) % 4;
	struct buf seg = { 0 };

	fz_empty_dir(dir);
	switch (mode) {
	case 0:
		wz_put_segment(dir, in.p, in.n);
		wz_check_dir(dir);
		break;
	case 1: {
		size_t cut = fz_u16(&in);

		if (cut > in.n)
			cut = in.n;
		wz_put_segment(dir, in.p, cut);
		/* Two segments with the same name are one file: keep both. */
		if (wz_first_seq(in.p, cut) != wz_first_seq(in.p + cut,
							     in.n - cut))
			wz_put_segment(dir, in.p + cut, in.n - cut);
		wz_check_dir(dir);
		break;
	}
	case 2:
		wz_build_segment(&in, &seg);
		wz_put_segment(dir, (uint8_t *)seg.data, seg.len);
		wz_check_dir(dir);
		break;
	case 3:
		wz_payload(in.p, in.n);
		break;
	}
	buf_free(&seg);
	return 0;
}
