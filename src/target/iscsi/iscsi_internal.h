/*
 * Private to src/target/iscsi: wire constants (RFC 7143), PDU helpers, text-key
 * negotiation, CHAP, MD5, and the connection/session/config objects.
 */
#ifndef CAIRN_ISCSI_INTERNAL_H
#define CAIRN_ISCSI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ wire constants */

#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_MAX_AHS_LEN (255 * 4)

/* Initiator opcodes */
#define ISCSI_OP_NOPOUT 0x00
#define ISCSI_OP_SCSI_CMD 0x01
#define ISCSI_OP_TASK_REQ 0x02
#define ISCSI_OP_LOGIN_REQ 0x03
#define ISCSI_OP_TEXT_REQ 0x04
#define ISCSI_OP_DATA_OUT 0x05
#define ISCSI_OP_LOGOUT_REQ 0x06
#define ISCSI_OP_SNACK 0x10
/* Target opcodes */
#define ISCSI_OP_NOPIN 0x20
#define ISCSI_OP_SCSI_RSP 0x21
#define ISCSI_OP_TASK_RSP 0x22
#define ISCSI_OP_LOGIN_RSP 0x23
#define ISCSI_OP_TEXT_RSP 0x24
#define ISCSI_OP_DATA_IN 0x25
#define ISCSI_OP_LOGOUT_RSP 0x26
#define ISCSI_OP_R2T 0x31
#define ISCSI_OP_ASYNC 0x32
#define ISCSI_OP_REJECT 0x3f

#define ISCSI_OP_IMMEDIATE 0x40
#define ISCSI_OPCODE_MASK 0x3f

#define ISCSI_FLAG_FINAL 0x80
/* SCSI command flags */
#define ISCSI_CMD_READ 0x40
#define ISCSI_CMD_WRITE 0x20
#define ISCSI_CMD_ATTR_MASK 0x07
/* Login flags */
#define ISCSI_LOGIN_TRANSIT 0x80
#define ISCSI_LOGIN_CONTINUE 0x40
#define ISCSI_LOGIN_CSG(f) (((f) >> 2) & 3)
#define ISCSI_LOGIN_NSG(f) ((f) & 3)
#define ISCSI_STAGE_SECURITY 0
#define ISCSI_STAGE_OPERATIONAL 1
#define ISCSI_STAGE_FULL 3
/* Text flags */
#define ISCSI_TEXT_CONTINUE 0x40
/* Data-In flags */
#define ISCSI_DATAIN_ACK 0x40
#define ISCSI_DATAIN_OVERFLOW 0x04
#define ISCSI_DATAIN_UNDERFLOW 0x02
#define ISCSI_DATAIN_STATUS 0x01
/* SCSI Response flags */
#define ISCSI_RSP_BIDI_OVERFLOW 0x10
#define ISCSI_RSP_BIDI_UNDERFLOW 0x08
#define ISCSI_RSP_OVERFLOW 0x04
#define ISCSI_RSP_UNDERFLOW 0x02

/* Reject reasons */
#define ISCSI_REJECT_DIGEST 0x02
#define ISCSI_REJECT_SNACK 0x03
#define ISCSI_REJECT_PROTOCOL 0x04
#define ISCSI_REJECT_CMD_NOT_SUPPORTED 0x05
#define ISCSI_REJECT_IMM_CMD 0x06
#define ISCSI_REJECT_TASK_IN_PROGRESS 0x07
#define ISCSI_REJECT_INVALID_DATA_ACK 0x08
#define ISCSI_REJECT_INVALID_FIELD 0x09
#define ISCSI_REJECT_LONG_OP 0x0a
#define ISCSI_REJECT_NEGOTIATION 0x0b
#define ISCSI_REJECT_WAITING_LOGOUT 0x0c

