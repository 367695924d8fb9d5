/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the checker read from VMM memory while recording (guest_mem
 * records), kept by (pid, address) so that replay can answer the engine's
 * reads with the same bytes.  Bounded: past GUEST_MEM_MAX entries further
 * ones are dropped (those reads then fail, as for a process that is gone).
 */
#ifndef MBEC_TRACE_GUESTMEM_H
#define MBEC_TRACE_GUESTMEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX	(1U << 20)

struct guest_mem_entry;

struct guest_mem {
	struct guest_mem_entry *e;
	size_t cap, n;
	uint64_t dropped;
};

/* 0, or -1 (full or out of memory: counted in dropped). */
int guest_mem_put(struct guest_mem *m, uint32_t pid, uint64_t hva, uint64_t val);
/* The engine's read_mem callback (ctx is the struct guest_mem): 0, or -1 unknown. */
int guest_mem_read(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val);
void guest_mem_free(struct guest_mem *m);

#endif /* MBEC_TRACE_GUESTMEM_H */
