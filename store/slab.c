/*
 * Memory for nodes: size classes 8 bytes apart up to SLAB_MAX, carved from
 * SLAB_BLOCK-byte blocks, one free list per class. malloc would add an
 * 8-byte header and round to 16 (a 96-byte node takes 112 bytes); here it
 * takes 96. Larger requests go to malloc.
 *
 * Freed objects stay on their class's free list for the next node of that
 * size; blocks go back only when the store is freed (as glibc keeps most
 * of its heap). A block starts with the link to the previously carved one;
 * a free object starts with the link to the next free one.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

#define SLAB_BLOCK	(64u * 1024u)
#define SLAB_HDR	16u	/* the block link, keeping objects 16-aligned */

void *
slab_alloc(struct slab *sl, size_t size, uint8_t *cls)
{
	size_t c = (size + SLAB_GRAIN - 1) / SLAB_GRAIN;
	void *p;

	if (c == 0)
		c = 1;
	if (c * SLAB_GRAIN > SLAB_MAX) {
		*cls = 0;
		return xmalloc(size);
	}
	*cls = (uint8_t)c;
	p = sl->free[c];
	if (p) {
		memcpy(&sl->free[c], p, sizeof(void *));
		return p;
	}
	if (sl->left < c * SLAB_GRAIN) {
		char *b = xmalloc(SLAB_BLOCK);

		memcpy(b, &sl->blocks, sizeof(void *));
		sl->blocks = b;
		sl->cur = b + SLAB_HDR;
		sl->left = SLAB_BLOCK - SLAB_HDR;
	}
	p = sl->cur;
	sl->cur += c * SLAB_GRAIN;
	sl->left -= c * SLAB_GRAIN;
	return p;
}

size_t
slab_cap(const void *p, uint8_t cls)
{
	return cls ? (size_t)cls * SLAB_GRAIN : malloc_usable_size((void *)p);
}

void
slab_free(struct slab *sl, void *p, uint8_t cls)
{
	if (p == NULL)
		return;
	if (cls == 0) {
		free(p);
		return;
	}
	memcpy(p, &sl->free[cls], sizeof(void *));
	sl->free[cls] = p;
}

void
slab_free_all(struct slab *sl)
{
	while (sl->blocks) {
		char *b = sl->blocks;

		memcpy(&sl->blocks, b, sizeof(void *));
		free(b);
	}
	memset(sl, 0, sizeof(*sl));
}
