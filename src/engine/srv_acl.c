/*
 * Pool ACLs: parsing, formatting, evaluation, JSON form. Pure functions (no xstream
 * affinity); see srv_acl.h for the format and the evaluation rules.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <cairn/errno.h>

#include "srv_acl.h"

static const struct {
	char c;
	uint32_t bit;
} g_perm_letters[] = {
        {'r', SRV_ACL_READ},     {'w', SRV_ACL_WRITE},   {'c', SRV_ACL_CREATE_CONT},
        {'d', SRV_ACL_DEL_CONT}, {'t', SRV_ACL_GET_PROP}, {'T', SRV_ACL_SET_PROP},
        {'a', SRV_ACL_GET_ACL},  {'A', SRV_ACL_SET_ACL},
};
#define NR_LETTERS (sizeof(g_perm_letters) / sizeof(g_perm_letters[0]))

void
srv_acl_perms_str(uint32_t perms, char *buf, size_t len)
{
	size_t i, n = 0;

	if (len == 0)
		return;
	for (i = 0; i < NR_LETTERS && n + 1 < len; i++)
		if (perms & g_perm_letters[i].bit)
			buf[n++] = g_perm_letters[i].c;
	if (n == 0 && len > 1)
		buf[n++] = '-';
	buf[n] = '\0';
}

/* A user/group name: letters, digits, '_', '-', '.', not starting with '-'. */
static int
name_check(const char *s, size_t n, char *err, size_t errlen)
{
	size_t i;

	if (n == 0 || n + 2 > SRV_ACL_NAME_MAX) {
		snprintf(err, errlen, "a user or group name must be 1..%d characters",
		         SRV_ACL_NAME_MAX - 2);
		return -CAIRN_ERR_INVAL;
	}
	if (s[0] == '-') {
		snprintf(err, errlen, "a user or group name cannot start with '-'");
		return -CAIRN_ERR_INVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.') {
			snprintf(err, errlen, "name '%.*s': character %zu is not a letter, digit, "
			         "'_', '-' or '.'", (int)n, s, i);
			return -CAIRN_ERR_INVAL;
		}
	}
	return 0;
}

int
srv_acl_name_norm(const char *s, char out[SRV_ACL_NAME_MAX], char *err, size_t errlen)
{
	size_t n = strlen(s);
	int rc;

	if (n > 0 && s[n - 1] == '@')
		n--;
	rc = name_check(s, n, err, errlen);
	if (rc)
		return rc;
	if ((n == 5 && (strncmp(s, "OWNER", 5) == 0 || strncmp(s, "GROUP", 5) == 0)) ||
	    (n == 8 && strncmp(s, "EVERYONE", 8) == 0)) {
		snprintf(err, errlen, "'%s' is a special principal, not a name", s);
		return -CAIRN_ERR_INVAL;
	}
	snprintf(out, SRV_ACL_NAME_MAX, "%.*s@", (int)n, s);
	return 0;
}

/* Principal with an explicit group flag. */
static int
principal_parse(const char *s, size_t n, bool group, struct srv_ace *e, char *err,
                size_t errlen)
{
	int rc;

	if (n == 6 && strncmp(s, "OWNER@", 6) == 0)
		e->kind = SRV_ACE_OWNER;
	else if (n == 6 && strncmp(s, "GROUP@", 6) == 0)
		e->kind = SRV_ACE_GROUP;
	else if (n == 9 && strncmp(s, "EVERYONE@", 9) == 0)
		e->kind = SRV_ACE_EVERYONE;
	else
		e->kind = group ? SRV_ACE_NGROUP : SRV_ACE_USER;
	if (e->kind == SRV_ACE_OWNER || e->kind == SRV_ACE_EVERYONE) {
		if (group) {
			snprintf(err, errlen, "flag G does not go with %.*s", (int)n, s);
			return -CAIRN_ERR_INVAL;
		}
		e->name[0] = '\0';
		return 0;
	}
	if (e->kind == SRV_ACE_GROUP) {
		e->name[0] = '\0';
		return 0;
	}
	if (n < 2 || s[n - 1] != '@') {
		snprintf(err, errlen, "principal '%.*s' must end with '@' (user@, group@ with "
		         "flag G, OWNER@, GROUP@ or EVERYONE@)", (int)n, s);
		return -CAIRN_ERR_INVAL;
	}
	rc = name_check(s, n - 1, err, errlen);
	if (rc)
		return rc;
	snprintf(e->name, sizeof(e->name), "%.*s", (int)n, s);
	return 0;
}

