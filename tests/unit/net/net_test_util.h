/*
 * Helpers shared by the net unit tests: contexts on loopback, a bounded progress pump,
 * completion records, forked server processes.
 */
#ifndef CAIRN_TEST_NET_UTIL_H
#define CAIRN_TEST_NET_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/net.h"

struct tu_done {
	int calls;
	int rc;
};
void tu_done_cb(void *arg, int rc);

uint64_t tu_now_ms(void);
/* Progress every context until *flag becomes true (or cond() when flag is NULL) or
 * max_ms passes; returns true if the condition was met. */
bool tu_pump(struct cairn_net_ctx **ctx, unsigned n, const volatile int *calls, int want,
             uint64_t max_ms);
/* Same, until *v >= want. */
bool tu_pump_until_u(struct cairn_net_ctx **ctx, unsigned n, const volatile unsigned *v,
                     unsigned want, uint64_t max_ms);
void tu_pump_ms(struct cairn_net_ctx **ctx, unsigned n, uint64_t ms);

struct cairn_net_ctx *tu_server(struct cairn_net_group *grp, uint32_t rank, unsigned max_conns);
struct cairn_net_ctx *tu_client(struct cairn_net_group *grp, uint32_t credits, uint64_t timeout_us);

/* Fork a server process hosting ranks first..first+count-1 at the given ports (ports[i] for
 * rank first+i; 0 = any, reported through the returned pipe). The child serves until
 * its pipe closes or 30 s pass. *port_out gets the first bound port. */
pid_t tu_fork_server(const uint16_t *all_ports, unsigned nranks_total, uint32_t first,
                     unsigned count, uint16_t fixed_port, uint16_t *port_out, int *ctl_fd);
void tu_kill(pid_t pid, int ctl_fd);
/* Reserve n distinct free TCP port numbers on loopback. */
void tu_free_ports(uint16_t *ports, unsigned n);

#endif
