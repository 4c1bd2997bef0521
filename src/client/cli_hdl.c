/*
 * libcairn's handle table: a common/handle.h table holding small holders that point
 * at the library's objects. See cli_hdl.h for why this file stands apart.
 */
#include <pthread.h>
#include <stdlib.h>

#include "cairn/errno.h"
#include "common/handle.h"
#include "common/list.h"
#include "cli_hdl.h"

struct cli_href {
	struct cairn_hobj h; /* common's: cookie + refcount */
	void *obj;
	void (*free_cb)(void *obj);
};

static pthread_mutex_t g_hdl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cairn_htab *g_htab;

int
cli_hdl_init(void)
{
	int rc = 0;

	pthread_mutex_lock(&g_hdl_lock);
	if (g_htab == NULL)
		rc = cairn_htab_create(&g_htab, 0);
	pthread_mutex_unlock(&g_hdl_lock);
	return rc;
}

void
cli_hdl_fini(void)
{
	pthread_mutex_lock(&g_hdl_lock);
	cairn_htab_destroy(g_htab);
	g_htab = NULL;
	pthread_mutex_unlock(&g_hdl_lock);
}

static void
href_free(struct cairn_hobj *h)
{
	struct cli_href *ref = cairn_container_of(h, struct cli_href, h);

	ref->free_cb(ref->obj);
	free(ref);
}

int
cli_hdl_insert(void *obj, uint8_t type, void (*free_cb)(void *obj), struct cli_href **refp,
	       uint64_t *cookie)
{
	struct cli_href *ref;
	int rc;

	if (obj == NULL || free_cb == NULL || type == 0 || cookie == NULL)
		return -CAIRN_ERR_INVAL;
	ref = calloc(1, sizeof(*ref));
	if (ref == NULL)
		return -CAIRN_ERR_NOMEM;
	ref->obj = obj;
	ref->free_cb = free_cb;
	cairn_handle_init(&ref->h, type, href_free);
	pthread_mutex_lock(&g_hdl_lock);
	rc = g_htab == NULL ? -CAIRN_ERR_INVAL : cairn_htab_insert(g_htab, &ref->h);
	pthread_mutex_unlock(&g_hdl_lock);
	if (rc != 0) {
		free(ref); /* the object stays the caller's */
		return rc;
	}
	*cookie = ref->h.cookie;
	if (refp != NULL)
		*refp = ref;
	else
		cairn_handle_put(&ref->h);
	return 0;
}

void *
cli_hdl_lookup(uint64_t cookie, uint8_t type, struct cli_href **refp)
{
	struct cairn_hobj *h = NULL;
	struct cli_href *ref;

	/* The mutex only guards g_htab's lifetime against cairn_fini(); the table has
	 * its own reader lock. */
	pthread_mutex_lock(&g_hdl_lock);
	if (g_htab != NULL && cookie != 0)
		h = cairn_htab_lookup(g_htab, cookie, type);
	pthread_mutex_unlock(&g_hdl_lock);
	if (h == NULL)
		return NULL;
	ref = cairn_container_of(h, struct cli_href, h);
	*refp = ref;
	return ref->obj;
}

int
cli_hdl_remove(uint64_t cookie, uint8_t type)
{
	int rc = -CAIRN_ERR_NOHANDLE;

	pthread_mutex_lock(&g_hdl_lock);
	if (g_htab != NULL && cookie != 0)
		rc = cairn_htab_remove(g_htab, cookie, type);
	pthread_mutex_unlock(&g_hdl_lock);
	return rc;
}

void
cli_href_get(struct cli_href *ref)
{
	cairn_handle_get(&ref->h);
}

void
cli_href_put(struct cli_href *ref)
{
	cairn_handle_put(&ref->h);
}

uint8_t
cli_hdl_cookie_type(uint64_t cookie)
{
	return (uint8_t)(cookie >> 24);
}

uint32_t
cli_hdl_count(void)
{
	uint32_t n = 0;

	pthread_mutex_lock(&g_hdl_lock);
	if (g_htab != NULL)
		n = cairn_htab_count(g_htab);
	pthread_mutex_unlock(&g_hdl_lock);
	return n;
}
