/*
 * Private to the VOS index (idx_*.c): the keyed table (hash + skip list) used at every
 * level, the entry layout, and helpers shared by the core, aggregation and checkpoint
 * files. Nothing outside idx_*.c includes this.
 */
#ifndef CAIRN_VOS_IDX_INTERNAL_H
#define CAIRN_VOS_IDX_INTERNAL_H

#include "vos_index.h"

#include <string.h>

#define IDX_MAX_HEIGHT 24
/* Tables with at most this many entries have no hash buckets: a sorted list scan is
 * cheaper than a bucket array for the common one-akey-per-dkey case. */
#define IDX_SMALL_TABLE 8

enum idx_level { IDX_L_OBJ = 1, IDX_L_DKEY = 2, IDX_L_AKEY = 3 };

typedef struct cairn_vos_idx_stamp idx_stamp_t;

/* Punch log: stamps sorted ascending, in a block allocated on the first punch (most keys
 * are never punched: they pay one pointer). */
struct idx_plog_blk {
	uint32_t nr, cap;
	idx_stamp_t v[];
};

struct idx_plog {
	struct idx_plog_blk *b;
};

static inline uint32_t
idx_plog_nr(const struct idx_plog *pl)
{
	return pl->b != NULL ? pl->b->nr : 0;
}

static inline const idx_stamp_t *
idx_plog_v(const struct idx_plog *pl)
{
	return pl->b != NULL ? pl->b->v : NULL;
}

/* Single-value version. */
struct idx_ver {
	idx_stamp_t st;
	struct cairn_vos_idx_vrec rec;
};

/* Array extent [start, start + count). */
struct idx_ext {
	uint64_t start, count;
	idx_stamp_t st;
	struct cairn_vos_idx_vrec rec;
};

struct idx_ent;

/* Exact lookup by hash chains, ordered iteration by skip list. */
struct idx_table {
	struct idx_ent **buckets; /* NULL while small */
	struct idx_ent *first;    /* skip list head, level 0 */
	struct idx_ent **head;    /* skip list head, levels 1..hcap-1 (NULL while all are 1) */
	uint32_t nr;
	uint8_t bshift; /* log2 of the bucket count */
	uint8_t hcap;
	uint8_t height;
};

struct idx_val {
	void *recs; /* struct idx_ver[] or struct idx_ext[] */
	uint32_t nr, cap;
	uint32_t rsize;
	uint8_t vtype;     /* 0 until the first record */
	uint8_t bigslot;   /* the entry's slot holds an idx_ext (else an idx_ver) */
	uint64_t maxcount; /* array: upper bound of any extent's count */
};

/*
 * An entry is one allocation: a 16-byte header, the key bytes, then (8-aligned) the body.
 * A lookup reads the header and the key: for keys up to 48 bytes that is the entry's
 * first 64 bytes, so each level of a lookup costs about one cache miss.
 */
struct idx_ent {
	struct idx_ent *hnext;
	uint32_t hash;
	uint16_t klen : 15;
	uint16_t inner : 1; /* allocated inside its parent's block (freed with it) */
	uint8_t height;
	uint8_t level;
	uint8_t key[];
};

struct idx_body {
	struct idx_plog punch;
	union {
		struct idx_table child; /* obj: dkeys; dkey: akeys */
		struct idx_val val;     /* akey */
	};
	struct idx_ent *fwd[]; /* height pointers */
};

static inline size_t
idx_body_off(uint32_t klen)
{
	return (sizeof(struct idx_ent) + klen + 7) & ~(size_t)7;
}

static inline struct idx_body *
B(const struct idx_ent *e)
{
	return (struct idx_body *)((uintptr_t)e + idx_body_off(e->klen));
}

static inline const uint8_t *
idx_ent_key(const struct idx_ent *e)
{
	return e->key;
}

/*
 * Akey entries carry, after the body, room for one record (an idx_ver, or an idx_ext when
 * created by an array update) and for the inline bytes of the value they were created
 * with: the common one-version value costs no extra allocation and no extra cache miss.
 * An inline vrec whose bytes live there has rsvd[0] = IDX_VREC_EMBEDDED (cleared in
 * everything handed out).
 */
static inline void *
idx_ent_slot(const struct idx_ent *e)
{
	return &B(e)->fwd[e->height];
}

#define IDX_VREC_EMBEDDED 1

static inline size_t
idx_slot_size(bool big)
{
	return big ? sizeof(struct idx_ext) : sizeof(struct idx_ver);
}

static inline uint8_t *
idx_ent_emb(const struct idx_ent *e)
{
	return (uint8_t *)idx_ent_slot(e) + idx_slot_size(B(e)->val.bigslot);
}

/* Make room for one more record of size esz in akey a. 0 or -CAIRN_ERR_NOMEM. */
int idx_val_reserve(struct idx_ent *a, size_t esz);
/* Free a's record array (not the records' contents). */
void idx_val_free(struct idx_ent *a);

struct cairn_vos_idx_cont {
	struct cairn_vos_idx *idx;
	struct cairn_vos_idx_cont *next; /* sorted by uuid */
	uint8_t uuid[16];
	struct idx_table objs;
	struct idx_ent *last_obj; /* last object looked up (cleared when it is freed) */
	struct cairn_vos_oid last_oid;
	uint64_t *snaps;
	uint32_t nsnaps, snapcap;
	/* aggregation */
	uint64_t agg_ub;
	bool agg_active;
	bool cur_oid_valid;
	uint8_t cur_oid[16];
	uint8_t *cur_dkey;
	uint32_t cur_klen;
};

