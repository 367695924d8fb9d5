// SPDX-License-Identifier: GPL-2.0
/*
 * Recorded VMM memory reads (guestmem.h): an open-addressing table keyed
 * by (pid, hva); a later read of the same address replaces the value, as
 * the memory would have changed.
 */
#include <stdlib.h>

#include "trace/guestmem.h"

struct guest_mem_entry {
	uint64_t hva;
	uint64_t val;
	uint32_t pid;
	uint32_t used;
};

static size_t slot_of(const struct guest_mem *m, uint32_t pid, uint64_t hva)
{
	uint64_t h = (hva ^ ((uint64_t)pid << 47) ^ pid) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (m->cap - 1);
}

static struct guest_mem_entry *find(const struct guest_mem *m, uint32_t pid, uint64_t hva)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = slot_of(m, pid, hva); m->e[i].used; i = (i + 1) & (m->cap - 1))
		if (m->e[i].pid == pid && m->e[i].hva == hva)
			return &m->e[i];
	return &m->e[i];	/* the free slot where it would go */
}

static int grow(struct guest_mem *m)
{
	struct guest_mem old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 1024;
	m->e = calloc(m->cap, sizeof(*m->e));
	if (!m->e) {
		*m = old;
		return -1;
	}
	m->n = 0;
	for (i = 0; i < old.cap; i++) {
		if (old.e[i].used) {
			*find(m, old.e[i].pid, old.e[i].hva) = old.e[i];
			m->n++;
		}
	}
	free(old.e);
	return 0;
}

int guest_mem_put(struct guest_mem *m, uint32_t pid, uint64_t hva, uint64_t val)
{
	struct guest_mem_entry *e;

	if ((m->n + 1) * 4 > m->cap * 3 && (m->n >= GUEST_MEM_MAX || grow(m))) {
		m->dropped++;
		return -1;
	}
	e = find(m, pid, hva);
	if (!e->used) {
		e->used = 1;
		e->pid = pid;
		e->hva = hva;
		m->n++;
	}
	e->val = val;
	return 0;
}

int guest_mem_read(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val)
{
	const struct guest_mem_entry *e = find(ctx, pid, hva);

	if (!e || !e->used)
		return -1;
	*val = e->val;
	return 0;
}

void guest_mem_free(struct guest_mem *m)
{
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}
