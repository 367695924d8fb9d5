// SPDX-License-Identifier: GPL-2.0
/*
 * The table of VMM memory reads replay answers the engine from: a value
 * per (pid, address), the latest one wins, unknown reads fail, and it
 * grows through many entries without losing any.
 */
#include "tap.h"
#include "trace/guestmem.h"

int main(void)
{
	struct guest_mem m = { 0 };
	uint64_t v = 0;
	unsigned int i, bad = 0;

	ok(guest_mem_read(&m, 1, 0x1000, &v) == -1, "empty: a read fails");
	ok(!guest_mem_put(&m, 1, 0x1000, 0xabc) && !guest_mem_read(&m, 1, 0x1000, &v) &&
	   v == 0xabc, "a recorded read is answered");
	ok(guest_mem_read(&m, 2, 0x1000, &v) == -1, "another process's address is not");
	guest_mem_put(&m, 1, 0x1000, 0xdef);
	ok(!guest_mem_read(&m, 1, 0x1000, &v) && v == 0xdef && m.n == 1,
	   "a later read of the same address replaces the value");
	for (i = 0; i < 100000; i++)
		guest_mem_put(&m, 7, 0x7f0000000000ULL + i * 8, i);
	for (i = 0; i < 100000; i++)
		if (guest_mem_read(&m, 7, 0x7f0000000000ULL + i * 8, &v) || v != i)
			bad++;
	ok(!bad && m.n == 100001 && !m.dropped, "100000 entries through growth, none lost");
	guest_mem_free(&m);
	return done_testing();
}
