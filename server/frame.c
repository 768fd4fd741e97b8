/*
 * frame: cuts a byte stream into wire messages (format in server-int.h).
 *
 * The header is checked as soon as its 16 bytes are in: a len above
 * XENSTORE_PAYLOAD_MAX is reported before any payload is taken, so the
 * caller can drop the connection without buffering it. The payload buffer
 * has one spare byte that always holds a NUL after the payload, so handlers
 * may treat the last string as terminated even when the client did not.
 */
#include <string.h>

#include "server/server-int.h"

void
frame_in_reset(struct frame_in *f)
{
	memset(&f->hdr, 0, sizeof(f->hdr));
	f->got = 0;
	f->payload[0] = '\0';
}

void *
frame_in_space(struct frame_in *f, size_t *len)
{
	if (f->got < LXS_HDR_SIZE) {
		*len = LXS_HDR_SIZE - f->got;
		return (char *)&f->hdr + f->got;
	}
	*len = LXS_HDR_SIZE + f->hdr.len - f->got;
	return f->payload + (f->got - LXS_HDR_SIZE);
}

enum frame_status
frame_in_commit(struct frame_in *f, size_t n)
{
	f->got += (uint32_t)n;
	if (f->got < LXS_HDR_SIZE)
		return FRAME_MORE;
	if (f->hdr.len > XENSTORE_PAYLOAD_MAX)
		return FRAME_TOO_BIG;
	if (f->got < LXS_HDR_SIZE + f->hdr.len)
		return FRAME_MORE;
	f->payload[f->hdr.len] = '\0';
	return FRAME_DONE;
}

enum frame_status
frame_in_feed(struct frame_in *f, const void *data, size_t len, size_t *used)
{
	const char *p = data;
	enum frame_status st = FRAME_MORE;

	*used = 0;
	do {
		size_t want, n;
		void *dst = frame_in_space(f, &want);

		n = len - *used < want ? len - *used : want;
		memcpy(dst, p + *used, n);
		*used += n;
		st = frame_in_commit(f, n);
	} while (st == FRAME_MORE && *used < len);
	return st;
}

uint32_t
frame_in_copy(const struct frame_in *f, void *dst)
{
	uint32_t hl = f->got < LXS_HDR_SIZE ? f->got : LXS_HDR_SIZE;

	memcpy(dst, &f->hdr, hl);
	if (f->got > hl)
		memcpy((char *)dst + hl, f->payload, f->got - hl);
	return f->got;
}
