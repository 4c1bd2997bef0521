/*
 * Pool access control lists (modelled on DAOS ACLs), used by the pool service.
 *
 * An entry (ACE) in text form is "TYPE:FLAGS:PRINCIPAL:PERMS":
 *   TYPE      A (allow; the only type supported)
 *   FLAGS     empty, or G for a named group principal
 *   PRINCIPAL OWNER@, GROUP@ (the owner group), EVERYONE@, name@ (a user, no flag) or
 *             name@ with flag G (a group)
 *   PERMS     letters: r read (connect), w write (connect read-write), c create
 *             container, d delete container, t get properties, T set properties,
 *             a get ACL, A update/delete ACL
 * Evaluation (as DAOS): the owner gets the OWNER@ entry if there is one; else a named
 * user entry; else the union of every matching group entry (GROUP@ for members of the
 * owner group, named groups); else EVERYONE@; else nothing.
 * Trust model: the principal (user and group names) is what the client says in its
 * connect request. The engine listens on loopback only, so it trusts the local users'
 * clients; this is not a security boundary against a malicious local user.
 */
#ifndef CAIRN_ENGINE_SRV_ACL_H
#define CAIRN_ENGINE_SRV_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

#define SRV_ACL_MAX_ENTRIES 32
#define SRV_ACL_NAME_MAX 64 /* principal name incl. '@' and NUL */
#define SRV_ACL_GROUPS_MAX 1024 /* client's group list text, incl. NUL */

enum srv_acl_perm {
	SRV_ACL_READ = 0x01,
	SRV_ACL_WRITE = 0x02,
	SRV_ACL_CREATE_CONT = 0x04,
	SRV_ACL_DEL_CONT = 0x08,
	SRV_ACL_GET_PROP = 0x10,
	SRV_ACL_SET_PROP = 0x20,
	SRV_ACL_GET_ACL = 0x40,
	SRV_ACL_SET_ACL = 0x80,
	SRV_ACL_ALL = 0xff,
};

enum srv_ace_kind {
	SRV_ACE_OWNER = 1,
	SRV_ACE_GROUP,    /* GROUP@: the owner group */
	SRV_ACE_EVERYONE,
	SRV_ACE_USER,     /* name@ */
	SRV_ACE_NGROUP,   /* name@ with flag G */
};

struct srv_ace {
	uint8_t kind;                /* srv_ace_kind */
	char name[SRV_ACL_NAME_MAX]; /* USER / NGROUP: "name@" */
	uint32_t perms;
};

struct srv_acl {
	char owner[SRV_ACL_NAME_MAX]; /* "name@" */
	char group[SRV_ACL_NAME_MAX]; /* "name@" */
	unsigned nr;
	struct srv_ace ent[SRV_ACL_MAX_ENTRIES];
};

/* Parse one ACE ("A::OWNER@:rw"); err says what is wrong. */
int srv_ace_parse(const char *s, struct srv_ace *e, char *err, size_t errlen);
/* Text form of an ACE. */
void srv_ace_format(const struct srv_ace *e, char *buf, size_t len);
/* Parse a principal ("OWNER@", "bob@", "g:staff@" or, with group=1, "staff@"). */
int srv_acl_principal_parse(const char *s, struct srv_ace *e, char *err, size_t errlen);
/* Check a user or group name given as owner/group ("name" or "name@"); stored with '@'. */
int srv_acl_name_norm(const char *s, char out[SRV_ACL_NAME_MAX], char *err, size_t errlen);
/* Letters of a permission mask ("rwcd..."), "-" when empty. */
void srv_acl_perms_str(uint32_t perms, char *buf, size_t len);

/* Default ACL of a new pool: OWNER@ all, GROUP@ rw + container create/delete + get-prop. */
void srv_acl_default(struct srv_acl *acl, const char *owner, const char *group);
/* Add an entry or replace the one with the same principal; -CAIRN_ERR_OVERFLOW if full. */
int srv_acl_update(struct srv_acl *acl, const struct srv_ace *e);
/* Remove the entry of principal; -CAIRN_ERR_NONEXIST when absent. */
int srv_acl_delete(struct srv_acl *acl, const struct srv_ace *principal);
/* Effective permissions of user (a name) in groups ("g1,g2", may be NULL/empty). */
uint32_t srv_acl_perms(const struct srv_acl *acl, const char *user, const char *groups);

/* JSON {owner, group, entries: [ACE text]} and back (validated). */
struct json_t *srv_acl_json(const struct srv_acl *acl);
int srv_acl_from_json(const struct json_t *j, struct srv_acl *acl, char *err, size_t errlen);

#endif /* CAIRN_ENGINE_SRV_ACL_H */
