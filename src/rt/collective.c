/*
 * rt_collective: run a function on every xstream of the given roles, each in a ULT on
 * its own xstream, in parallel; then fold the results in the caller, in xstream index
 * order. Joins park when the caller is a ULT, block when it is a plain thread.
 */
#include <stdlib.h>

#define CAIRN_LOG_SS CAIRN_SS_RT
#include "common/log.h"
#include "rt_internal.h"

struct coll_part {
	cairn_coll_fn fn;
	void *arg;
	int rc;
	int create_rc;
	struct cairn_ult *ult;
	unsigned xs_id;
};

static void
coll_ult(void *arg)
{
	struct coll_part *p = arg;

	p->rc = p->fn(p->arg);
}

int
cairn_rt_collective(uint32_t tags, cairn_coll_fn fn, void *arg, cairn_coll_reduce_fn reduce,
                    void *acc)
{
	struct cairn_ult_attr attr = {.prio = CAIRN_PRIO_GENERAL, .joinable = true};
	struct coll_part *parts;
	unsigned i, n = 0, nr_xs;
	int first = 0;

	if (fn == NULL || (tags & ~CAIRN_XS_TAG_ALL) != 0 || tags == 0)
		return -CAIRN_ERR_INVAL;
	if (!cairn_rt_running())
		return -CAIRN_ERR_SHUTDOWN;
	if (t_rt_xs != NULL && t_rt_xs->cur == NULL) {
		CAIRN_ERROR("%s: collective from a poller/message cannot wait", t_rt_xs->name);
		return -CAIRN_ERR_INVAL;
	}
	nr_xs = g_rt.nr_xs;
	parts = calloc(nr_xs, sizeof(*parts));
	if (parts == NULL)
		return -CAIRN_ERR_NOMEM;
	for (i = 0; i < nr_xs; i++) {
		struct cairn_xstream *xs = g_rt.xs[i];
		struct coll_part *p;

		if ((tags & (1u << xs->role)) == 0)
			continue;
		p = &parts[n++];
		p->fn = fn;
		p->arg = arg;
		p->xs_id = i;
		p->create_rc = cairn_ult_create(xs, coll_ult, p, &attr, &p->ult);
	}
	for (i = 0; i < n; i++) {
		struct coll_part *p = &parts[i];
		int rc = p->create_rc;

		if (rc == 0) {
			rc = cairn_ult_join(p->ult);
			if (rc == 0)
				rc = p->rc;
		}
		if (rc != 0 && first == 0)
			first = rc;
		if (reduce != NULL)
			reduce(acc, p->xs_id, rc, arg);
	}
	free(parts);
	return first;
}
