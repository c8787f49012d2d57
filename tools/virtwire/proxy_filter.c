/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire proxy: the calls it refuses (--read-only, --deny, --allow) and
 * the errors it answers them with.
 *
 * --read-only, from the procedures' @acl annotations (the generated tables
 * keep them): a permission whose name is "read", "getattr" or starts with
 * "search_" is what a read-only connection may use; any other one ("write",
 * "start", "read_secure", "screenshot", ...) makes libvirt's public API
 * refuse a read-only connection.  An annotation with a condition
 * ("domain:read_secure:VIR_DOMAIN_XML_SECURE", "domain:write::source:
 * VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT") needs that permission only
 * when the call's flags have the flag (or the named argument has the
 * value): the arguments are then decoded to see.  A few of libvirtd's own
 * checks disagree with the annotations; `overrides` below lists them.
 *
 * The refusal is libvirtd's error: VIR_ERR_OPERATION_DENIED from the
 * domain of the public API's source file, "operation forbidden: read only
 * access prevents virDomainCreate" (virCheckReadOnlyGoto()), or "...:
 * virDomainGetXMLDesc with secure flag" for the secure flags, with str1
 * "operation forbidden: %s", str2 the detail, int1 and int2 -1.  The name of
 * the public API comes from the procedure's name the way libvirt's
 * gendispatch.pl makes it (words capitalised, a few spelled as libvirt
 * spells them).
 */
#define _GNU_SOURCE

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy.h"
#include "proxy_header_internal.h"
#include "virnetprotocol.h"

/* ------------------------------------------------------------------------ */
/* --deny and --allow                                                       */
/* ------------------------------------------------------------------------ */

int vp_filter_add(const virtwire_proc ***list, const char *spec)
{
    size_t n = 0;
    while (*list && (*list)[n])
        n++;
    char *copy = strdup(spec);
    if (!copy)
        return vt_error(VT_FAIL, "out of memory");
    int rc = VT_OK;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == VT_OK;
         tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        size_t l = strlen(tok);
        while (l && isspace((unsigned char)tok[l - 1]))
            tok[--l] = '\0';
        if (!*tok)
            continue;
        const virtwire_program *prog;
        const virtwire_proc *p = vt_resolve(tok, &prog);
        if (!p) {
            rc = VT_USAGE;
            break;
        }
        const virtwire_proc **nl = realloc(*list, (n + 2) * sizeof *nl);
        if (!nl) {
            rc = vt_error(VT_FAIL, "out of memory");
            break;
        }
        nl[n++] = p;
        nl[n] = NULL;
        *list = nl;
    }
    free(copy);
    return rc;
}

void vp_filter_free(vp_filter *f)
{
    free(f->deny);
    free(f->allow);
    f->deny = f->allow = NULL;
}

static int listed(const virtwire_proc *const *list, const virtwire_proc *p)
{
    for (size_t i = 0; list && list[i]; i++)
        if (list[i] == p)
            return 1;
    return 0;
}

