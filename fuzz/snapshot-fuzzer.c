/*
 * snapshot-fuzzer: loading and checking snapshot files.
 *
 * Input: byte 0 picks the mode, the rest is its data.
 *
 *   mode 0  file bytes as they are: snap_verify, then snap_load into a
 *           fresh store. Mutations rarely get past the two checksums, so:
 *   mode 1  compressed stream: the data is the zlib stream; the harness
 *           writes a header with the right lengths and checksums (raw_len:
 *           what the stream inflates to), so inflating is exercised;
 *   mode 2  records: the data is the uncompressed record stream
 *           (len | type | payload ...); the harness compresses it and
 *           writes a valid header, so the record and protobuf decoders
 *           are exercised;
 *   mode 3  records with valid framing: the data is a list of
 *           (type u8, len u16, payload), framed as mode 2's stream;
 *   mode 4  one NODES payload, loaded by the hand-written decoder and
 *           compared with what protobuf-c reads (sz_nodes_differential).
 *
 * Invariants:
 *   - nothing crashes, leaks or reads out of bounds;
 *   - snap_verify and snap_load agree on every file;
 *   - a store a load gave up on half-way still passes store_check();
 *   - a store that loaded survives a round trip: snap_write of it, then
 *     snap_load of that file, gives the same tree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fuzz/fuzz-util.h"
#include "snapshot/snapshot-int.h"
#include "snapshot/snapshot.pb-c.h"

/* Inflation of a fuzzed stream stops here (a zip bomb is not a finding). */
#define SZ_RAW_MAX	(8u << 20)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_tmpdir();
	return 0;
}

static void
sz_file(const char *path, const uint8_t *data, size_t len,
	uint64_t raw_len)
{
	struct snap_hdr h = { 0 };
	struct buf b = { 0 };
	unsigned char hdr[SNAP_HDR_SIZE];

	h.version = SNAP_VERSION;
	h.seq = 7;
	h.raw_len = raw_len;
	h.data_len = len;
	h.data_crc = crc32c(data, len);
	snap_hdr_encode(&h, hdr);
	buf_add(&b, hdr, sizeof(hdr));
	buf_add(&b, data, len);
	fz_write_file(path, b.data, b.len);
	buf_free(&b);
}

/* Bytes a zlib stream inflates to (up to SZ_RAW_MAX + 1), or 0. */
static uint64_t
sz_inflated_len(const uint8_t *data, size_t len)
{
	static unsigned char out[1 << 16];
	z_stream z = { 0 };
	uint64_t raw = 0;
	int rc = Z_OK;

	if (inflateInit(&z) != Z_OK)
		return 0;
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	while (rc == Z_OK && raw <= SZ_RAW_MAX) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = inflate(&z, Z_NO_FLUSH);
		raw += sizeof(out) - z.avail_out;
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
			break;
	}
	inflateEnd(&z);
	return raw;
}

static void
sz_deflate(const uint8_t *data, size_t len, struct buf *out)
{
	uLongf n = compressBound((uLong)len);
	char *dst = buf_reserve(out, n);

	FZ_ASSERT(compress((Bytef *)dst, &n, data, (uLong)len) == Z_OK,
		  "compress");
	out->len += n;
}

static void
sz_check_file(const char *dir, const char *path)
{
	struct snap_info vi = { 0 }, li = { 0 }, ri = { 0 }, wi = { 0 };
	struct store *s = store_new(NULL, NULL, 0), *t;
	char *vwhy = NULL, *lwhy = NULL, *rwhy = NULL, *sub;
	int vrc, lrc, rc;

	vrc = snap_verify(path, &vi, &vwhy);
	lrc = snap_load(path, s, &li, &lwhy);
	fz_store_check(s, "after snap_load");
	/* verify checks less than load: no tree, so a node that does not fit
	 * is only found by load; everything verify refuses, load refuses. */
	FZ_ASSERT(vrc == 0 || lrc != 0, "verify %d (%s) but load %d", vrc,
		  vwhy ? vwhy : "", lrc);
	FZ_ASSERT(vrc <= 0 && lrc <= 0 && (lrc == 0 || lwhy != NULL),
		  "load %d without a reason", lrc);
	if (lrc == 0) {
		FZ_ASSERT(vi.nodes == li.nodes && vi.seq == li.seq,
			  "verify and load disagree: %" PRIu64 " / %" PRIu64
			  " nodes", vi.nodes, li.nodes);
		/* Round trip through the writer. */
		sub = xasprintf("%s/rt", dir);

		FZ_ASSERT(mkdir(sub, 0700) == 0, "mkdir %s", sub);
		rc = snap_write(s, NULL, li.seq + 1, sub, &wi);
		FZ_ASSERT(rc == 0, "snap_write of a loaded store: %d", rc);
		t = store_new(NULL, NULL, 0);
		rc = snap_load(wi.path, t, &ri, &rwhy);
		FZ_ASSERT(rc == 0, "reloading a written snapshot: %d (%s)", rc,
			  rwhy ? rwhy : "");
		fz_store_same(s, t, "loaded vs written and reloaded");
		store_free(t);
		free(sub);
	}
	snap_info_release(&vi);
	snap_info_release(&li);
	snap_info_release(&ri);
	snap_info_release(&wi);
	free(vwhy);
	free(lwhy);
	free(rwhy);
	store_free(s);
}

