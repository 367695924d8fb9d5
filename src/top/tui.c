// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop's terminal front end (see tui.h).  The frame comes from
 * top_render() as lines; this file only places them: the header stays,
 * the VM rows scroll to keep the selection in sight, the last line says
 * which keys do what (or holds the filter prompt).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ncursesw/curses.h>

#include "top/tui.h"

#define MAX_LINES 4096
#define LINE_LEN 512

struct tline {
	enum top_line_kind kind;
	char text[LINE_LEN];
};

struct top_tui {
	struct tline *lines;
	unsigned int nr_lines;
	int scroll;		/* first body line shown */
	bool help;		/* the help screen is up */
	bool prompt;		/* editing the filter */
	char input[64];
	size_t input_len;
	bool colors;
	SCREEN *screen;
};

static const char *const help_text[] = {
	"mbectop: KVM MMU activity per VM (faults, SPTE installs, anomalies)",
	"",
	"  q            quit",
	"  space        pause / resume the display",
	"  s            sort by the next column",
	"  o            reverse the sort order",
	"  f            filter: a pid or part of a VM name (empty: show all)",
	"  enter, x     expand the selected VM into its vCPUs (again: collapse)",
	"  up/down, k/j select a VM",
	"  h, ?         this help",
	"",
	"Columns are per second over the refresh interval, except ANOM (total).",
	"FAULT faults KVM handled (EPT violations, #NPF, intercepted #PF, or",
	"those it maps), SPTE installs, GPF guest walks that faulted (the guest's",
	"own #PF).",
	"By access: READ WRITE FETCH, USER SUPV (privilege, when known).",
	"By cause: NOTP nothing mapped, PERM permission, XS/XU fetch permission",
	"faults of supervisor/user code, RSVD reserved bits (MMIO).",
	"SPTEs granting R W XS XU (EPT) or with U W NX (shadow, NPT), by page size.",
	"Counts come from in-kernel counters: right even when events are lost.",
	"",
	"Press any key to return.",
};

struct top_tui *top_tui_open(char *err, size_t errlen)
{
	struct top_tui *t;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, errlen, "not a terminal: the live view needs one; use -b for batch "
			 "mode (plain text frames)");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t)
		t->lines = calloc(MAX_LINES, sizeof(*t->lines));
	if (!t || !t->lines) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->screen = newterm(NULL, stdout, stdin);
	if (!t->screen) {
		free(t->lines);
		free(t);
		snprintf(err, errlen, "cannot drive this terminal (TERM=%s); set TERM or use -b",
			 getenv("TERM") ? getenv("TERM") : "");
		return NULL;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_CYAN, -1);
		t->colors = true;
	}
	return t;
}

void top_tui_close(struct top_tui *t)
{
	if (!t)
		return;
	curs_set(1);
	endwin();
	delscreen(t->screen);
	free(t->lines);
	free(t);
}

static void collect(void *ctx, enum top_line_kind kind, const char *text)
{
	struct top_tui *t = ctx;

	if (t->nr_lines >= MAX_LINES)
		return;
	t->lines[t->nr_lines].kind = kind;
	snprintf(t->lines[t->nr_lines].text, LINE_LEN, "%s", text);
	t->nr_lines++;
}

static attr_t attr_of(const struct top_tui *t, enum top_line_kind k)
{
	switch (k) {
	case TOP_L_TITLE:
		return A_BOLD;
	case TOP_L_COLUMNS:
		return A_REVERSE;
	case TOP_L_VM_SELECTED:
		return A_REVERSE | A_BOLD;
	case TOP_L_VM_GONE:
		return A_DIM;
	case TOP_L_NOTE:
		return A_BOLD | (t->colors ? COLOR_PAIR(2) : 0);
	default:
		return A_NORMAL;
	}
}

static void draw_help(void)
{
	unsigned int i;

	erase();
	for (i = 0; i < sizeof(help_text) / sizeof(help_text[0]) && (int)i < LINES; i++)
		mvaddnstr((int)i, 0, help_text[i], COLS);
	refresh();
}