/* What a connection needs before it can call anything: always allowed. */
static int handshake(const virtwire_program *prog, const virtwire_proc *p)
{
    static const char *const names[] = {
        "REMOTE_PROC_AUTH_LIST", "REMOTE_PROC_AUTH_SASL_INIT", "REMOTE_PROC_AUTH_SASL_START",
        "REMOTE_PROC_AUTH_SASL_STEP", "REMOTE_PROC_AUTH_POLKIT", "REMOTE_PROC_CONNECT_OPEN",
        "REMOTE_PROC_CONNECT_CLOSE", "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE",
        "REMOTE_PROC_CONNECT_REGISTER_CLOSE_CALLBACK",
        "REMOTE_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK", "ADMIN_PROC_CONNECT_OPEN",
        "ADMIN_PROC_CONNECT_CLOSE",
    };
    (void)prog;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(p->name, names[i]) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The public API's name and error domain                                   */
/* ------------------------------------------------------------------------ */

/* libvirt's spelling of words in API names (gendispatch.pl's fixup_name):
 * at the end of a word unless anywhere is set. */
static const struct {
    const char *word, *spelled;
    int anywhere;
} fixups[] = {
    { "Nwfilter", "NWFilter", 1 }, { "Xml", "XML", 0 },     { "Xml2", "XML2", 0 },
    { "Uri", "URI", 0 },           { "Uuid", "UUID", 0 },   { "Id", "ID", 0 },
    { "Mac", "MAC", 0 },           { "Cpu", "CPU", 0 },     { "Os", "OS", 0 },
    { "Nmi", "NMI", 0 },           { "Pm", "PM", 1 },       { "Fstrim", "FSTrim", 0 },
    { "Fsfreeze", "FSFreeze", 0 }, { "Fsthaw", "FSThaw", 0 }, { "Fsinfo", "FSInfo", 0 },
    { "Iothread", "IOThread", 0 }, { "Scsi", "SCSI", 1 },   { "Wwn", "WWN", 0 },
    { "Dhcp", "DHCP", 0 },
};

/* Public APIs whose names the rule above does not give. */
static const struct {
    const char *proc, *api;
} api_names[] = {
    { "REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD", "virDomainOpenGraphicsFD" },
    { "REMOTE_PROC_DOMAIN_AUTHORIZED_SSH_KEYS_GET", "virDomainAuthorizedSSHKeysGet" },
    { "REMOTE_PROC_DOMAIN_AUTHORIZED_SSH_KEYS_SET", "virDomainAuthorizedSSHKeysSet" },
    { "REMOTE_PROC_DOMAIN_FD_ASSOCIATE", "virDomainFDAssociate" },
    { "REMOTE_PROC_NODE_GET_SEV_INFO", "virNodeGetSEVInfo" },
};

/* Appends word (lower-case but its first letter) to out, spelled as
 * libvirt spells it. */
static void append_word(char *out, size_t cap, const char *w, size_t n)
{
    char word[64];
    if (n == 0 || n >= sizeof word)
        return;
    for (size_t i = 0; i < n; i++)
        word[i] = (char)(i ? tolower((unsigned char)w[i]) : toupper((unsigned char)w[i]));
    word[n] = '\0';
    for (size_t i = 0; i < sizeof fixups / sizeof fixups[0]; i++) {
        size_t fl = strlen(fixups[i].word);
        char *at = fixups[i].anywhere ? strstr(word, fixups[i].word)
                                      : (n >= fl && strcmp(word + n - fl, fixups[i].word) == 0
                                             ? word + n - fl
                                             : NULL);
        if (at) {
            char rest[64];
            snprintf(rest, sizeof rest, "%s", at + fl);
            snprintf(at, sizeof word - (size_t)(at - word), "%s%s", fixups[i].spelled, rest);
            break;
        }
    }
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s", word);
}

/* "virDomainCreateXML" for REMOTE_PROC_DOMAIN_CREATE_XML; the qemu and lxc
 * programs' APIs have "Qemu" or "Lxc" after "Domain"
 * (virDomainQemuMonitorCommand). */
static void api_name(const virtwire_program *prog, const virtwire_proc *p, char *out, size_t cap)
{
    for (size_t i = 0; i < sizeof api_names / sizeof api_names[0]; i++)
        if (strcmp(p->name, api_names[i].proc) == 0) {
            snprintf(out, cap, "%s", api_names[i].api);
            return;
        }
    const char *name = p->name;
    const char *mark = strstr(name, "_PROC_");
    if (mark)
        name = mark + 6;
    const char *infix = NULL;
    if (prog && strcasecmp(prog->name, "qemu") == 0)
        infix = "Qemu";
    else if (prog && strcasecmp(prog->name, "lxc") == 0)
        infix = "Lxc";
    snprintf(out, cap, "vir");
    while (*name) {
        const char *u = strchr(name, '_');
        size_t n = u ? (size_t)(u - name) : strlen(name);
        append_word(out, cap, name, n);
        if (infix && n == 6 && strncmp(name, "DOMAIN", 6) == 0) {
            size_t used = strlen(out);
            snprintf(out + used, cap - used, "%s", infix);
            infix = NULL;
        }
        name += n;
        if (*name == '_')
            name++;
    }
}

/* libvirt's virErrorDomain numbers (virterror.h). */
enum {
    FROM_NONE = 0, FROM_STORAGE = 18, FROM_NETWORK = 19, FROM_DOMAIN = 20, FROM_NODEDEV = 22,
    FROM_INTERFACE = 26, FROM_SECRET = 30, FROM_NWFILTER = 33, FROM_DOMAIN_SNAPSHOT = 35,
    FROM_ACCESS = 55, FROM_DOMAIN_CHECKPOINT = 69,
};
/* virErrorNumber. */
enum { ERR_OPERATION_DENIED = 29, ERR_ACCESS_DENIED = 88 };

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The error domain of the source file that holds api (VIR_FROM_THIS of
 * libvirt's src/libvirt-*.c). */
static int api_domain(const virtwire_program *prog, const char *api)
{
    if (prog && (strcasecmp(prog->name, "qemu") == 0 || strcasecmp(prog->name, "lxc") == 0))
        return FROM_NONE;
    /* libvirt-domain-snapshot.c and -checkpoint.c hold all the domain APIs
     * about them (virDomainRevertToSnapshot, virDomainListAllCheckpoints). */
    if (starts(api, "virDomain") && strstr(api, "Snapshot"))
        return FROM_DOMAIN_SNAPSHOT;
    if (starts(api, "virDomain") && strstr(api, "Checkpoint"))
        return FROM_DOMAIN_CHECKPOINT;
    if (starts(api, "virNetwork") || starts(api, "virConnectListAllNetworks"))
        return FROM_NETWORK;
    if (starts(api, "virStorage") || strstr(api, "StoragePool"))
        return FROM_STORAGE;
    if (starts(api, "virNodeDevice"))
        return FROM_NODEDEV;
    if (starts(api, "virInterface"))
        return FROM_INTERFACE;
    if (starts(api, "virSecret"))
        return FROM_SECRET;
    if (starts(api, "virNWFilter"))
        return FROM_NWFILTER;
    /* libvirt-domain.c and libvirt-host.c (virConnect*, virNode*). */
    return FROM_DOMAIN;
}

/* ------------------------------------------------------------------------ */
/* --read-only                                                              */
/* ------------------------------------------------------------------------ */

/* Where libvirtd's checks and the annotations disagree (libvirt 9.0.0 and
 * 11.3.0, found by the proxy.readonly test): refuse = 1, what libvirtd
 * refuses although the annotation asks for a read permission; refuse = 0,
 * what it allows although the annotation asks for more. */
static const struct {
    const char *proc;
    int refuse;
} overrides[] = {
    { "REMOTE_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS", 1 },    /* @acl domain:read */
    { "REMOTE_PROC_NODE_GET_SEV_INFO", 1 },                  /* connect:read */
    { "REMOTE_PROC_DOMAIN_GET_LAUNCH_SECURITY_INFO", 1 },    /* domain:read */
    /* node_device:read; refused by 9.0.0, no longer by 11.3.0: refused
     * here, the stricter of the two. */
    { "REMOTE_PROC_NODE_DEVICE_GET_AUTOSTART", 1 },
    { "REMOTE_PROC_DOMAIN_MIGRATE_GET_COMPRESSION_CACHE", 0 }, /* domain:migrate */
    { "REMOTE_PROC_DOMAIN_MIGRATE_GET_MAX_DOWNTIME", 0 },    /* domain:migrate */
    { "REMOTE_PROC_CONNECT_SET_IDENTITY", 0 },               /* connect:write */
    { "QEMU_PROC_CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER", 0 }, /* connect:write */
};

/* The values of the flags that conditional annotations name, where the
 * condition decides whether a read-only connection is refused
 * (libvirt-domain.h, libvirt-domain-snapshot.h, ...). */
static const struct {
    const char *name;
    unsigned int value;
} flag_values[] = {
    { "VIR_DOMAIN_XML_SECURE", 1u },
    { "VIR_DOMAIN_XML_MIGRATABLE", 8u },
    { "VIR_DOMAIN_SNAPSHOT_XML_SECURE", 1u },
    { "VIR_DOMAIN_CHECKPOINT_XML_SECURE", 1u },
    { "VIR_DOMAIN_SAVE_IMAGE_XML_SECURE", 1u },
    { "VIR_DOMAIN_VCPU_GUEST", 4u },
    { "VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT", 1u },
};

static int flag_value(const char *name, size_t n, unsigned int *v)
{
    for (size_t i = 0; i < sizeof flag_values / sizeof flag_values[0]; i++)
        if (strlen(flag_values[i].name) == n && strncmp(flag_values[i].name, name, n) == 0) {
            *v = flag_values[i].value;
            return 1;
        }
    return 0;
}

/* A permission a read-only connection has. */
static int read_perm(const char *perm, size_t n)
{
    return (n == 4 && strncmp(perm, "read", 4) == 0) ||
           (n == 7 && strncmp(perm, "getattr", 7) == 0) ||
           (n >= 7 && strncmp(perm, "search_", 7) == 0);
}

/* The unsigned member called member of the decoded arguments, from their
 * JSON form; -1 when there is none. */
static long long arg_member(const virtwire_proc *p, const unsigned char *payload, size_t len,
                            const char *member)
{
    if (!p->args)
        return -1;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    long long v = -1;
    void *args = virtwire_arena_alloc(&arena, p->args->size);
    if (args && virtwire_decode(p->args, payload, len, &arena, args) == 0) {
        json_t *j = vt_to_json(p->args, args);
        json_t *m = j ? json_object_get(j, member) : NULL;
        if (m && json_is_integer(m))
            v = (long long)json_integer_value(m);
        json_decref(j);
    }
    virtwire_arena_fini(&arena);
    return v;
}

/*
 * Whether the annotation acl (one @acl value) refuses this call on a
 * read-only connection: 0 no, 1 "read only access prevents", 2 "with
 * secure flag".
 */
static int acl_refuses(const virtwire_proc *p, const char *acl, const unsigned char *payload,
                       size_t len)
{
    const char *c1 = strchr(acl, ':');
    if (!c1)
        return 0; /* "none" */
    const char *perm = c1 + 1;
    const char *c2 = strchr(perm, ':');
    size_t plen = c2 ? (size_t)(c2 - perm) : strlen(perm);
    if (read_perm(perm, plen))
        return 0;
    /* Unconditional: virCheckReadOnlyGoto(); a secure flag has words of
     * its own ("with secure flag"). */
    int secure = plen == 11 && strncmp(perm, "read_secure", 11) == 0;
    if (!c2)
        return 1;
    /* A condition: "FLAG", "!FLAG|FLAG" or ":member:VALUE". */
    const char *cond = c2 + 1;
    const char *member = "flags";
    char mbuf[32];
    if (*cond == ':') {
        const char *c3 = strchr(cond + 1, ':');
        if (!c3 || (size_t)(c3 - cond - 1) >= sizeof mbuf)
            return 0;
        memcpy(mbuf, cond + 1, (size_t)(c3 - cond - 1));
        mbuf[c3 - cond - 1] = '\0';
        member = mbuf;
        cond = c3 + 1;
        unsigned int want;
        if (!flag_value(cond, strlen(cond), &want))
            return 0; /* not one whose value decides a read-only refusal */
        long long v = arg_member(p, payload, len, member);
        return v == (long long)want ? (secure ? 2 : 1) : 0;
    }
    if (*cond == '!')
        return 0; /* a permission needed when a flag is absent: with write */
    unsigned int mask = 0;
    for (const char *s = cond; *s;) {
        const char *bar = strchr(s, '|');
        size_t n = bar ? (size_t)(bar - s) : strlen(s);
        unsigned int v;
        if (!flag_value(s, n, &v))
            return 0;
        mask |= v;
        s += n + (bar ? 1 : 0);
    }
    long long flags = arg_member(p, payload, len, member);
    return flags >= 0 && ((unsigned long long)flags & mask) ? (secure ? 2 : 1) : 0;
}

/* 0, or how the read-only connection is refused (see acl_refuses()). */
static int read_only_refuses(const virtwire_proc *p, const unsigned char *payload, size_t len)
{
    for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++)
        if (strcmp(p->name, overrides[i].proc) == 0)
            return overrides[i].refuse;
    int how = 0;
    for (const char *const *a = p->acl; a && *a; a++) {
        int r = acl_refuses(p, *a, payload, len);
        if (r == 1)
            return 1; /* the unconditional check comes first in libvirt */
        if (r)
            how = r;
    }
    return how;
}

int vp_filter_check(const vp_filter *f, const virtwire_program *prog, const virtwire_proc *proc,
                    const unsigned char *payload, size_t len, vp_refusal *r)
{
    if (!proc)
        return 0; /* the daemon answers what nobody knows */
    memset(r, 0, sizeof *r);
    if ((f->allow && !listed(f->allow, proc) && !handshake(prog, proc)) ||
        listed(f->deny, proc)) {
        int allow = f->allow && !listed(f->allow, proc);
        r->why = allow ? "allow" : "deny";
        r->code = ERR_ACCESS_DENIED;
        r->domain = FROM_ACCESS;
        snprintf(r->str1, sizeof r->str1, "access denied: %%s");
        snprintf(r->str2, sizeof r->str2, "'virtwire proxy' denied access to %s (%s)",
                 proc->name, allow ? "not in --allow" : "in --deny");
        snprintf(r->message, sizeof r->message, "access denied: %s", r->str2);
        return 1;
    }
    if (!f->read_only)
        return 0;
    int how = read_only_refuses(proc, payload, len);
    if (!how)
        return 0;
    char api[128];
    api_name(prog, proc, api, sizeof api);
    r->why = "read-only";
    r->code = ERR_OPERATION_DENIED;
    r->domain = api_domain(prog, api);
    snprintf(r->str1, sizeof r->str1, "operation forbidden: %%s");
    if (how == 2)
        snprintf(r->str2, sizeof r->str2, "%s with secure flag", api);
    else
        snprintf(r->str2, sizeof r->str2, "read only access prevents %s", api);
    snprintf(r->message, sizeof r->message, "operation forbidden: %s", r->str2);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Error replies                                                            */
/* ------------------------------------------------------------------------ */

size_t vp_error_frame(const vp_frame *call, int code, int domain, const char *message,
                      const char *str1, const char *str2, unsigned char *buf, size_t cap)
{
    char *m = (char *)message, *s1 = (char *)str1, *s2 = (char *)str2;
    virNetMessageError e = {
        .code = code, .domain = domain, .message = &m, .level = 2,
        .str1 = str1 ? &s1 : NULL, .str2 = str2 ? &s2 : NULL, .int1 = -1, .int2 = -1,
    };
    if (cap < VIRTWIRE_FRAME_MIN)
        return 0;
    size_t n = 0;
    if (virtwire_encode(&virNetMessageError_desc, &e, buf + VIRTWIRE_FRAME_MIN,
                        cap - VIRTWIRE_FRAME_MIN, &n) < 0)
        return 0;
    size_t total = VIRTWIRE_FRAME_MIN + n;
    vp_store_header(buf, (uint32_t)total, call->prog, call->vers, call->proc, VIR_NET_REPLY,
                    call->serial, VIR_NET_ERROR);
    return total;
}
