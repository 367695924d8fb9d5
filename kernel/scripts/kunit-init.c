// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the KUnit initramfs: KUnit has run (and printed its TAP) by the
 * time init starts, so say so and reboot; QEMU runs with -no-reboot and
 * exits.
 */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
	printf("mbecscope-kunit-init: done\n");
	fflush(stdout);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
