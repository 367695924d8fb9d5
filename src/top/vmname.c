// SPDX-License-Identifier: GPL-2.0
/*
 * Naming VMs (see vmname.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "top/vmname.h"

/* Copy one QEMU option value element (up to an unescaped comma), undoubling commas. */
static void copy_elem(const char *s, const char *end, char *out, size_t outlen)
{
	size_t n = 0;

	while (s < end && n + 1 < outlen) {
		if (*s == ',') {
			if (s + 1 < end && s[1] == ',') {
				out[n++] = ',';
				s += 2;
				continue;
			}
			break;
		}
		out[n++] = *s++;
	}
	out[n] = 0;
}

/* Next element of a comma-separated option value, or NULL. */
static const char *next_elem(const char *s, const char *end)
{
	while (s < end) {
		if (*s == ',') {
			if (s + 1 < end && s[1] == ',') {
				s += 2;
				continue;
			}
			return s + 1;
		}
		s++;
	}
	return NULL;
}

int top_name_from_cmdline(const char *cmdline, size_t len, char *name, size_t namelen)
{
	const char *p = cmdline, *end = cmdline + len;

	if (!namelen)
		return -1;
	while (p < end) {
		size_t l = strnlen(p, (size_t)(end - p));
		const char *val = p + l + 1, *vend, *e;

		if ((!strcmp(p, "-name") || !strcmp(p, "--name")) && val < end) {
			vend = val + strnlen(val, (size_t)(end - val));
			/* The name is the element "guest=NAME", or the first one without '='. */
			for (e = val; e; e = next_elem(e, vend)) {
				const char *eq = memchr(e, '=', (size_t)(vend - e));
				const char *comma = next_elem(e, vend);

				if (eq && comma && eq >= comma)
					eq = NULL;
				if (eq && (size_t)(eq - e) == 5 && !strncmp(e, "guest", 5)) {
					copy_elem(eq + 1, vend, name, namelen);
					return name[0] ? 0 : -1;
				}
				if (!eq && e == val) {
					copy_elem(e, vend, name, namelen);
					if (name[0])
						return 0;
				}
			}
			return -1;
		}
		p += l + 1;
	}
	return -1;
}

int top_name_from_pidfiles(const char *dir, uint32_t pid, char *name, size_t namelen)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char path[512], buf[32];
		ssize_t n;
		int fd;

		if (l <= 4 || strcmp(de->d_name + l - 4, ".pid"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (strtoul(buf, NULL, 10) != pid)
			continue;
		snprintf(name, namelen, "%.*s", (int)(l - 4), de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

void top_vm_name(uint32_t pid, char *name, size_t namelen)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n > 0 && !top_name_from_cmdline(buf, (size_t)n, name, namelen))
			return;
	}
	if (!top_name_from_pidfiles("/run/libvirt/qemu", pid, name, namelen))
		return;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			buf[strcspn(buf, "\n")] = 0;
			if (buf[0]) {
				snprintf(name, namelen, "%s", buf);
				return;
			}
		}
	}
	snprintf(name, namelen, "pid %u", pid);
}

/* Does the process hold a VM file descriptor? */
static bool holds_vm(const char *proc, const char *pid)
{
	char path[320], link[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/fd", proc, pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd/%s", proc, pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		found = !strcmp(link, "anon_inode:kvm-vm");
	}
	closedir(d);
	return found;
}

unsigned int top_scan_vms(const char *proc, uint32_t *pids, unsigned int max)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(proc);

	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid || pid > UINT32_MAX)
			continue;
		if (holds_vm(proc, de->d_name))
			pids[n++] = (uint32_t)pid;
	}
	closedir(d);
	return n;
}

bool top_pid_alive(uint32_t pid)
{
	char path[32];

	if (!pid)
		return false;
	if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
		/* A zombie is gone for our purposes: its VM is torn down. */
		FILE *f;
		char st = 0;

		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
		f = fopen(path, "r");
		if (!f)
			return false;
		if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
			st = 0;
		fclose(f);
		return st != 'Z' && st != 'X';
	}
	return false;
}
