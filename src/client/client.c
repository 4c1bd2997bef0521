/*
 * libcairn lifetime (cairn_init/fini, reference counted) and global handles:
 * the registry of handle kinds and the versioned, checksummed envelope of
 * cairn_handle_local2global()/global2local().
 *
 * Global handle envelope (little-endian, CLI_GLOB_HDR_SIZE bytes, then the payload):
 *   0  u32 magic "CRNG"      8  u32 payload length
 *   4  u16 version           12 u32 CRC32C of the header (this field zero) + payload
 *   6  u16 handle kind
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "cairn/cairn.h"
#include "cli_glob.h"
#include "client_internal.h"
#include "common/csum.h"

#define CAIRN_LOG_SS CAIRN_SS_CLIENT
#include "common/log.h"

/* The envelope's layout (encoded field by field, little-endian, never memcpy'd). */
struct cli_glob_hdr_wire {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t payload_len;
	uint32_t crc;
};
_Static_assert(sizeof(struct cli_glob_hdr_wire) == CLI_GLOB_HDR_SIZE, "global handle header");
#define GH_VERSION offsetof(struct cli_glob_hdr_wire, version)
#define GH_TYPE offsetof(struct cli_glob_hdr_wire, type)
#define GH_LEN offsetof(struct cli_glob_hdr_wire, payload_len)
#define GH_CRC offsetof(struct cli_glob_hdr_wire, crc)

static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t g_init_refs;
static bool g_initialized;
static const struct cli_htype_ops *g_htypes[CLI_HTYPE_MAX];

bool
cli_initialized(void)
{
	return __atomic_load_n(&g_initialized, __ATOMIC_ACQUIRE);
}

int
cairn_init(void)
{
	int rc = 0;

	pthread_mutex_lock(&g_init_lock);
	if (g_init_refs == UINT32_MAX) {
		rc = -CAIRN_ERR_OVERFLOW;
		goto out;
	}
	if (g_init_refs++ > 0)
		goto out;
	/* A bad CAIRN_LOG_MASK/CAIRN_LOG_FILE is reported on stderr by the logger, which
	 * then keeps its defaults: not a reason to refuse the library. */
	(void)cairn_log_init();
	rc = cli_hdl_init();
	if (rc != 0)
		goto err_log;
	rc = cli_ev_lib_init();
	if (rc != 0)
		goto err_hdl;
	/* The private runtime and network context (cli_net.c): up from here to
	 * cairn_fini(), so the first pool connect does not pay for it. */
	rc = cli_net_rt_get();
	if (rc != 0) {
		(void)cli_ev_lib_fini();
		goto err_hdl;
	}
	/* Global pool and container handles (cli_glob.c); g_init_lock is held. */
	if (g_htypes[CLI_HTYPE_POOL] == NULL)
		g_htypes[CLI_HTYPE_POOL] = cli_pool_glob_ops();
	if (g_htypes[CLI_HTYPE_CONT] == NULL)
		g_htypes[CLI_HTYPE_CONT] = cli_cont_glob_ops();
	__atomic_store_n(&g_initialized, true, __ATOMIC_RELEASE);
	CAIRN_DEBUG("libcairn %d.%d.%d initialised", CAIRN_VERSION_MAJOR, CAIRN_VERSION_MINOR,
		    CAIRN_VERSION_PATCH);
	goto out;

err_hdl:
	cli_hdl_fini();
err_log:
	cairn_log_fini();
	g_init_refs--;
out:
	pthread_mutex_unlock(&g_init_lock);
	return rc;
}

int
cairn_fini(void)
{
	int rc = 0;

	pthread_mutex_lock(&g_init_lock);
	if (g_init_refs == 0) {
		rc = -CAIRN_ERR_INVAL;
		goto out;
	}
	if (g_init_refs > 1) {
		g_init_refs--;
		goto out;
	}
	rc = cli_ev_lib_fini();
	if (rc != 0) {
		CAIRN_ERROR("cairn_fini: event queues or operations still exist: %s",
			    cairn_strerror(rc));
		goto out;
	}
	__atomic_store_n(&g_initialized, false, __ATOMIC_RELEASE);
	if (g_htypes[CLI_HTYPE_POOL] == cli_pool_glob_ops())
		g_htypes[CLI_HTYPE_POOL] = NULL;
	if (g_htypes[CLI_HTYPE_CONT] == cli_cont_glob_ops())
		g_htypes[CLI_HTYPE_CONT] = NULL;
	cli_hdl_fini();
	cli_net_rt_put();
	cairn_log_fini();
	g_init_refs = 0;
out:
	pthread_mutex_unlock(&g_init_lock);
	return rc;
}

/* ------------------------------------------------------------------ handle kinds */

int
cli_htype_register(enum cli_htype type, const struct cli_htype_ops *ops)
{
	int rc = 0;

	if (type <= 0 || type >= CLI_HTYPE_MAX || type == CLI_HTYPE_EQ || ops == NULL ||
	    ops->pack_size == NULL || ops->pack == NULL || ops->unpack == NULL)
		return -CAIRN_ERR_INVAL;
	pthread_mutex_lock(&g_init_lock);
	if (g_htypes[type] != NULL)
		rc = -CAIRN_ERR_EXIST;
	else
		g_htypes[type] = ops;
	pthread_mutex_unlock(&g_init_lock);
	return rc;
}

