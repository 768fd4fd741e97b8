/*
 * A minimal reader and writer of the protobuf wire format, for the records
 * read and written on hot paths (log replay, snapshot load, logging each
 * change), where protobuf-c's descriptor-driven code allocates every
 * message and walks tables per field. The schemas stay in the .proto
 * files and protobuf-c still reads and writes the same bytes elsewhere;
 * the tests compare the two.
 *
 * Wire format: a tag is a varint (field << 3 | wire type); wire types 0
 * varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit. Unknown
 * fields are skipped; groups (3, 4) are refused.
 */
#include <errno.h>
#include <string.h>

#include "common.h"

/* A varint of at most max_bytes bytes whose value fits in 64 bits. */
static int
pb_read_varint_max(struct pb_reader *r, unsigned int max_bytes, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned int i = 0; i < max_bytes; i++) {
		uint8_t b;

		if (r->p == r->end)
			return -EINVAL;
		b = *r->p++;
		/* The 10th byte holds bit 63 only. */
		if (i == 9 && (b & 0x7e))
			return -EINVAL;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EINVAL;
}

int
pb_read_varint(struct pb_reader *r, uint64_t *v)
{
	return pb_read_varint_max(r, 10, v);
}

int
pb_read_tag(struct pb_reader *r, uint32_t *field, uint32_t *wt)
{
	uint64_t tag;

	/* Tags are 32-bit varints: at most 5 bytes, as protobuf-c reads
	 * them; a longer encoding is refused by both decoders. */
	if (pb_read_varint_max(r, 5, &tag) < 0 || (tag >> 3) == 0 ||
	    (tag >> 3) > 0x1fffffff || tag > UINT32_MAX)
		return -EINVAL;
	*field = (uint32_t)(tag >> 3);
	*wt = (uint32_t)(tag & 7);
	return 0;
}

int
pb_read_bytes(struct pb_reader *r, const uint8_t **p, size_t *len)
{
	uint64_t n;

	/* Lengths are 32-bit varints too. */
	if (pb_read_varint_max(r, 5, &n) < 0 || n > UINT32_MAX ||
	    n > (uint64_t)(r->end - r->p))
		return -EINVAL;
	*p = r->p;
	*len = (size_t)n;
	r->p += n;
	return 0;
}

int
pb_skip(struct pb_reader *r, uint32_t wt)
{
	uint64_t v;
	const uint8_t *p;
	size_t n;

	switch (wt) {
	case PB_VARINT:
		return pb_read_varint(r, &v);
	case PB_FIXED64:
		n = 8;
		break;
	case PB_LEN:
		return pb_read_bytes(r, &p, &n);
	case PB_FIXED32:
		n = 4;
		break;
	default:
		return -EINVAL;
	}
	if ((size_t)(r->end - r->p) < n)
		return -EINVAL;
	r->p += n;
	return 0;
}

int
pb_read_u32(struct pb_reader *r, uint32_t wt, uint32_t *out)
{
	uint64_t v;

	if (wt != PB_VARINT || pb_read_varint(r, &v) < 0)
		return -EINVAL;
	/* protobuf truncates a uint32 field's varint to 32 bits. */
	*out = (uint32_t)v;
	return 0;
}

size_t
pb_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

uint8_t *
pb_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}
