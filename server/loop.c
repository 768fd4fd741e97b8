/*
 * loop: the single-threaded event loop (epoll, level-triggered).
 *
 * Owns the registrations, not the fds. Timers are one-shot and kept in an
 * unsorted array: the daemon has a handful at most. Callbacks may add or
 * delete fds and timers, including their own, at any time; an fd deleted
 * during an iteration gets no further callback from that iteration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "server/server-int.h"

#define LOOP_MAX_EVENTS 64

struct loop_fd {
	loop_fd_fn *fn;
	void *arg;
	unsigned int mask;
	bool used;
};

struct loop_timer {
	uint64_t id;
	uint64_t due_ms;
	loop_timer_fn *fn;
	void *arg;
};

struct loop {
	int epfd;
	struct loop_fd *fds;		/* indexed by fd */
	size_t nfds;
	struct loop_timer *timers;
	size_t ntimers, timers_cap;
	uint64_t next_timer_id;
	loop_hook_fn *before_sleep;
	void *before_sleep_arg;
	bool woken;			/* the next wait does not block */
	uint64_t now_ms;		/* when the last wait returned */
};

static uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t
loop_epoll_events(unsigned int mask)
{
	uint32_t ev = 0;

	if (mask & LOOP_READ)
		ev |= EPOLLIN;
	if (mask & LOOP_WRITE)
		ev |= EPOLLOUT;
	return ev;
}

struct loop *
loop_new(void)
{
	struct loop *l;
	int fd;

	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->epfd = fd;
	l->next_timer_id = 1;
	l->now_ms = loop_now_ms();
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->fds);
	free(l->timers);
	free(l);
}

int
loop_add_fd(struct loop *l, int fd, unsigned int mask, loop_fd_fn *fn,
	    void *arg)
{
	struct epoll_event ev = { .events = loop_epoll_events(mask) };

	if (fd < 0)
		return -EBADF;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;

		while (n <= (size_t)fd)
			n *= 2;
		l->fds = xrealloc(l->fds, n * sizeof(*l->fds));
		memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof(*l->fds));
		l->nfds = n;
	}
	if (l->fds[fd].used)
		return -EEXIST;
	ev.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->fds[fd] = (struct loop_fd){ fn, arg, mask, true };
	return 0;
}

int
loop_set_fd(struct loop *l, int fd, unsigned int mask)
{
	struct epoll_event ev = { .events = loop_epoll_events(mask) };

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
		return -ENOENT;
	if (l->fds[fd].mask == mask)
		return 0;
	ev.data.fd = fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	l->fds[fd].mask = mask;
	return 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].used = false;
}

uint64_t
loop_add_timer(struct loop *l, uint64_t ms, loop_timer_fn *fn, void *arg)
{
	struct loop_timer *t;

	if (l->ntimers == l->timers_cap) {
		l->timers_cap = l->timers_cap ? l->timers_cap * 2 : 8;
		l->timers = xrealloc(l->timers,
				     l->timers_cap * sizeof(*l->timers));
	}
	t = &l->timers[l->ntimers++];
	t->id = l->next_timer_id++;
	t->due_ms = loop_now_ms() + ms;
	t->fn = fn;
	t->arg = arg;
	return t->id;
}

void
loop_del_timer(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->ntimers];
			return;
		}
	}
}

void
loop_set_before_sleep(struct loop *l, loop_hook_fn *fn, void *arg)
{
	l->before_sleep = fn;
	l->before_sleep_arg = arg;
}

uint64_t
loop_time_ms(const struct loop *l)
{
	return l->now_ms;
}

void
loop_wake(struct loop *l)
{
	l->woken = true;
}

/* Milliseconds until the first timer, capped by max_ms (-1: no cap). */
static int
loop_wait_ms(const struct loop *l, int max_ms)
{
	uint64_t now, first = UINT64_MAX;
	int wait = max_ms;

	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i].due_ms < first)
			first = l->timers[i].due_ms;
	if (first == UINT64_MAX)
		return wait;
	now = loop_now_ms();
	if (first <= now)
		return 0;
	if (first - now < (uint64_t)INT32_MAX &&
	    (wait < 0 || (int)(first - now) < wait))
		wait = (int)(first - now);
	return wait;
}

/* Fires due timers one at a time: a callback may change the array. */
static void
loop_run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();
	bool fired = true;

	while (fired) {
		fired = false;
		for (size_t i = 0; i < l->ntimers; i++) {
			struct loop_timer t = l->timers[i];

			if (t.due_ms > now)
				continue;
			l->timers[i] = l->timers[--l->ntimers];
			t.fn(l, t.id, t.arg);
			fired = true;
			break;
		}
	}
}

int
loop_run_once(struct loop *l, int max_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int n;

	if (l->before_sleep)
		l->before_sleep(l, l->before_sleep_arg);
	n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS,
		       l->woken ? 0 : loop_wait_ms(l, max_ms));
	l->woken = false;
	l->now_ms = loop_now_ms();
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		unsigned int mask = 0;
		struct loop_fd *r;

		if ((size_t)fd >= l->nfds || !l->fds[fd].used)
			continue;
		r = &l->fds[fd];
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			mask |= LOOP_READ;
		if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			mask |= LOOP_WRITE;
		r->fn(l, fd, mask, r->arg);
	}
	loop_run_timers(l);
	return 0;
}
