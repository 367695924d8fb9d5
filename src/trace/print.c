// SPDX-License-Identifier: GPL-2.0
/*
 * Decoded event lines for replay --events and --export-json.  Every value
 * goes out raw (hex) next to its decoding, so nothing is lost in print.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"
#include "decode/decode.h"
#include "trace/print.h"

int event_printer_init(struct event_printer *p, enum mbec_layout layout, bool spte_ept,
		       bool mbec, const struct role_layout *role)
{
	memset(p, 0, sizeof(*p));
	p->layout = layout == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC;
	p->spte_ept = spte_ept;
	p->mbec = mbec;
	p->role = role;
	p->res = malloc(sizeof(*p->res));
	return p->res ? 0 : -1;
}

void event_printer_free(struct event_printer *p)
{
	free(p->res);
	p->res = NULL;
}

/* The set names of a value ("" when none or not decodable). */
static const char *names(struct event_printer *p, enum decode_kind kind, uint64_t v, bool ept)
{
	struct decode_opts o = {
		.layout = p->layout,
		.mbec = p->mbec,
		.format = ept ? SPTE_FMT_EPT : SPTE_FMT_LEGACY,
		.role = p->role,
	};

	if (decode_value(kind, v, &o, p->res))
		return "";
	return p->res->names;
}

/* Fields of one record as (key, value, decode kind) triples. */
struct field {
	const char *key;
	uint64_t v;
	int kind;		/* enum decode_kind, or -1: plain hex, -2: decimal */
	bool ept;
};

#define F(k, val, kd)		((struct field){ (k), (val), (kd), false })
#define FE(k, val, kd, e)	((struct field){ (k), (val), (kd), (e) })

static unsigned int fields_of(struct event_printer *p, const struct mbec_event_hdr *h,
			      struct field *f)
{
	unsigned int n = 0;
	bool ept = p->spte_ept;

	switch (h->type) {
	case MBEC_EV_PAGETABLE_WALK: {
		const struct mbec_ev_walk *e = (const void *)h;

		f[n++] = F("addr", e->addr, -1);
		f[n++] = F("pferr", e->pferr, DECODE_PFEC);
		break;
	}
	case MBEC_EV_PAGING_ELEMENT: {
		const struct mbec_ev_paging_element *e = (const void *)h;

		f[n++] = F("level", (uint64_t)(int64_t)e->level, -2);
		f[n++] = F("pte", e->pte, DECODE_GPTE);
		break;
	}
	case MBEC_EV_WALKER_ERROR: {
		const struct mbec_ev_walker_error *e = (const void *)h;

		f[n++] = F("pferr", e->pferr, DECODE_PFEC);
		break;
	}
	case MBEC_EV_SPTE_REQUESTED: {
		const struct mbec_ev_spte_requested *e = (const void *)h;

		f[n++] = F("addr", e->addr, -1);
		f[n++] = F("gfn", e->gfn, -1);
		f[n++] = F("pfn", e->pfn, -1);
		f[n++] = F("error_code", e->error_code, DECODE_PFEC);
		f[n++] = F("flags", e->flags, -1);
		f[n++] = F("goal_level", e->goal_level, -2);
		if (e->flags & MBEC_FAULT_HAS_ACC)
			f[n++] = F("acc", e->acc, DECODE_ACC);
		break;
	}
	case MBEC_EV_SET_SPTE: {
		const struct mbec_ev_set_spte *e = (const void *)h;

		f[n++] = F("level", (uint64_t)(int64_t)e->level, -2);
		f[n++] = F("gfn", e->gfn, -1);
		f[n++] = FE("spte", e->spte, DECODE_SPTE, ept);
		f[n++] = F("sptep", e->sptep, -1);
		break;
	}
	case MBEC_EV_PAGE_FAULT: {
		const struct mbec_ev_page_fault *e = (const void *)h;

		f[n++] = F("address", e->address, -1);
		/* On VMX with EPT the tracepoint holds the raw exit qualification. */
		f[n++] = F("error_code", e->error_code, ept ? DECODE_EXIT_QUAL : DECODE_PFEC);
		break;
	}
	case MBEC_EV_EXIT: {
		const struct mbec_ev_exit *e = (const void *)h;
		bool svm = e->flags & MBEC_EXIT_SVM;

		f[n++] = F("reason", e->reason, -1);
		f[n++] = F("info1", e->info1, svm ? DECODE_NPF : DECODE_EXIT_QUAL);
		f[n++] = F("info2", e->info2, -1);
		break;
	}
	case MBEC_EV_GET_PAGE: {
		const struct mbec_ev_get_page *e = (const void *)h;

		f[n++] = F("gfn", e->gfn, -1);
		f[n++] = F("role", e->role, DECODE_ROLE);
		f[n++] = F("access", e->access, DECODE_ACC);
		f[n++] = F("spt", e->spt, -1);
		f[n++] = F("created", !!(e->flags & MBEC_SP_CREATED), -2);
		break;
	}
	case MBEC_EV_TDP_SPTE_CHANGED: {
		const struct mbec_ev_tdp_spte_changed *e = (const void *)h;

		f[n++] = F("level", (uint64_t)(int64_t)e->level, -2);
		f[n++] = F("gfn", e->gfn, -1);
		f[n++] = FE("old", e->old_spte, DECODE_SPTE, ept);
		f[n++] = FE("new", e->new_spte, DECODE_SPTE, ept);
		break;
	}
	case MBEC_EV_FAST_PAGE_FAULT: {
		const struct mbec_ev_fast_page_fault *e = (const void *)h;

		f[n++] = F("addr", e->addr, -1);
		f[n++] = F("error_code", e->error_code, DECODE_PFEC);
		f[n++] = FE("old", e->old_spte, DECODE_SPTE, ept);
		f[n++] = FE("new", e->new_spte, DECODE_SPTE, ept);
		f[n++] = F("ret", (uint64_t)(int64_t)e->ret, -2);
		break;
	}
	case MBEC_EV_NESTED_VMEXIT_INJECT: {
		const struct mbec_ev_nested_inject *e = (const void *)h;

		f[n++] = F("exit_code", e->exit_code, -1);
		f[n++] = F("info1", e->exit_info1, e->isa == 2 ? DECODE_NPF : DECODE_EXIT_QUAL);
		f[n++] = F("info2", e->exit_info2, -1);
		break;
	}
	case MBEC_EV_LOST: {
		const struct mbec_ev_lost *e = (const void *)h;

		f[n++] = F("count", e->count, -2);
		break;
	}
	case MBEC_EV_GUEST_PTE: {
		const struct mbec_ev_guest_pte *e = (const void *)h;

		f[n++] = F("entry_gpa", e->entry_gpa, -1);
		f[n++] = F("level", (uint64_t)(int64_t)e->level, -2);
		f[n++] = F("pte", e->pte, DECODE_GPTE);
		break;
	}
	case MBEC_EV_GUEST_MEM: {
		const struct mbec_ev_guest_mem *e = (const void *)h;

		f[n++] = F("hva", e->hva, -1);
		f[n++] = F("val", e->val, DECODE_GPTE);
		break;
	}
	default:
		break;
	}
	return n;
}