int
srv_acl_principal_parse(const char *s, struct srv_ace *e, char *err, size_t errlen)
{
	bool group = false;

	memset(e, 0, sizeof(*e));
	if (strncmp(s, "g:", 2) == 0) {
		group = true;
		s += 2;
	} else if (strncmp(s, "u:", 2) == 0) {
		s += 2;
	}
	return principal_parse(s, strlen(s), group, e, err, errlen);
}

int
srv_ace_parse(const char *s, struct srv_ace *e, char *err, size_t errlen)
{
	const char *c1, *c2, *c3, *p;
	bool group = false;
	size_t i;
	int rc;

	memset(e, 0, sizeof(*e));
	c1 = strchr(s, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	if (c3 == NULL || strchr(c3 + 1, ':') != NULL) {
		snprintf(err, errlen, "ACL entry '%.80s': expected TYPE:FLAGS:PRINCIPAL:PERMS, e.g. "
		         "A::bob@:rw or A:G:staff@:r", s);
		return -CAIRN_ERR_INVAL;
	}
	if (c1 - s != 1 || s[0] != 'A') {
		snprintf(err, errlen, "ACL entry '%.80s': only type A (allow) is supported", s);
		return -CAIRN_ERR_INVAL;
	}
	for (p = c1 + 1; p < c2; p++) {
		if (*p == 'G') {
			group = true;
		} else {
			snprintf(err, errlen, "ACL entry '%.80s': unknown flag '%c' (only G, for a "
			         "group principal)", s, *p);
			return -CAIRN_ERR_INVAL;
		}
	}
	rc = principal_parse(c2 + 1, (size_t)(c3 - c2 - 1), group, e, err, errlen);
	if (rc)
		return rc;
	if (c3[1] == '\0') {
		snprintf(err, errlen, "ACL entry '%.80s': no permissions (use letters of "
		         "rwcdtTaA)", s);
		return -CAIRN_ERR_INVAL;
	}
	for (p = c3 + 1; *p; p++) {
		for (i = 0; i < NR_LETTERS; i++)
			if (g_perm_letters[i].c == *p)
				break;
		if (i == NR_LETTERS) {
			snprintf(err, errlen, "ACL entry '%.80s': unknown permission '%c' (r read, "
			         "w write, c create container, d delete container, t get-prop, "
			         "T set-prop, a get-acl, A update-acl)", s, *p);
			return -CAIRN_ERR_INVAL;
		}
		e->perms |= g_perm_letters[i].bit;
	}
	return 0;
}

void
srv_ace_format(const struct srv_ace *e, char *buf, size_t len)
{
	char perms[16];
	const char *who;

	srv_acl_perms_str(e->perms, perms, sizeof(perms));
	switch (e->kind) {
	case SRV_ACE_OWNER:
		who = "OWNER@";
		break;
	case SRV_ACE_GROUP:
		who = "GROUP@";
		break;
	case SRV_ACE_EVERYONE:
		who = "EVERYONE@";
		break;
	default:
		who = e->name;
		break;
	}
	snprintf(buf, len, "A:%s:%s:%s", e->kind == SRV_ACE_NGROUP ? "G" : "", who, perms);
}

static bool
ace_same(const struct srv_ace *a, const struct srv_ace *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0;
}

void
srv_acl_default(struct srv_acl *acl, const char *owner, const char *group)
{
	memset(acl, 0, sizeof(*acl));
	snprintf(acl->owner, sizeof(acl->owner), "%s", owner);
	snprintf(acl->group, sizeof(acl->group), "%s", group);
	acl->ent[0].kind = SRV_ACE_OWNER;
	acl->ent[0].perms = SRV_ACL_ALL;
	acl->ent[1].kind = SRV_ACE_GROUP;
	acl->ent[1].perms = SRV_ACL_READ | SRV_ACL_WRITE | SRV_ACL_CREATE_CONT |
	                    SRV_ACL_DEL_CONT | SRV_ACL_GET_PROP | SRV_ACL_GET_ACL;
	acl->nr = 2;
}

int
srv_acl_update(struct srv_acl *acl, const struct srv_ace *e)
{
	unsigned i;

	for (i = 0; i < acl->nr; i++) {
		if (ace_same(&acl->ent[i], e)) {
			acl->ent[i].perms = e->perms;
			return 0;
		}
	}
	if (acl->nr >= SRV_ACL_MAX_ENTRIES)
		return -CAIRN_ERR_OVERFLOW;
	acl->ent[acl->nr++] = *e;
	return 0;
}

int
srv_acl_delete(struct srv_acl *acl, const struct srv_ace *principal)
{
	unsigned i;

	for (i = 0; i < acl->nr; i++) {
		if (ace_same(&acl->ent[i], principal)) {
			memmove(&acl->ent[i], &acl->ent[i + 1],
			        (acl->nr - i - 1) * sizeof(acl->ent[0]));
			acl->nr--;
			return 0;
		}
	}
	return -CAIRN_ERR_NONEXIST;
}

/* Is "name@" (ace form) the name `n` (plain form)? */
static bool
name_is(const char *ace_name, const char *n)
{
	size_t l = strlen(ace_name);

	return l > 1 && strlen(n) == l - 1 && strncmp(ace_name, n, l - 1) == 0;
}

/* Is plain group name g (or "g@" form of `ace_name`) in the comma list? */
static bool
in_groups(const char *groups, const char *ace_name)
{
	size_t l = strlen(ace_name);
	const char *p = groups, *end;

	if (groups == NULL || l < 2)
		return false;
	while (*p) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) == l - 1 && strncmp(p, ace_name, l - 1) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

uint32_t
srv_acl_perms(const struct srv_acl *acl, const char *user, const char *groups)
{
	uint32_t gperms = 0;
	bool gmatch = false;
	unsigned i;

	if (user == NULL)
		user = "";
	if (name_is(acl->owner, user)) {
		for (i = 0; i < acl->nr; i++)
			if (acl->ent[i].kind == SRV_ACE_OWNER)
				return acl->ent[i].perms;
	}
	for (i = 0; i < acl->nr; i++)
		if (acl->ent[i].kind == SRV_ACE_USER && name_is(acl->ent[i].name, user))
			return acl->ent[i].perms;
	for (i = 0; i < acl->nr; i++) {
		const struct srv_ace *e = &acl->ent[i];

		if ((e->kind == SRV_ACE_GROUP && in_groups(groups, acl->group)) ||
		    (e->kind == SRV_ACE_NGROUP && in_groups(groups, e->name))) {
			gmatch = true;
			gperms |= e->perms;
		}
	}
	if (gmatch)
		return gperms;
	for (i = 0; i < acl->nr; i++)
		if (acl->ent[i].kind == SRV_ACE_EVERYONE)
			return acl->ent[i].perms;
	return 0;
}

json_t *
srv_acl_json(const struct srv_acl *acl)
{
	json_t *o = json_object(), *arr = json_array();
	char buf[SRV_ACL_NAME_MAX + 32];
	unsigned i;

	if (o == NULL || arr == NULL) {
		json_decref(o);
		json_decref(arr);
		return NULL;
	}
	json_object_set_new(o, "owner", json_string(acl->owner));
	json_object_set_new(o, "group", json_string(acl->group));
	for (i = 0; i < acl->nr; i++) {
		srv_ace_format(&acl->ent[i], buf, sizeof(buf));
		json_array_append_new(arr, json_string(buf));
	}
	json_object_set_new(o, "entries", arr);
	return o;
}

int
srv_acl_from_json(const json_t *j, struct srv_acl *acl, char *err, size_t errlen)
{
	json_t *owner = json_object_get(j, "owner"), *group = json_object_get(j, "group");
	json_t *arr = json_object_get(j, "entries"), *v;
	struct srv_ace e;
	size_t i;
	int rc;

	memset(acl, 0, sizeof(*acl));
	if (!json_is_string(owner) || !json_is_string(group) || !json_is_array(arr)) {
		snprintf(err, errlen, "ACL record lacks owner, group or entries");
		return -CAIRN_ERR_CORRUPT;
	}
	rc = srv_acl_name_norm(json_string_value(owner), acl->owner, err, errlen);
	if (rc == 0)
		rc = srv_acl_name_norm(json_string_value(group), acl->group, err, errlen);
	if (rc)
		return rc;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "ACL entry %zu is not a string", i);
			return -CAIRN_ERR_INVAL;
		}
		rc = srv_ace_parse(json_string_value(v), &e, err, errlen);
		if (rc == 0)
			rc = srv_acl_update(acl, &e);
		if (rc == -CAIRN_ERR_OVERFLOW)
			snprintf(err, errlen, "an ACL holds at most %d entries", SRV_ACL_MAX_ENTRIES);
		if (rc)
			return rc;
	}
	return 0;
}
