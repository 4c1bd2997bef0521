/*
 * Time helpers: monotonic clock for durations and timeouts, real-time clock for
 * timestamps, and sleeps that resume after signals. Any thread. Note: these sleep the OS
 * thread; code running in a ULT must use the runtime's sleep instead.
 */
#ifndef CAIRN_COMMON_TIME_H
#define CAIRN_COMMON_TIME_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#define CAIRN_NSEC_PER_USEC 1000ull
#define CAIRN_NSEC_PER_MSEC 1000000ull
#define CAIRN_NSEC_PER_SEC 1000000000ull
#define CAIRN_USEC_PER_SEC 1000000ull
#define CAIRN_MSEC_PER_SEC 1000ull

static inline uint64_t
cairn_timespec_to_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * CAIRN_NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

static inline struct timespec
cairn_ns_to_timespec(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / CAIRN_NSEC_PER_SEC),
		.tv_nsec = (long)(ns % CAIRN_NSEC_PER_SEC),
	};
	return ts;
}

/** Monotonic time in nanoseconds (CLOCK_MONOTONIC; arbitrary origin). */
static inline uint64_t
cairn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return cairn_timespec_to_ns(&ts);
}

static inline uint64_t
cairn_now_us(void)
{
	return cairn_now_ns() / CAIRN_NSEC_PER_USEC;
}

static inline uint64_t
cairn_now_ms(void)
{
	return cairn_now_ns() / CAIRN_NSEC_PER_MSEC;
}

/** Coarse monotonic milliseconds (a few ms resolution, much cheaper): rate limits. */
static inline uint64_t
cairn_now_ms_coarse(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return cairn_timespec_to_ns(&ts) / CAIRN_NSEC_PER_MSEC;
}

/** Wall-clock time in nanoseconds since the Unix epoch (CLOCK_REALTIME). */
static inline uint64_t
cairn_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return cairn_timespec_to_ns(&ts);
}

static inline uint64_t
cairn_wall_us(void)
{
	return cairn_wall_ns() / CAIRN_NSEC_PER_USEC;
}

/** Sleep the calling OS thread for at least ns nanoseconds, resuming after signals. */
static inline void
cairn_sleep_ns(uint64_t ns)
{
	struct timespec ts = cairn_ns_to_timespec(ns);

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static inline void
cairn_sleep_us(uint64_t us)
{
	cairn_sleep_ns(us * CAIRN_NSEC_PER_USEC);
}

static inline void
cairn_sleep_ms(uint64_t ms)
{
	cairn_sleep_ns(ms * CAIRN_NSEC_PER_MSEC);
}

/** Absolute CLOCK_REALTIME deadline `ns` from now, for pthread_cond_timedwait(). */
static inline struct timespec
cairn_deadline_realtime(uint64_t ns)
{
	return cairn_ns_to_timespec(cairn_wall_ns() + ns);
}

#endif /* CAIRN_COMMON_TIME_H */
