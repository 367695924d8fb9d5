/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The release of mbecscope, printed by `mbecscope --version` beside the
 * formats it reads and writes (a bug report names all three).
 */
#ifndef MBEC_VERSION_H
#define MBEC_VERSION_H

#define MBEC_VERSION	"0.2.0"

#endif /* MBEC_VERSION_H */
