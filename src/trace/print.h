/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One event record as a line of text (what `trace-cmd report` prints, with
 * exit qualifications, error codes, SPTEs, PTEs and roles decoded by
 * src/decode) or as one JSON object (--export-json, JSON lines).
 */
#ifndef MBEC_TRACE_PRINT_H
#define MBEC_TRACE_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mbec_events.h"
#include "mbec_kvm.h"

struct json_writer;
struct role_layout;

struct event_printer {
	enum mbec_layout layout;
	bool spte_ept;		/* SPTEs (and nested guest entries) in EPT format */
	bool mbec;
	const struct role_layout *role;
	uint64_t ts_base;	/* printed times are relative to this */
	struct decode_result *res;	/* scratch, allocated once */
};

int event_printer_init(struct event_printer *p, enum mbec_layout layout, bool spte_ept,
		       bool mbec, const struct role_layout *role);
void event_printer_free(struct event_printer *p);
void event_print_text(struct event_printer *p, FILE *f, const struct mbec_event_hdr *h);
/* One object; the caller finishes the document (json_finish) for JSON lines. */
void event_print_json(struct event_printer *p, struct json_writer *jw,
		      const struct mbec_event_hdr *h);

#endif /* MBEC_TRACE_PRINT_H */