int
cli_htype_unregister(enum cli_htype type)
{
	int rc = 0;

	if (type <= 0 || type >= CLI_HTYPE_MAX)
		return -CAIRN_ERR_NONEXIST;
	pthread_mutex_lock(&g_init_lock);
	if (g_htypes[type] == NULL)
		rc = -CAIRN_ERR_NONEXIST;
	g_htypes[type] = NULL;
	pthread_mutex_unlock(&g_init_lock);
	return rc;
}

static const struct cli_htype_ops *
htype_ops(unsigned int type)
{
	const struct cli_htype_ops *ops = NULL;

	if (type == 0 || type >= CLI_HTYPE_MAX)
		return NULL;
	pthread_mutex_lock(&g_init_lock);
	ops = g_htypes[type];
	pthread_mutex_unlock(&g_init_lock);
	return ops;
}

/* ------------------------------------------------------------------ envelope */

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint32_t
glob_crc(const uint8_t *hdr, const void *payload, size_t len)
{
	uint8_t h[CLI_GLOB_HDR_SIZE];
	uint32_t crc;

	memcpy(h, hdr, sizeof(h));
	put_le32(h + GH_CRC, 0);
	crc = cairn_crc32c(0, h, sizeof(h));
	return cairn_crc32c(crc, payload, len);
}

int
cairn_handle_local2global(struct cairn_handle h, struct cairn_iov *glob)
{
	const struct cli_htype_ops *ops;
	enum cli_htype type;
	struct cli_href *ref;
	size_t psize, total;
	uint8_t *buf;
	void *obj;
	int rc;

	if (glob == NULL || !cli_initialized())
		return -CAIRN_ERR_INVAL;
	type = (enum cli_htype)cli_hdl_cookie_type(h.cookie);
	obj = cli_hdl_lookup(h.cookie, (uint8_t)type, &ref);
	if (obj == NULL)
		return -CAIRN_ERR_NOHANDLE;
	ops = htype_ops(type);
	if (ops == NULL) {
		rc = -CAIRN_ERR_NOSYS;
		goto out;
	}
	psize = ops->pack_size(obj);
	if (psize > CLI_GLOB_MAX_PAYLOAD) {
		rc = -CAIRN_ERR_OVERFLOW;
		goto out;
	}
	total = CLI_GLOB_HDR_SIZE + psize;
	if (glob->buf == NULL || glob->buf_len < total) {
		glob->buf_len = total;
		rc = glob->buf == NULL ? 0 : -CAIRN_ERR_TRUNC;
		goto out;
	}
	buf = glob->buf;
	put_le32(buf, CLI_GLOB_MAGIC);
	put_le16(buf + GH_VERSION, CLI_GLOB_VERSION);
	put_le16(buf + GH_TYPE, (uint16_t)type);
	put_le32(buf + GH_LEN, (uint32_t)psize);
	put_le32(buf + GH_CRC, 0);
	rc = ops->pack(obj, buf + CLI_GLOB_HDR_SIZE, psize);
	if (rc != 0)
		goto out;
	put_le32(buf + GH_CRC, glob_crc(buf, buf + CLI_GLOB_HDR_SIZE, psize));
	glob->len = total;
out:
	cli_href_put(ref);
	return rc;
}

int
cairn_handle_global2local(const struct cairn_iov *glob, struct cairn_handle *h)
{
	const struct cli_htype_ops *ops;
	const uint8_t *buf;
	uint32_t psize;
	uint16_t type;

	if (glob == NULL || h == NULL || !cli_initialized() || (glob->buf == NULL && glob->len))
		return -CAIRN_ERR_INVAL;
	buf = glob->buf;
	if (glob->len < CLI_GLOB_HDR_SIZE || glob->len > glob->buf_len ||
	    get_le32(buf) != CLI_GLOB_MAGIC)
		return -CAIRN_ERR_PROTO;
	if (get_le16(buf + GH_VERSION) != CLI_GLOB_VERSION)
		return get_le16(buf + GH_VERSION) > CLI_GLOB_VERSION ? -CAIRN_ERR_VERSION
								    : -CAIRN_ERR_PROTO;
	psize = get_le32(buf + GH_LEN);
	if (psize > CLI_GLOB_MAX_PAYLOAD || glob->len != CLI_GLOB_HDR_SIZE + (size_t)psize)
		return -CAIRN_ERR_PROTO;
	if (get_le32(buf + GH_CRC) != glob_crc(buf, buf + CLI_GLOB_HDR_SIZE, psize))
		return -CAIRN_ERR_CSUM;
	type = get_le16(buf + GH_TYPE);
	ops = htype_ops(type);
	if (ops == NULL || type == CLI_HTYPE_EQ)
		return -CAIRN_ERR_NOSYS;
	return ops->unpack(buf + CLI_GLOB_HDR_SIZE, psize, h);
}
