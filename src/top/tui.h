/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbectop's ncurses front end: draws a rendered frame (render.h) and
 * turns keys into changes of the view.  Owns nothing of the model.
 *
 *	q quit   space pause   s next sort column   o reverse the order
 *	f filter by VM (pid or name)   enter/x expand the selected VM
 *	up/down (k/j) select   h help
 */
#ifndef MBEC_TOP_TUI_H
#define MBEC_TOP_TUI_H

#include <stdbool.h>

#include "top/render.h"

struct top_tui;

/* Take over the terminal.  NULL with one line in err when stdin/stdout is not a terminal. */
struct top_tui *top_tui_open(char *err, size_t errlen);
/* Give the terminal back as it was; NULL is fine. */
void top_tui_close(struct top_tui *t);

/* Draw the frame (again: after a key or a resize as well). */
void top_tui_draw(struct top_tui *t, struct top_model *m, struct top_view *v);

enum top_tui_action {
	TOP_TUI_NONE,		/* nothing happened */
	TOP_TUI_REDRAW,		/* the view changed: draw again */
	TOP_TUI_QUIT,
};

/* Handle every key waiting (waits at most timeout_ms for the first). */
enum top_tui_action top_tui_keys(struct top_tui *t, struct top_model *m, struct top_view *v,
				 int timeout_ms);

#endif /* MBEC_TOP_TUI_H */