/* Task management functions and responses */
#define ISCSI_TMF_ABORT_TASK 1
#define ISCSI_TMF_ABORT_TASK_SET 2
#define ISCSI_TMF_CLEAR_ACA 3
#define ISCSI_TMF_CLEAR_TASK_SET 4
#define ISCSI_TMF_LUN_RESET 5
#define ISCSI_TMF_TARGET_WARM_RESET 6
#define ISCSI_TMF_TARGET_COLD_RESET 7
#define ISCSI_TMF_TASK_REASSIGN 8
#define ISCSI_TMF_RSP_COMPLETE 0
#define ISCSI_TMF_RSP_NO_TASK 1
#define ISCSI_TMF_RSP_NO_LUN 2
#define ISCSI_TMF_RSP_REASSIGN_UNSUPP 4
#define ISCSI_TMF_RSP_NOT_SUPPORTED 5
#define ISCSI_TMF_RSP_REJECTED 255

/* Login status class/detail (RFC 7143 11.13.5) */
#define ISCSI_LS_SUCCESS 0x0000
#define ISCSI_LS_INIT_ERR 0x0200
#define ISCSI_LS_AUTH_FAILED 0x0201
#define ISCSI_LS_AUTHZ_FAILED 0x0202
#define ISCSI_LS_NOT_FOUND 0x0203
#define ISCSI_LS_TARGET_REMOVED 0x0204
#define ISCSI_LS_UNSUPPORTED_VERSION 0x0205
#define ISCSI_LS_TOO_MANY_CONNS 0x0206
#define ISCSI_LS_MISSING_PARAM 0x0207
#define ISCSI_LS_CANT_INCLUDE_IN_SESSION 0x0208
#define ISCSI_LS_SESSION_TYPE_UNSUPP 0x0209
#define ISCSI_LS_NO_SESSION 0x020a
#define ISCSI_LS_INVALID_DURING_LOGIN 0x020b
#define ISCSI_LS_TARGET_ERR 0x0300
#define ISCSI_LS_SERVICE_UNAVAIL 0x0301
#define ISCSI_LS_NO_RESOURCES 0x0302

/* Logout reasons / responses */
#define ISCSI_LOGOUT_CLOSE_SESSION 0
#define ISCSI_LOGOUT_CLOSE_CONN 1
#define ISCSI_LOGOUT_REMOVE_CONN 2
#define ISCSI_LOGOUT_RSP_OK 0
#define ISCSI_LOGOUT_RSP_CID_NOT_FOUND 1
#define ISCSI_LOGOUT_RSP_RECOVERY_UNSUPP 2
#define ISCSI_LOGOUT_RSP_CLEANUP_FAILED 3

#define ISCSI_RSVD_TAG 0xffffffffu

/* ------------------------------------------------------------------ byte helpers */

static inline uint16_t
iscsi_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
iscsi_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t
iscsi_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
iscsi_get_be64(const uint8_t *p)
{
	return (uint64_t)iscsi_get_be32(p) << 32 | iscsi_get_be32(p + 4);
}

static inline void
iscsi_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
iscsi_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void
iscsi_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
iscsi_put_be64(uint8_t *p, uint64_t v)
{
	iscsi_put_be32(p, (uint32_t)(v >> 32));
	iscsi_put_be32(p + 4, (uint32_t)v);
}

/* Serial number arithmetic (RFC 1982, 32 bits) for CmdSN/StatSN windows. */
static inline bool
iscsi_sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

static inline bool
iscsi_sn_le(uint32_t a, uint32_t b)
{
	return a == b || iscsi_sn_lt(a, b);
}

static inline uint32_t
iscsi_pad4(uint32_t len)
{
	return (4 - (len & 3)) & 3;
}

/* ------------------------------------------------------------------ PDU header */

/* Decoded Basic Header Segment: just the fields common to every PDU. */
struct iscsi_bhs_info {
	uint8_t opcode;    /* without the immediate bit */
	bool immediate;
	uint8_t flags;
	uint16_t ahs_len;  /* bytes (TotalAHSLength * 4) */
	uint32_t data_len; /* DataSegmentLength (without pad) */
	uint32_t itt;
};