/* (type u8, len u16, payload) records framed as a stream. */
static void
sz_records(struct fz_in *in, struct buf *raw)
{
	while (in->n) {
		uint8_t type = fz_u8(in);
		size_t got;
		const uint8_t *p = fz_take(in, fz_u16(in), &got);
		unsigned char rh[SNAP_REC_HDR];

		le32_put(rh, (uint32_t)got);
		le32_put(rh + 4, type < 250 ? 1 + type % 3 : type);
		buf_add(raw, rh, sizeof(rh));
		buf_add(raw, p, got);
	}
}

/*
 * Mode 4: the data is one NODES payload, followed by an END counting what
 * protobuf-c finds in it. The hand-written NODES decoder (snapshot/
 * load.c) may refuse more than protobuf-c does (a NUL in a path, a node
 * without perms), but what it loads must be what protobuf-c reads.
 */
static void
sz_nodes_differential(const char *dir, const char *path, const uint8_t *d,
		      size_t len)
{
	Lxs__SnapNodes *ref = lxs__snap_nodes__unpack(NULL, len, d);
	Lxs__SnapEnd end = LXS__SNAP_END__INIT;
	struct buf raw = { 0 }, z = { 0 };
	unsigned char rh[SNAP_REC_HDR];
	struct store *s, *t;
	char *why = NULL;
	int rc;

	le32_put(rh, (uint32_t)len);
	le32_put(rh + 4, SNAP_REC_NODES);
	buf_add(&raw, rh, sizeof(rh));
	buf_add(&raw, d, len);
	end.nodes = ref ? ref->n_nodes : 0;
	le32_put(rh, (uint32_t)lxs__snap_end__get_packed_size(&end));
	le32_put(rh + 4, SNAP_REC_END);
	buf_add(&raw, rh, sizeof(rh));
	lxs__snap_end__pack(&end, (uint8_t *)buf_reserve(&raw, 16));
	raw.len += lxs__snap_end__get_packed_size(&end);
	sz_deflate((uint8_t *)raw.data, raw.len, &z);
	sz_file(path, (uint8_t *)z.data, z.len, raw.len);

	s = store_new(NULL, NULL, 0);
	rc = snap_load(path, s, NULL, &why);
	fz_store_check(s, "after snap_load of a NODES record");
	if (rc == 0 && end.nodes > 0) {
		struct store_op *ops = xcalloc(ref->n_nodes, sizeof(*ops));
		struct store_perm *perms;
		struct store_mutation m = { 0 };
		size_t np = 0, k = 0;

		FZ_ASSERT(ref != NULL, "NODES loaded that protobuf-c refuses");
		for (size_t i = 0; i < ref->n_nodes; i++)
			np += ref->nodes[i]->n_perms;
		perms = xcalloc(np ? np : 1, sizeof(*perms));
		for (size_t i = 0; i < ref->n_nodes; i++) {
			const Lxs__SnapNode *n = ref->nodes[i];

			ops[i].kind = STORE_OP_PUT;
			ops[i].path = n->path;
			ops[i].value = n->has_value ? (void *)n->value.data : "";
			ops[i].len = n->has_value ? (uint32_t)n->value.len : 0;
			ops[i].perms = &perms[k];
			ops[i].nperms = (uint32_t)n->n_perms;
			for (size_t j = 0; j < n->n_perms; j++, k++) {
				perms[k].domid = n->perms[j]->domid;
				perms[k].bits = n->perms[j]->bits &
						STORE_PERM_BOTH;
			}
		}
		m.nops = (uint32_t)ref->n_nodes;
		m.ops = ops;
		t = store_new(NULL, NULL, 0);
		FZ_ASSERT(store_apply(t, &m) == 0,
			  "protobuf-c's nodes do not apply where ours did");
		fz_store_same(s, t, "NODES as loaded vs as protobuf-c reads them");
		store_free(t);
		free(perms);
		free(ops);
	}
	(void)dir;
	store_free(s);
	free(why);
	buf_free(&raw);
	buf_free(&z);
	if (ref)
		lxs__snap_nodes__free_unpacked(ref, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	const char *dir = fz_tmpdir();
	char *path = xasprintf("%s/snap-0000000000000007.lxs", dir);
	struct buf raw = { 0 }, z = { 0 };
	uint64_t rawlen;

	fz_empty_dir(dir);
	switch (fz_u8(&in) % 5) {
	case 0:
		fz_write_file(path, in.p, in.n);
		break;
	case 1:
		rawlen = sz_inflated_len(in.p, in.n);
		if (rawlen > SZ_RAW_MAX)
			goto out;
		sz_file(path, in.p, in.n, rawlen);
		break;
	case 2:
		sz_deflate(in.p, in.n, &z);
		sz_file(path, (uint8_t *)z.data, z.len, in.n);
		break;
	case 3:
		sz_records(&in, &raw);
		sz_deflate((uint8_t *)raw.data, raw.len, &z);
		sz_file(path, (uint8_t *)z.data, z.len, raw.len);
		break;
	case 4:
		sz_nodes_differential(dir, path, in.p, in.n);
		goto out;
	}
	sz_check_file(dir, path);
out:
	buf_free(&raw);
	buf_free(&z);
	free(path);
	return 0;
}
