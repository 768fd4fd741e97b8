/*
 * snapshot internals: the file layout (diagram in snapshot/write.c).
 */
#ifndef LXS_SNAPSHOT_INT_H
#define LXS_SNAPSHOT_INT_H

#include "snapshot/snapshot.h"

#define SNAP_MAGIC		"LXS-SNAP"
#define SNAP_VERSION		1u
#define SNAP_HDR_SIZE		56u
#define SNAP_REC_HDR		8u

/* Record types inside the compressed stream. */
#define SNAP_REC_META		1u
#define SNAP_REC_NODES		2u
#define SNAP_REC_END		3u
#define SNAP_REC_DOMAINS	4u	/* lxs.SnapDomains */

/* Largest record inside the stream; larger is corruption. */
#define SNAP_REC_MAX		(64u << 20)
/* Nodes per SNAP_REC_NODES record. */
#define SNAP_BATCH		1024u

struct snap_hdr {
	uint32_t version;
	uint32_t flags;
	uint64_t seq;
	uint64_t time_ns;
	uint64_t raw_len;
	uint64_t data_len;
	uint32_t data_crc;
};

void snap_hdr_encode(const struct snap_hdr *h,
		     unsigned char out[SNAP_HDR_SIZE]);
int snap_hdr_decode(const unsigned char in[SNAP_HDR_SIZE],
		    struct snap_hdr *h);
char *snap_file_name(uint64_t seq);
bool snap_parse_name(const char *name, uint64_t *seq);

#endif
