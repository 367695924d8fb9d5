// SPDX-License-Identifier: GPL-2.0
/*
 * Names and sanity checks for the event records of include/mbec_events.h,
 * shared by every source of records (live ring buffer, recordings, ftrace
 * import): a record is only handed on once its header has been checked
 * against the buffer it sits in.
 */
#include <stddef.h>

#include "mbec_events.h"

static const struct {
	const char *name;
	size_t size;
} event_types[MBEC_EV_MAX] = {
	[MBEC_EV_NONE] = { "none", 0 },
	[MBEC_EV_PAGETABLE_WALK] = { "pagetable_walk", sizeof(struct mbec_ev_walk) },
	[MBEC_EV_PAGING_ELEMENT] = { "paging_element", sizeof(struct mbec_ev_paging_element) },
	[MBEC_EV_WALKER_ERROR] = { "walker_error", sizeof(struct mbec_ev_walker_error) },
	/* Version 1 ended before the memslot fields: still accepted. */
	[MBEC_EV_SPTE_REQUESTED] = { "spte_requested",
				     offsetof(struct mbec_ev_spte_requested, slot_base_gfn) },
	[MBEC_EV_SET_SPTE] = { "set_spte", sizeof(struct mbec_ev_set_spte) },
	[MBEC_EV_PAGE_FAULT] = { "page_fault", sizeof(struct mbec_ev_page_fault) },
	[MBEC_EV_EXIT] = { "exit", sizeof(struct mbec_ev_exit) },
	[MBEC_EV_GET_PAGE] = { "get_page", sizeof(struct mbec_ev_get_page) },
	[MBEC_EV_TDP_SPTE_CHANGED] = { "tdp_spte_changed", sizeof(struct mbec_ev_tdp_spte_changed) },
	[MBEC_EV_FAST_PAGE_FAULT] = { "fast_page_fault", sizeof(struct mbec_ev_fast_page_fault) },
	[MBEC_EV_NESTED_VMEXIT_INJECT] = { "nested_vmexit_inject",
					   sizeof(struct mbec_ev_nested_inject) },
	[MBEC_EV_LOST] = { "lost", sizeof(struct mbec_ev_lost) },
	[MBEC_EV_GUEST_PTE] = { "guest_pte", sizeof(struct mbec_ev_guest_pte) },
	[MBEC_EV_GUEST_MEM] = { "guest_mem", sizeof(struct mbec_ev_guest_mem) },
};

const char *mbec_event_name(unsigned int type)
{
	if (type >= MBEC_EV_MAX || type == MBEC_EV_NONE)
		return "?";
	return event_types[type].name;
}

size_t mbec_event_min_size(unsigned int type)
{
	if (type >= MBEC_EV_MAX)
		return 0;
	return event_types[type].size;
}

int mbec_event_validate(const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;
	size_t min;

	if (!rec || len < sizeof(*h) || h->size < sizeof(*h) || h->size % 8 || h->size > len)
		return -1;
	min = mbec_event_min_size(h->type);
	/* An unknown type is fine (skip it by size); a known one must be complete. */
	if (h->type < MBEC_EV_MAX && (h->type == MBEC_EV_NONE || h->size < min))
		return -1;
	return 0;
}

/* The format is fixed: a change in size is a new version of the format. */
_Static_assert(sizeof(struct mbec_event_hdr) == 32, "event header is 32 bytes");
_Static_assert(sizeof(struct mbec_ev_spte_requested) == 96, "spte_requested is 96 bytes");
_Static_assert(sizeof(struct mbec_ev_set_spte) == 64, "set_spte is 64 bytes");
_Static_assert(sizeof(struct mbec_ev_get_page) == 72, "get_page is 72 bytes");
_Static_assert(sizeof(struct mbec_ev_fast_page_fault) == 80, "fast_page_fault is 80 bytes");