static uint64_t rel_ts(const struct event_printer *p, const struct mbec_event_hdr *h)
{
	return h->ts_ns >= p->ts_base ? h->ts_ns - p->ts_base : 0;
}

void event_print_text(struct event_printer *p, FILE *f, const struct mbec_event_hdr *h)
{
	struct field fl[8];
	unsigned int i, n = fields_of(p, h, fl);
	uint64_t ts = rel_ts(p, h);

	fprintf(f, "%6" PRIu64 ".%06" PRIu64 " [%03u] %u/%u", (uint64_t)(ts / 1000000000ULL),
		(uint64_t)((ts % 1000000000ULL) / 1000), h->cpu, h->pid, h->tid);
	if (h->vcpu_id != MBEC_VCPU_UNKNOWN)
		fprintf(f, " vcpu %u", h->vcpu_id);
	fprintf(f, " %s:", mbec_event_name(h->type));
	for (i = 0; i < n; i++) {
		const char *nm;

		if (fl[i].kind == -2) {
			fprintf(f, " %s %" PRId64, fl[i].key, (int64_t)fl[i].v);
			continue;
		}
		fprintf(f, " %s 0x%" PRIx64, fl[i].key, fl[i].v);
		if (fl[i].kind >= 0 && *(nm = names(p, (enum decode_kind)fl[i].kind, fl[i].v,
						    fl[i].ept)))
			fprintf(f, " (%s)", nm);
	}
	fputc('\n', f);
}

void event_print_json(struct event_printer *p, struct json_writer *jw,
		      const struct mbec_event_hdr *h)
{
	struct field fl[8];
	unsigned int i, n = fields_of(p, h, fl);
	char key[48];

	json_obj_begin(jw);
	json_kv_str(jw, "event", mbec_event_name(h->type));
	json_kv_u64(jw, "ts_ns", h->ts_ns);
	json_kv_u64(jw, "cpu", h->cpu);
	json_kv_u64(jw, "pid", h->pid);
	json_kv_u64(jw, "tid", h->tid);
	if (h->vcpu_id != MBEC_VCPU_UNKNOWN)
		json_kv_u64(jw, "vcpu", h->vcpu_id);
	else
		json_kv_str(jw, "vcpu", NULL);
	for (i = 0; i < n; i++) {
		if (fl[i].kind == -2) {
			json_kv_s64(jw, fl[i].key, (int64_t)fl[i].v);
			continue;
		}
		json_kv_hex(jw, fl[i].key, fl[i].v);
		if (fl[i].kind >= 0) {
			snprintf(key, sizeof(key), "%s_decoded", fl[i].key);
			json_kv_str(jw, key, names(p, (enum decode_kind)fl[i].kind, fl[i].v,
						   fl[i].ept));
		}
	}
	json_obj_end(jw);
}
