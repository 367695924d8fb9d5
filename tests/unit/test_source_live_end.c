// SPDX-License-Identifier: GPL-2.0
/*
 * The live source's end (src/source/live.c, src_live_finish): the kernel
 * counters it keeps (check's summary, record's end chunk) describe the
 * stream it handed on, even when the VMM runs on after it stops (--pid,
 * --duration).
 *
 * The BPF side is replaced here by a fake kernel (this file defines the
 * mbec_live_* calls the source makes, so src/live/live.o is not linked):
 * a VMM that keeps faulting.  While the programs are attached, each wait
 * for records and each read of the counters finds one more event, counted
 * at once and put in the ring buffer; a drain without waiting finds only
 * what is there.  Reading the counters before detaching would count an
 * event that is in no stream: neither received nor lost.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live/live.h"
#include "source/source.h"
#include "tap.h"

struct mbec_live {
	int (*on_event)(void *ctx, const void *rec, size_t len);
	void *ctx;
	bool attached;
	uint64_t seen, queued, detaches;
	struct mbec_live_attach state[MBEC_LIVE_NR_TP];
};

static struct mbec_live fake;

/* The VMM faults once: the kernel counts it and queues its record. */
static void vmm_runs(struct mbec_live *l)
{
	if (!l->attached)
		return;
	l->seen++;
	l->queued++;
}

int mbec_live_open(struct mbec_live **out, const struct mbec_live_opts *opts, char *err,
		   size_t errlen)
{
	unsigned int i;

	(void)err;
	(void)errlen;
	memset(&fake, 0, sizeof(fake));
	fake.on_event = opts->on_event;
	fake.ctx = opts->ctx;
	fake.attached = true;
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		fake.state[i].tracepoint = "kvm_mmu_set_spte";
		fake.state[i].how = "tp_btf";
	}
	*out = &fake;
	return 0;
}

int mbec_live_poll(struct mbec_live *l, int timeout_ms)
{
	struct mbec_ev_set_spte e;
	int n = 0;

	if (timeout_ms > 0)
		vmm_runs(l);
	for (; l->queued; l->queued--, n++) {
		memset(&e, 0, sizeof(e));
		e.hdr.type = MBEC_EV_SET_SPTE;
		e.hdr.size = sizeof(e);
		e.hdr.pid = (uint32_t)getpid();
		e.hdr.vcpu_id = 0;
		e.level = 1;
		e.gfn = 0x100 + l->seen;
		if (l->on_event(l->ctx, &e, sizeof(e)))
			return n + 1;
	}
	return n;
}

int mbec_live_counters(struct mbec_live *l, struct mbec_counter out[MBEC_EV_MAX])
{
	vmm_runs(l);
	memset(out, 0, sizeof(*out) * MBEC_EV_MAX);
	out[MBEC_EV_SET_SPTE].seen = l->seen;
	out[MBEC_EV_SET_SPTE].emitted = l->seen;
	return 0;
}

const struct mbec_live_attach *mbec_live_attach_state(const struct mbec_live *l)
{
	return l->state;
}

void mbec_live_detach(struct mbec_live *l)
{
	l->attached = false;
	l->detaches++;
}

void mbec_live_close(struct mbec_live *l)
{
	if (l)
		l->attached = false;
}

static uint64_t received;

static int on_record(void *ctx, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;

	(void)ctx;
	(void)len;
	if (h->type == MBEC_EV_SET_SPTE)
		received++;
	return 0;
}

/* record's tick: it reads the counters after every wait (for drops). */
static int on_tick(void *ctx)
{
	struct mbec_source *s = ctx;
	static int ticks;

	mbec_source_counters(s);
	return ++ticks >= 5;
}

int main(void)
{
	struct mbec_source_opts so;
	struct mbec_source *s;
	const struct mbec_counter *k;
	char err[320];

	mbec_source_opts_init(&so);
	so.pid = (uint32_t)getpid();
	so.layout = MBEC_LAYOUT_CLASSIC;	/* no BTF needed */
	so.tool = "test";
	if (!ok(!mbec_source_open(&s, &so, err, sizeof(err)), "the live source opens (%s)", err) ||
	    !ok(!mbec_source_start(s, on_record, NULL, err, sizeof(err)), "and starts (%s)", err)) {
		printf("1..%d\n", tap_n);
		return 1;
	}
	ok(mbec_source_run(s, 10, on_tick, s) == 0, "runs until the caller stops it");
	ok(received > 0, "records came while it ran (%llu)", (unsigned long long)received);
	mbec_source_finish(s);
	ok(fake.detaches == 1 && !fake.attached, "finish detached the programs");
	k = mbec_source_counters(s);
	ok(k != NULL, "the kernel counters are kept after finish");
	if (k) {
		is_u64(k[MBEC_EV_SET_SPTE].seen, received,
		       "the kernel counted exactly the records handed on (none lost), though "
		       "the VMM ran on");
		is_u64(k[MBEC_EV_SET_SPTE].dropped, 0, "and none dropped");
	}
	ok(fake.queued == 0, "nothing was left in the ring buffer");
	mbec_source_free(s);
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
