/*
 * common: what every layer and every tool shares.
 *
 * - Allocation: the x* allocators abort on out-of-memory; guest-driven growth
 *   is bounded by quotas, not by allocation failures.
 * - The XenStore wire constants, including the message types and features
 *   that Debian's 4.17 xs_wire.h lacks (GET/SET_FEATURE, GET/SET_QUOTA,
 *   WATCHDEPTH, DOMID_ANY), and the error-name table.
 *
 * Error convention for the whole project: functions return 0 or -errno;
 * results come back through OUT pointers.
 */
#ifndef LXS_COMMON_H
#define LXS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <xen/io/xs_wire.h>

#define LXS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Message types after DIRECTORY_PART (22), numbered as in Xen 4.18+. */
#define XS_GET_FEATURE	23
#define XS_SET_FEATURE	24
#define XS_GET_QUOTA	25
#define XS_SET_QUOTA	26
#define LXS_TYPE_COUNT	27

#ifndef XENSTORE_SERVER_FEATURE_WATCHDEPTH
#define XENSTORE_SERVER_FEATURE_WATCHDEPTH 4
#endif
#ifndef XENSTORE_SERVER_FEATURE_DOMID_ANY
#define XENSTORE_SERVER_FEATURE_DOMID_ANY 8
#endif

#define LXS_HDR_SIZE	((uint32_t)sizeof(struct xsd_sockmsg))
#define LXS_DOMID_SELF	0x7FF0u
#define LXS_DOMID_ANY	0x7FF5u
#define LXS_DOMID_INVALID 0x7FF4u

/* Aborts with a message on allocation failure; never returns NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/* Caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wire error name ("EINVAL") for a positive errno; NULL if it has none. */
const char *wire_error_name(int err);
/* Positive errno for an error name; 0 if unknown. */
int wire_error_value(const char *name);
/* Message type name ("WRITE") or NULL for an unknown type. */
const char *wire_type_name(uint32_t type);
/* Type number for a name (as printed by wire_type_name); -1 if unknown. */
int wire_type_value(const char *name);

/*
 * Splits a payload into NUL-terminated strings. Stores at most max pointers
 * into argv (pointing into payload) and returns how many strings there are
 * (may exceed max). Bytes after the last NUL are not a string; *tail_len gets
 * their count when tail_len is non-NULL.
 */
unsigned int wire_split(const char *payload, uint32_t len, const char **argv,
			unsigned int max, uint32_t *tail_len);

/*
 * Strict decimal parse of an unsigned number no larger than max: digits only,
 * no sign, no blanks, no empty string. Returns 0 or -EINVAL.
 */
int parse_uint(const char *s, unsigned long max, unsigned long *out);

/*
 * A growable byte buffer. Zero-initialise (or buf_init) before use; buf_free
 * releases the storage and leaves an empty buffer.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Ensures room for extra more bytes; returns a pointer to the free space. */
char *buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
/* Appends the string including its terminating NUL. */
void buf_add_str0(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * CRC32C of data; crc32c_update continues a checksum: crc32c_update(crc32c(a),
 * b) == crc32c(a || b).
 */
uint32_t crc32c(const void *data, size_t len);
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
/* The table implementation crc32c falls back to without SSE4.2. */
uint32_t crc32c_portable(uint32_t crc, const void *data, size_t len);

/* Little-endian integers of the on-disk formats. */
static inline void
le32_put(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void
le64_put(unsigned char *p, uint64_t v)
{
	le32_put(p, (uint32_t)v);
	le32_put(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
le32_get(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
le64_get(const unsigned char *p)
{
	return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/* CLOCK_MONOTONIC (durations) and CLOCK_REALTIME (timestamps), in ns. */
uint64_t mono_ns(void);
uint64_t real_ns(void);

/* fsync of a directory, after creating, renaming or removing in it. */
int fsync_dir(const char *dir);
/* Writes all len bytes (retrying short writes and EINTR): 0 or -errno. */
int write_all(int fd, const void *p, size_t len);

/*
 * Creates <dir>/damaged-<UTC time>[-N]/, where damaged files are moved
 * (never deleted) for inspection; returns its path, which the caller frees.
 */
char *make_damaged_dir(const char *dir);

/*
 * Parses "<prefix><16 lowercase hex digits><suffix>", the naming of log
 * segments and snapshots; false for any other name.
 */
bool parse_seq_name(const char *name, const char *prefix, const char *suffix,
		    uint64_t *seq);

/*
 * Protobuf wire format, for the hot paths (common/pbwire.c). A reader
 * walks [p, end); every function returns 0 or -EINVAL for input that is
 * not valid protobuf, and never reads outside the range.
 */
#define PB_VARINT	0u
#define PB_FIXED64	1u
#define PB_LEN		2u
#define PB_FIXED32	5u

struct pb_reader {
	const uint8_t *p;
	const uint8_t *end;
};

int pb_read_varint(struct pb_reader *r, uint64_t *v);
int pb_read_tag(struct pb_reader *r, uint32_t *field, uint32_t *wt);
/* A length-delimited field: *p points into the input (borrowed). */
int pb_read_bytes(struct pb_reader *r, const uint8_t **p, size_t *len);
/* A uint32 field of wire type wt (must be a varint). */
int pb_read_u32(struct pb_reader *r, uint32_t wt, uint32_t *out);
/* Skips a field of wire type wt. */
int pb_skip(struct pb_reader *r, uint32_t wt);
size_t pb_varint_len(uint64_t v);
/* Writes v at p (room for pb_varint_len(v) bytes); returns the end. */
uint8_t *pb_put_varint(uint8_t *p, uint64_t v);

#endif