/* Decode and validate the BHS: known initiator opcode, reserved fields zero where the
 * RFC says "must be zero" and the initiator-side flag combinations we rely on; data
 * segment length within max_data. Returns 0, or -CAIRN_ERR_PROTO with *reject_reason set
 * (ISCSI_REJECT_*) and a message in *why. */
int iscsi_bhs_decode(const uint8_t bhs[ISCSI_BHS_LEN], uint32_t max_data,
		     struct iscsi_bhs_info *info, uint8_t *reject_reason, const char **why);

/* CRC32C as used for iSCSI digests (initial ~0, final complement). */
uint32_t iscsi_crc32c(const void *buf, size_t len, uint32_t crc);
#define ISCSI_CRC32C_INIT 0xffffffffu
static inline uint32_t
iscsi_crc32c_final(uint32_t crc)
{
	return crc ^ 0xffffffffu;
}
/* Digest of a header (BHS + AHS) or a data segment (with pad), host order. */
uint32_t iscsi_digest(const void *buf, size_t len);
static inline void
iscsi_put_digest(uint8_t *p, uint32_t d)
{
	/* RFC 7143 11.1: digests go on the wire least significant byte first, as ISA-L,
	 * Linux and libiscsi produce them. */
	p[0] = (uint8_t)d;
	p[1] = (uint8_t)(d >> 8);
	p[2] = (uint8_t)(d >> 16);
	p[3] = (uint8_t)(d >> 24);
}
static inline uint32_t
iscsi_get_digest(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ text keys */

#define ISCSI_TEXT_MAX_PAIRS 128
#define ISCSI_KEY_MAX 63
#define ISCSI_VALUE_MAX 8192

struct iscsi_kv {
	const char *key;
	const char *val;
};

struct iscsi_text {
	unsigned n;
	struct iscsi_kv kv[ISCSI_TEXT_MAX_PAIRS];
};

/* Split a key=value\0 list in place (buf is modified; pairs point into it). Rejects a
 * missing '=', empty or over-long keys (> 63), over-long values, keys with characters
 * outside RFC 7143 5.1, duplicates, more than ISCSI_TEXT_MAX_PAIRS pairs. A trailing
 * pair without NUL is accepted (some initiators omit it) only when buf has room: the
 * caller passes len < cap. Returns 0 or -CAIRN_ERR_PROTO (why says what). */
int iscsi_text_parse(char *buf, size_t len, size_t cap, struct iscsi_text *out,
		     const char **why);
const char *iscsi_text_get(const struct iscsi_text *t, const char *key);

/* Output buffer for key=value responses. */
struct iscsi_textbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool overflow;
};
void iscsi_textbuf_add(struct iscsi_textbuf *tb, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Operational parameters of a session (and the per-connection digests). */
struct iscsi_params {
	bool header_digest;
	bool data_digest;
	uint32_t max_recv_dsl;  /* what we accept (declared by us) */
	uint32_t max_send_dsl;  /* what the initiator accepts (declared by it) */
	uint32_t first_burst;
	uint32_t max_burst;
	bool immediate_data;
	bool initial_r2t;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	uint32_t erl;
	uint32_t time2wait;
	uint32_t time2retain;
	uint32_t max_connections;
};

/* Target-side defaults/limits that negotiation works against. */
struct iscsi_param_limits {
	uint32_t max_recv_dsl;
	uint32_t first_burst;
	uint32_t max_burst;
	bool immediate_data;
	bool initial_r2t;
	uint32_t max_outstanding_r2t;
	uint32_t time2wait;
	uint32_t time2retain;
	uint32_t max_connections;
	bool allow_digests;
};

void iscsi_params_default(struct iscsi_params *p);
void iscsi_param_limits_default(struct iscsi_param_limits *l);

/* Negotiate one operational key offered by the initiator: update *p and append the
 * answer to tb. Unknown keys get "NotUnderstood", out-of-range or malformed values
 * "Reject". discovery: session type Discovery (burst keys Irrelevant).
 * Returns 1 when the key was an operational key handled here, 0 when it is not one
 * (caller handles it), -CAIRN_ERR_PROTO when the value is so wrong the login must fail. */
int iscsi_param_negotiate(struct iscsi_params *p, const struct iscsi_param_limits *lim,
			  bool discovery, const char *key, const char *val,
			  struct iscsi_textbuf *tb);
/* Keys we answer even when the initiator did not offer them (declarative ones the
 * target must state, RFC 7143 13.x): called once at the end of operational stage. */
void iscsi_param_declare(struct iscsi_params *p, const struct iscsi_param_limits *lim,
			 bool discovery, uint32_t offered_mask, struct iscsi_textbuf *tb);
/* Bit in offered_mask for a key name (0 if not tracked). */
uint32_t iscsi_param_key_bit(const char *key);

int iscsi_parse_number(const char *val, uint64_t max, uint64_t *out);

/* ------------------------------------------------------------------ MD5 / CHAP */

struct iscsi_md5 {
	uint32_t h[4];
	uint64_t len;
	uint8_t buf[64];
	size_t used;
};
void iscsi_md5_init(struct iscsi_md5 *ctx);
void iscsi_md5_update(struct iscsi_md5 *ctx, const void *data, size_t len);
void iscsi_md5_final(struct iscsi_md5 *ctx, uint8_t out[16]);

#define ISCSI_CHAP_CHALLENGE_LEN 32
#define ISCSI_CHAP_MAX_BIN 1024
#define ISCSI_CHAP_NAME_MAX 255
#define ISCSI_CHAP_SECRET_MAX 255

/* CHAP_R = MD5(id || secret || challenge) (RFC 1994). */
void iscsi_chap_response(uint8_t id, const char *secret, const uint8_t *challenge,
			 size_t challenge_len, uint8_t out[16]);
/* Decode a binary value "0x..." (hex) or "0b..." (base64). Returns byte count or
 * -CAIRN_ERR_INVAL / -CAIRN_ERR_OVERFLOW. */
int iscsi_bin_decode(const char *val, uint8_t *out, size_t cap);
/* Encode as "0x" + hex; returns 0 or -CAIRN_ERR_TRUNC. */
int iscsi_bin_encode_hex(const uint8_t *in, size_t len, char *out, size_t cap);

/* One CHAP exchange on a connection, target side. */
enum iscsi_chap_state {
	ISCSI_CHAP_NONE = 0,    /* AuthMethod not yet CHAP */
	ISCSI_CHAP_WAIT_A,      /* waiting for CHAP_A */
	ISCSI_CHAP_WAIT_NR,     /* challenge sent, waiting for CHAP_N/CHAP_R */
	ISCSI_CHAP_DONE,        /* authenticated */
};

struct iscsi_chap_secret {
	char user[ISCSI_CHAP_NAME_MAX + 1];
	char secret[ISCSI_CHAP_SECRET_MAX + 1];
	char muser[ISCSI_CHAP_NAME_MAX + 1];   /* mutual: our name */
	char msecret[ISCSI_CHAP_SECRET_MAX + 1];
};

/* Looks a user up; returns 0 and fills *out, or -CAIRN_ERR_NONEXIST. */
typedef int (*iscsi_chap_lookup_fn)(void *arg, const char *user, struct iscsi_chap_secret *out);

struct iscsi_chap {
	enum iscsi_chap_state state;
	uint8_t id;
	uint8_t challenge[ISCSI_CHAP_CHALLENGE_LEN];
	bool mutual_required;
};

/* Handle the CHAP keys of one login request in security stage. Appends our keys to tb.
 * Returns 0 (continue), 1 (authentication complete), or -CAIRN_ERR_PERM (auth failed:
 * login must end with 0201), -CAIRN_ERR_PROTO (malformed: 0207/0200). */
int iscsi_chap_step(struct iscsi_chap *chap, const struct iscsi_text *req,
		    iscsi_chap_lookup_fn lookup, void *lookup_arg, struct iscsi_textbuf *tb,
		    const char **why);


/* ------------------------------------------------------------------ objects */

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/list.h"
#include "target/iscsi.h"
#include "target/scsi.h"

struct cairn_xstream;
struct cairn_poller;

struct iscsi_listener {
	int fd;
	uint32_t pg_tag;
	struct cairn_iscsi_portal portal; /* as configured, port updated after bind */
	struct iscsi_listener *next_active; /* acceptor's list */
	bool closing;
};

struct iscsi_portal_grp {
	uint32_t tag;
	unsigned n;
	struct iscsi_listener *listeners[CAIRN_ISCSI_MAX_PORTALS];
	struct cairn_list link;
};

struct iscsi_netmask {
	bool any;
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

struct iscsi_init_grp {
	uint32_t tag;
	unsigned ni, nn;
	char *initiators[CAIRN_ISCSI_MAX_IG_ENTRIES];
	char *netmask_str[CAIRN_ISCSI_MAX_IG_ENTRIES];
	struct iscsi_netmask netmasks[CAIRN_ISCSI_MAX_IG_ENTRIES];
	struct cairn_list link;
};

struct iscsi_auth_grp {
	uint32_t tag;
	unsigned n;
	struct iscsi_chap_secret secrets[CAIRN_ISCSI_MAX_SECRETS];
	struct cairn_list link;
};

struct iscsi_auth_cfg {
	bool disable_chap;
	bool require_chap;
	bool mutual_chap;
	uint32_t chap_group;
};

struct iscsi_tgt_node {
	char name[CAIRN_ISCSI_NAME_MAX];
	char alias[CAIRN_ISCSI_NAME_MAX];
	unsigned nmaps;
	struct cairn_iscsi_pg_ig_map maps[CAIRN_ISCSI_MAX_PG_IG_MAPS];
	uint32_t queue_depth;
	struct iscsi_auth_cfg auth;
	bool header_digest;
	bool data_digest;
	struct cairn_scsi_dev *dev;
	uint32_t refs;      /* registry + sessions; atomic */
	bool deleted;
	struct cairn_list link;
};

/* Process-wide state. */
struct iscsi_globals {
	bool initialized;
	struct cairn_iscsi_opts opts;
	struct iscsi_param_limits limits;
	pthread_mutex_t lock; /* guards everything below */
	struct cairn_list portal_grps;
	struct cairn_list init_grps;
	struct cairn_list auth_grps;
	struct cairn_list tgt_nodes;
	struct iscsi_auth_cfg discovery_auth;
	struct cairn_list sessions;   /* all sessions, for reinstatement and TSIH lookup */
	uint16_t next_tsih;
	unsigned nr_sessions;
	uint32_t nr_conns;            /* atomic */
	uint32_t next_conn_id;        /* atomic */
	unsigned npg;
	struct iscsi_poll_group *pgs;
	unsigned next_pg;             /* atomic, round robin */
	struct iscsi_listener *new_listeners; /* atomic stack handed to the acceptor */
};

extern struct iscsi_globals g_iscsi;

/* Wire PDU going out: header (+ digest) inline, data by reference. */
struct iscsi_tx_pdu {
	uint8_t hdr[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
	uint8_t trailer[3 + ISCSI_DIGEST_LEN]; /* pad + data digest */
	uint32_t hdr_len;
	uint32_t trailer_len;
	const uint8_t *data;
	uint32_t data_len;
	uint32_t sent;       /* bytes of this PDU already written */
	uint32_t total;
	struct iscsi_task *task;   /* released when its last PDU is written */
	bool task_last;
	bool owns_data;      /* data malloc'd for this PDU */
	struct cairn_list link;
};

enum iscsi_task_state {
	ISCSI_TASK_FREE = 0,
	ISCSI_TASK_WAIT_CMDSN,  /* held until the CmdSN window reaches it */
	ISCSI_TASK_DATA_OUT,    /* receiving write data */
	ISCSI_TASK_EXEC,        /* in the SCSI layer */
	ISCSI_TASK_TX,          /* response queued */
};

struct iscsi_task {
	struct iscsi_conn *conn;
	enum iscsi_task_state state;
	uint32_t idx;           /* in the pool; TTT = idx | (gen << 16) */
	uint16_t gen;
	uint32_t itt;
	uint32_t cmdsn;
	uint64_t lun_wire;
	uint8_t bhs[ISCSI_BHS_LEN];
	uint32_t edtl;
	bool read, write;
	uint8_t *buf;           /* data buffer (capacity buf_cap) */
	uint32_t buf_cap;
	uint32_t data_rcvd;     /* write data received */
	uint32_t r2t_offset;    /* next offset to ask for */
	uint32_t r2t_outstanding;
	uint32_t r2tsn;
	uint32_t datasn;
	uint32_t unsol_expected;/* unsolicited bytes expected (immediate + first burst) */
	uint32_t burst_rcvd;    /* bytes of the current R2T's burst received */
	uint32_t exp_datasn;    /* next DataSN of the current Data-Out sequence */
	uint32_t refs;          /* tx PDUs referencing buf + the executor */
	bool aborted;
	bool windowed;          /* counts in sess->active */
	bool final_seen;        /* command's F bit or the unsolicited sequence ended */
	bool delivered;         /* passed CmdSN ordering */
	bool failed;            /* answer with the prepared CHECK CONDITION */
	bool failed_nodata;     /* failed before data: take what comes, ask for nothing */
	struct iscsi_tmf *tmf;  /* TMF waiting for this aborted task */
	struct cairn_scsi_task scsi;
	struct cairn_list link; /* conn->tasks (active) or pending-CmdSN list */
};

/* A task management request in progress. Aborted tasks of every session on the LUN
 * (any poll group) and the remote scans hold references; the last one answers on the
 * requesting connection's poll group (the connection is looked up again by id: it may
 * be gone by then). */
struct iscsi_tmf {
	uint8_t bhs[ISCSI_BHS_LEN];
	uint32_t waiting;                 /* atomic */
	uint8_t response;
	uint32_t conn_id;
	struct iscsi_poll_group *pg;
};

enum iscsi_conn_state {
	ISCSI_CONN_LOGIN = 0,
	ISCSI_CONN_FFP,
	ISCSI_CONN_LOGOUT,   /* logout answered: close once flushed */
	ISCSI_CONN_CLOSING,  /* tearing down: waiting for in-flight tasks */
	ISCSI_CONN_DEAD,
};

enum iscsi_rx_state {
	RX_BHS = 0,
	RX_AHS,
	RX_HDIGEST,
	RX_DATA,
	RX_PAD,
	RX_DDIGEST,
};

#define ISCSI_STAGE_BUF 8192       /* while logging in: idle sockets stay cheap */
#define ISCSI_STAGE_BUF_FFP 65536  /* full feature phase: many PDUs per recv */
#define ISCSI_LOGIN_TEXT_MAX 65536

struct iscsi_login {
	uint8_t csg;           /* current stage we are in */
	bool first_done;
	bool auth_done;
	bool auth_chap;        /* AuthMethod=CHAP negotiated */
	bool auth_chosen;
	struct iscsi_tgt_node *node; /* referenced until the session takes it */
	bool declared;
	bool discovery;
	bool tsih_nonzero;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	uint32_t itt;
	uint32_t cmdsn;
	struct iscsi_chap chap;
	struct iscsi_auth_cfg auth;
	char *text;            /* accumulated request text (C bit) */
	uint32_t text_len;
	uint64_t started_us;
	struct iscsi_params params;
	uint32_t offered;
};

struct iscsi_poll_group;
struct iscsi_sess;

struct iscsi_conn {
	int fd;
	uint32_t id;
	uint16_t cid;
	struct iscsi_poll_group *pg;
	enum iscsi_conn_state state;
	struct iscsi_sess *sess;
	uint32_t pg_tag;       /* portal group it came in through */
	struct sockaddr_storage peer;
	struct sockaddr_storage local;
	char peer_str[64];
	char local_str[64];
	/* negotiated */
	struct iscsi_params params;
	bool hd, dd;           /* digests in force */
	/* rx */
	enum iscsi_rx_state rx_state;
	uint8_t *stage;        /* staging buffer of stage_cap bytes */
	uint32_t stage_cap;
	uint32_t stage_head, stage_tail;
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t ahs[ISCSI_MAX_AHS_LEN];
	struct iscsi_bhs_info info;
	uint32_t rx_need;      /* bytes of the current piece still to read */
	uint32_t rx_got;
	uint8_t *rx_dst;       /* where data goes (task buffer or rx_data) */
	uint32_t rx_data_len;  /* data + pad */
	uint8_t digest[ISCSI_DIGEST_LEN];
	uint8_t *rx_data;      /* buffer for non-SCSI data segments */
	uint32_t rx_data_cap;
	struct iscsi_task *rx_task; /* task receiving data of this PDU */
	uint32_t rx_task_off;
	bool rx_discard;       /* data goes nowhere (aborted task) */
	uint8_t pad_sink[4];
	/* tx */
	struct cairn_list txq;
	struct cairn_list tx_free;
	uint32_t tx_count;     /* allocated tx PDUs */
	uint64_t tx_bytes_queued;
	bool want_out;         /* EPOLLOUT armed */
	bool on_flush_list;
	struct cairn_list flush_link;
	uint32_t stat_sn;
	uint32_t exp_stat_sn;
	/* tasks */
	struct iscsi_task *tasks;
	uint32_t ntasks;
	uint32_t *task_free;   /* stack of free indexes */
	uint32_t nfree;
	struct cairn_list active; /* tasks past CmdSN ordering */
	struct cairn_bdev_channel *ch[CAIRN_SCSI_MAX_LUNS];
	struct cairn_scsi_lun *ch_lun[CAIRN_SCSI_MAX_LUNS]; /* LUN each channel belongs to */
	/* login */
	struct iscsi_login *login;
	/* text continuation */
	char *text_rsp;
	uint32_t text_rsp_len, text_rsp_off;
	uint32_t text_ttt;
	/* keep-alive */
	uint64_t last_rx_us;
	uint64_t nop_sent_us;
	uint32_t nop_ttt;
	char initiator_port[CAIRN_SCSI_PORT_NAME_MAX];
	struct iscsi_tgt_node *node; /* held until the bdev channels are put */
	struct iscsi_poll_group *migrate_to; /* joined a session living elsewhere */
	uint16_t join_tsih;    /* that session (conn->sess stays NULL until the move) */
	uint32_t inflight_exec;   /* tasks inside the SCSI layer */
	bool rx_pending;          /* unprocessed bytes in stage (rx paused by backlog) */
	bool dead_listed;
	bool hup;
	uint32_t pdus_in;
	uint32_t pdus_out;
	struct cairn_list link;   /* pg->conns */
	struct cairn_list sess_link;
};

struct iscsi_sess {
	uint8_t isid[6];
	uint16_t tsih;
	bool discovery;
	char initiator_name[CAIRN_ISCSI_NAME_MAX];
	char initiator_alias[CAIRN_ISCSI_NAME_MAX];
	struct iscsi_tgt_node *node;
	struct iscsi_poll_group *pg;  /* the xstream all its connections live on */
	struct iscsi_params params;
	uint32_t exp_cmdsn;
	uint32_t queue_depth;
	uint32_t active;          /* windowed tasks not yet answered */
	/* nconns and closing are read under g_iscsi.lock by logins on other xstreams
	 * (join, reinstatement) and changed by the owner: always through __atomic. */
	unsigned nconns;
	struct cairn_list conns;
	struct cairn_list pending; /* tasks waiting for CmdSN order */
	uint32_t npending;
	bool closing;
	struct cairn_list link;   /* g_iscsi.sessions */
	char initiator_port[CAIRN_SCSI_PORT_NAME_MAX];
};

/* Task buffer size classes kept by a poll group: 4 KiB << k, k < ISCSI_BUF_CLASSES
 * (4 KiB .. 256 KiB). */
#define ISCSI_BUF_MIN 4096u
#define ISCSI_BUF_CLASSES 7

struct iscsi_poll_group {
	unsigned idx;
	/* Free task buffers for every connection of the group, LIFO per class (the list
	 * link lives in the free buffer); pool_bytes <= opts.task_buf_pool_bytes. */
	struct cairn_list buf_pool[ISCSI_BUF_CLASSES];
	uint64_t pool_bytes;
	struct cairn_xstream *xs;
	int epfd;
	struct cairn_poller *poller;
	struct cairn_poller *timer;
	struct cairn_poller *acceptor;
	struct iscsi_listener *listeners; /* acceptor only */
	struct cairn_list conns;
	struct cairn_list flush;
	struct cairn_list dead;
	unsigned nconns;
	bool stopping;
};

/* iscsi_tgt.c: registry helpers (called with g_iscsi.lock held unless noted) */
struct iscsi_tgt_node *iscsi_tgt_node_find(const char *name);
void iscsi_tgt_node_put(struct iscsi_tgt_node *node); /* lock not held */
bool iscsi_tgt_node_access(struct iscsi_tgt_node *node, uint32_t pg_tag,
			   const char *initiator, const struct sockaddr_storage *peer);
int iscsi_chap_lookup(void *arg, const char *user, struct iscsi_chap_secret *out);
/* SendTargets text for an initiator on portal group pg_tag; only=NULL lists all. */
int iscsi_send_targets(const char *initiator, const struct sockaddr_storage *peer,
		       const struct sockaddr_storage *local, uint32_t pg_tag, const char *only,
		       struct iscsi_textbuf *tb);

/* iscsi_conn.c */
void iscsi_conn_new(struct iscsi_poll_group *pg, int fd, uint32_t pg_tag);
struct iscsi_tx_pdu *iscsi_tx_alloc(struct iscsi_conn *conn);
void iscsi_tx_queue(struct iscsi_conn *conn, struct iscsi_tx_pdu *pdu);
void iscsi_conn_close(struct iscsi_conn *conn, const char *why);
void iscsi_conn_migrate(struct iscsi_conn *conn, struct iscsi_poll_group *to);
int iscsi_pg_start_all(void);
void iscsi_pg_stop_all(void);
void iscsi_acceptor_add(struct iscsi_listener *l);
void iscsi_acceptor_remove(struct iscsi_listener *l);
void iscsi_conn_put_task(struct iscsi_conn *conn, struct iscsi_task *task);
/* iscsi_ffp.c: free the poll group's buffer cache (on its xstream, at stop). */
void iscsi_pg_pool_fini(struct iscsi_poll_group *pg);

/* iscsi_login.c */
int iscsi_login_rx(struct iscsi_conn *conn, const uint8_t *data, uint32_t len);
void iscsi_login_free(struct iscsi_conn *conn);

/* iscsi_ffp.c: full feature phase */
int iscsi_ffp_rx_hdr(struct iscsi_conn *conn);
int iscsi_ffp_rx_done(struct iscsi_conn *conn, const uint8_t *data, uint32_t len);
void iscsi_sess_conn_gone(struct iscsi_conn *conn);
void iscsi_sess_close(struct iscsi_sess *sess, const char *why);
void iscsi_fill_sn(struct iscsi_conn *conn, uint8_t *hdr, bool advance_statsn);
void iscsi_send_reject(struct iscsi_conn *conn, uint8_t reason, const uint8_t *bhs);
void iscsi_send_nopin_ping(struct iscsi_conn *conn);
void iscsi_task_release(struct iscsi_task *task);
void iscsi_task_buf_free(struct iscsi_task *task);

#endif /* CAIRN_ISCSI_INTERNAL_H */