/* Scratch piece used by paint (one per xstream-owned index: no per-fetch malloc). */
struct idx_spiece {
	uint64_t start, end;
	int32_t src; /* index into the candidate list, -1 unfilled */
};

struct cairn_vos_idx {
	struct cairn_vos_idx_opts opts;
	struct cairn_vos_idx_cont *conts;
	uint64_t next_seq;
	struct cairn_vos_idx_stats st;
	/* scratch */
	const struct idx_ext **cand;
	uint32_t cand_cap;
	struct idx_spiece *sp;
	uint32_t sp_cap;
	uint8_t *mark;
	uint32_t mark_cap;
	/* load state */
	int load_state; /* 0 expect IDX, 1 expect CONT, 2 inside */
	struct cairn_vos_idx_cont *load_cont;
	struct idx_ent *load_obj, *load_dkey, *load_akey;
};

/* ---- stamps */
static inline int
idx_stamp_cmp(const idx_stamp_t *a, const idx_stamp_t *b)
{
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* Newest punch in pl with epoch <= e, merged into *best (keeps the max). */
void idx_plog_bound(const struct idx_plog *pl, uint64_t e, idx_stamp_t *best);
int idx_plog_add(struct idx_plog *pl, const idx_stamp_t *st);
void idx_plog_free(struct idx_plog *pl);

/* ---- idx_tree.c: keyed tables */
uint64_t idx_hash(const void *key, uint32_t len);
int idx_key_cmp(const void *a, uint32_t alen, const void *b, uint32_t blen);
void idx_table_init(struct idx_table *t);
struct idx_ent *idx_table_lookup(const struct idx_table *t, const void *key, uint32_t klen);
/* First entry with key > (key, klen), or >= when incl; NULL key: first entry. */
struct idx_ent *idx_table_seek(const struct idx_table *t, const void *key, uint32_t klen,
                               bool incl);
static inline struct idx_ent *
idx_table_first(const struct idx_table *t)
{
	return t->first;
}
static inline struct idx_ent *
idx_table_next(const struct idx_ent *e)
{
	return B(e)->fwd[0];
}
/* Allocate an unlinked entry (zeroed, key copied; akeys get a record slot and extra bytes
 * for embedded inline data). NULL on ENOMEM. */
struct idx_ent *idx_ent_alloc(struct cairn_vos_idx *idx, enum idx_level level, const void *key,
                              uint32_t klen, bool bigslot, uint32_t extra);
/* A new dkey and its first akey in one block: lookups then read consecutive lines. */
int idx_ent_alloc_pair(struct cairn_vos_idx *idx, const void *dkey, uint32_t dlen, const void *akey,
                       uint32_t alen, bool bigslot, uint32_t extra, struct idx_ent **dk,
                       struct idx_ent **ak);
/* Give an entry's memory back (contents must already be released). */
void idx_ent_release(struct cairn_vos_idx *idx, struct idx_ent *e);
/* Make sure inserting e cannot fail (head growth). 0 or -CAIRN_ERR_NOMEM. */
int idx_table_reserve(struct idx_table *t, const struct idx_ent *e);
/* Link e (key must be absent; reserve first). Never fails (bucket growth is optional). */
void idx_table_insert(struct idx_table *t, struct idx_ent *e);
/* Unlink e (must be present). */
void idx_table_remove(struct idx_table *t, struct idx_ent *e);
void idx_table_fini(struct idx_table *t);

/* ---- idx_core.c helpers used by the other files */
void idx_oid_key(const struct cairn_vos_oid *oid, uint8_t out[16]);
/* Free an entry and its whole subtree; LOC records go to the hook when hook is true. */
void idx_ent_free(struct cairn_vos_idx_cont *cont, struct idx_ent *e, bool hook);
void idx_rec_release(struct cairn_vos_idx_cont *cont, struct cairn_vos_idx_vrec *rec, bool hook);
/* A record as handed out (internal flags cleared). */
static inline struct cairn_vos_idx_vrec
idx_vrec_out(const struct cairn_vos_idx_vrec *r)
{
	struct cairn_vos_idx_vrec o = *r;

	o.rsvd[0] = 0;
	return o;
}
int idx_scratch_cand(struct cairn_vos_idx *idx, uint32_t n);
int idx_scratch_mark(struct cairn_vos_idx *idx, uint32_t n);
/*
 * Paint the array akey a over [lo, hi) at epoch e with punch bound pb: fills idx->sp with
 * pieces in order; each piece's src indexes idx->cand (the extent) or is -1 (no extent).
 * Returns the number of pieces or -CAIRN_ERR_NOMEM. *ncand gets the candidate count.
 */
int idx_paint(struct cairn_vos_idx *idx, const struct idx_ent *a, uint64_t e, const idx_stamp_t *pb,
              uint64_t lo, uint64_t hi, uint32_t *ncand);
/* Does akey a have a visible value at e under punch bound pb (pb includes a's own)? */
int idx_akey_exists(struct cairn_vos_idx *idx, const struct idx_ent *a, uint64_t e,
                    const idx_stamp_t *pb);

#endif /* CAIRN_VOS_IDX_INTERNAL_H */