void top_tui_draw(struct top_tui *t, struct top_model *m, struct top_view *v)
{
	unsigned int i, body = 0, sel = 0;
	int y = 0, rows;
	bool have_sel = false;
	uint32_t pids[1];
	struct top_vm *vm;

	if (t->help) {
		draw_help();
		return;
	}
	/* Keep a selection on a visible VM. */
	vm = v->selected_pid ? top_model_vm(m, v->selected_pid, false) : NULL;
	if (!vm || !top_vm_matches(vm, v->filter)) {
		top_model_sort(m, v->sort_key, v->reverse);
		v->selected_pid = top_visible_vms(m, v, pids, 1) ? pids[0] : 0;
	}
	t->nr_lines = 0;
	top_render(m, v, collect, t);
	erase();
	if (LINES < 6 || COLS < 20) {
		mvaddnstr(0, 0, "mbectop: terminal too small", COLS);
		refresh();
		return;
	}
	/* The header: everything up to the column heads. */
	for (i = 0; i < t->nr_lines; i++) {
		attron(attr_of(t, t->lines[i].kind));
		mvaddnstr(y++, 0, t->lines[i].text, COLS);
		attroff(attr_of(t, t->lines[i].kind));
		if (t->lines[i].kind == TOP_L_COLUMNS) {
			body = i + 1;
			break;
		}
	}
	rows = LINES - y - 1;
	for (i = body; i < t->nr_lines; i++)
		if (t->lines[i].kind == TOP_L_VM_SELECTED) {
			sel = i - body;
			have_sel = true;
		}
	if (have_sel) {
		if ((int)sel < t->scroll)
			t->scroll = (int)sel;
		else if ((int)sel >= t->scroll + rows)
			t->scroll = (int)sel - rows + 1;
	}
	if (t->scroll > (int)(t->nr_lines - body) - rows)
		t->scroll = (int)(t->nr_lines - body) - rows;
	if (t->scroll < 0)
		t->scroll = 0;
	for (i = body + (unsigned int)t->scroll; i < t->nr_lines && y < LINES - 1; i++) {
		attr_t a = attr_of(t, t->lines[i].kind);

		attron(a);
		mvaddnstr(y++, 0, t->lines[i].text, COLS);
		attroff(a);
	}
	attron(A_REVERSE);
	if (t->prompt) {
		mvprintw(LINES - 1, 0, "filter (pid or name; empty shows all): %s", t->input);
		curs_set(1);
	} else {
		mvaddnstr(LINES - 1, 0, " q quit  h help  s sort  o order  f filter  "
			  "enter/x expand  space pause", COLS);
		curs_set(0);
	}
	attroff(A_REVERSE);
	refresh();
}

/* Move the selection by delta among the visible VMs. */
static void move_sel(struct top_model *m, struct top_view *v, int delta)
{
	uint32_t pids[1024];
	unsigned int n, i;
	int at = 0;

	top_model_sort(m, v->sort_key, v->reverse);
	n = top_visible_vms(m, v, pids, 1024);
	if (!n)
		return;
	for (i = 0; i < n; i++)
		if (pids[i] == v->selected_pid)
			at = (int)i;
	at += delta;
	if (at < 0)
		at = 0;
	if (at >= (int)n)
		at = (int)n - 1;
	v->selected_pid = pids[at];
}

static int next_sort(int key)
{
	/* The order of the columns, then pid and name. */
	static const int order[] = {
		TOP_S_FAULTS, TOP_S_SPTES, TOP_S_GPF, TOP_S_ANOM, TOP_S_READ, TOP_S_WRITE,
		TOP_S_FETCH, TOP_S_USER, TOP_S_SUPV, TOP_S_NOTP, TOP_S_PERM, TOP_S_XS, TOP_S_XU,
		TOP_SORT_PID, TOP_SORT_NAME,
	};
	unsigned int i, n = sizeof(order) / sizeof(order[0]);

	for (i = 0; i < n; i++)
		if (order[i] == key)
			return order[(i + 1) % n];
	return order[0];
}

static enum top_tui_action prompt_key(struct top_tui *t, struct top_view *v, int ch)
{
	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
		snprintf(v->filter, sizeof(v->filter), "%s", t->input);
		t->prompt = false;
		v->selected_pid = 0;
	} else if (ch == 27) {
		t->prompt = false;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (t->input_len)
			t->input[--t->input_len] = 0;
	} else if (ch >= 32 && ch < 127 && t->input_len + 1 < sizeof(t->input)) {
		t->input[t->input_len++] = (char)ch;
		t->input[t->input_len] = 0;
	}
	return TOP_TUI_REDRAW;
}

enum top_tui_action top_tui_keys(struct top_tui *t, struct top_model *m, struct top_view *v,
				 int timeout_ms)
{
	enum top_tui_action act = TOP_TUI_NONE;
	int ch;

	timeout(timeout_ms);
	while ((ch = getch()) != ERR) {
		struct top_vm *vm;

		timeout(0);
		if (ch == KEY_RESIZE) {
			act = TOP_TUI_REDRAW;
			continue;
		}
		if (t->prompt) {
			act = prompt_key(t, v, ch);
			continue;
		}
		if (t->help) {
			t->help = false;
			act = TOP_TUI_REDRAW;
			continue;
		}
		switch (ch) {
		case 'q':
		case 'Q':
			return TOP_TUI_QUIT;
		case ' ':
			v->paused = !v->paused;
			break;
		case 's':
			v->sort_key = next_sort(v->sort_key);
			break;
		case 'o':
			v->reverse = !v->reverse;
			break;
		case 'f':
			t->prompt = true;
			snprintf(t->input, sizeof(t->input), "%s", v->filter);
			t->input_len = strlen(t->input);
			break;
		case 'x':
		case '\n':
		case '\r':
		case KEY_ENTER:
			vm = top_model_vm(m, v->selected_pid, false);
			if (vm)
				vm->expanded = !vm->expanded;
			break;
		case KEY_UP:
		case 'k':
			move_sel(m, v, -1);
			break;
		case KEY_DOWN:
		case 'j':
			move_sel(m, v, 1);
			break;
		case KEY_PPAGE:
			move_sel(m, v, -10);
			break;
		case KEY_NPAGE:
			move_sel(m, v, 10);
			break;
		case 'h':
		case '?':
			t->help = true;
			break;
		default:
			continue;
		}
		act = TOP_TUI_REDRAW;
	}
	return act;
}
