/* SPDX-License-Identifier: MIT */
/* vhost-user-bench: the clock and CPU time of both sides (worker.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

#define NS 1000000000ull

/* ---- clocks and CPU time ------------------------------------------------- */

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

double self_cpu_s(uint64_t *preempted)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	if (preempted)
		*preempted = (uint64_t)ru.ru_nivcsw;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	if (pid <= 0 || hz <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* proc(5): fields after "(comm)"; utime and stime are 14 and 15,
	 * i.e. the 12th and 13th after the closing parenthesis. Process
	 * totals: threads that ended are included. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
			 "%llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)hz;
}

/*
 * The back-end's CPU time, precisely: the sum of its threads' run time in
 * nanoseconds (/proc/PID/task/TID/schedstat, first field). A thread that
 * ends takes its time with it, so when the set of threads changed between
 * the two snapshots, fall back to /proc/PID/stat (process totals, dead
 * threads included, in clock ticks of 10 ms).
 */
static bool sched_cpu(pid_t pid, double *s, uint64_t *sig)
{
	char path[64];
	struct dirent *e;
	unsigned long long ns, sum = 0;
	uint64_t h = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while ((e = readdir(d))) {
		char p2[96];
		unsigned long tid;
		FILE *f;
		int ok;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		tid = strtoul(e->d_name, NULL, 10);
		snprintf(p2, sizeof(p2), "/proc/%d/task/%lu/schedstat",
			 (int)pid, tid);
		f = fopen(p2, "re");
		if (!f)
			continue; /* ended meanwhile: the signature differs */
		ok = fscanf(f, "%llu", &ns) == 1;
		fclose(f);
		if (!ok)
			continue;
		sum += ns;
		h = h * 1000003u + tid;
	}
	closedir(d);
	*s = (double)sum / 1e9;
	*sig = h;
	return true;
}

void cpu_snap_take(struct cpu_snap *sn, pid_t pid)
{
	sn->taken = true;
	sn->fe = self_cpu_s(&sn->fe_preempted);
	sn->be_stat = proc_cpu_s(pid);
	sn->have_sched = pid > 0 && sched_cpu(pid, &sn->be_sched, &sn->sig);
}

/* Back-end CPU seconds between @a and @b; < 0 when unknown. */
double cpu_snap_backend(const struct cpu_snap *a, const struct cpu_snap *b,
			bool *precise)
{
	*precise = a->have_sched && b->have_sched && a->sig == b->sig;
	if (*precise)
		return b->be_sched - a->be_sched;
	if (a->be_stat < 0 || b->be_stat < 0)
		return -1;
	return b->be_stat - a->be_stat;
}
