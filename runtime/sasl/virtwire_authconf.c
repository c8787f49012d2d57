/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire SASL: libvirt's auth.conf, its format, lookup and location.
 * See virtwire_sasl.h.  Everything in the file is untrusted: sizes are
 * bounded, every line is checked, nothing is read past the data.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtwire_message_internal.h"
#include "virtwire_sasl.h"

#define AUTH_CONFIG_MAX (1u << 20)

typedef struct entry {
    char *group; /* the group's name, shared by its entries (owned by groups) */
    char *key;
    char *value;
} entry;

struct virtwire_auth_config {
    char *path;
    char **groups;
    size_t ngroups, groups_cap;
    entry *entries;
    size_t nentries, entries_cap;
};

void virtwire_auth_config_free(virtwire_auth_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nentries; i++) {
        free(cfg->entries[i].key);
        if (cfg->entries[i].value) {
            /* passwords live here */
            memset(cfg->entries[i].value, 0, strlen(cfg->entries[i].value));
            free(cfg->entries[i].value);
        }
    }
    for (size_t i = 0; i < cfg->ngroups; i++)
        free(cfg->groups[i]);
    free(cfg->entries);
    free(cfg->groups);
    free(cfg->path);
    free(cfg);
}

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static char *find_group(const virtwire_auth_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->ngroups; i++)
        if (strcmp(cfg->groups[i], name) == 0)
            return cfg->groups[i];
    return NULL;
}

/* GLib's unescaping of a value: \s \n \t \r \\; another escape, or a
 * backslash at the end, is an error (NULL with *bad set). */
static char *unescape(const char *p, size_t n, int *bad)
{
    char *s = malloc(n + 1), *o = s;
    *bad = 0;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\') {
            *o++ = p[i];
            continue;
        }
        if (++i == n) {
            *bad = 1;
            break;
        }
        switch (p[i]) {
        case 's': *o++ = ' '; break;
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case '\\': *o++ = '\\'; break;
        default: *bad = 1; break;
        }
        if (*bad)
            break;
    }
    if (*bad) {
        free(s);
        return NULL;
    }
    *o = '\0';
    return s;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int add_entry(virtwire_auth_config *cfg, char *group, char *key, char *value)
{
    for (size_t i = 0; i < cfg->nentries; i++) {
        entry *e = &cfg->entries[i];
        if (e->group == group && strcmp(e->key, key) == 0) { /* the last one counts */
            free(key);
            memset(e->value, 0, strlen(e->value));
            free(e->value);
            e->value = value;
            return 0;
        }
    }
    if (cfg->nentries == cfg->entries_cap) {
        size_t cap = cfg->entries_cap ? cfg->entries_cap * 2 : 16;
        entry *n = realloc(cfg->entries, cap * sizeof *n);
        if (!n)
            return VIRTWIRE_ENOMEM;
        cfg->entries = n;
        cfg->entries_cap = cap;
    }
    cfg->entries[cfg->nentries++] = (entry){ group, key, value };
    return 0;
}

static int add_group(virtwire_auth_config *cfg, const char *p, size_t n, char **out)
{
    char *name = dup_range(p, n);
    if (!name)
        return VIRTWIRE_ENOMEM;
    char *old = find_group(cfg, name);
    if (old) { /* a repeated group goes on where the first one was */
        free(name);
        *out = old;
        return 0;
    }
    if (cfg->ngroups == cfg->groups_cap) {
        size_t cap = cfg->groups_cap ? cfg->groups_cap * 2 : 8;
        char **g = realloc(cfg->groups, cap * sizeof *g);
        if (!g) {
            free(name);
            return VIRTWIRE_ENOMEM;
        }
        cfg->groups = g;
        cfg->groups_cap = cap;
    }
    cfg->groups[cfg->ngroups++] = name;
    *out = name;
    return 0;
}

/* One line (without its newline).  Returns 0, VIRTWIRE_EINVAL with a
 * message, or VIRTWIRE_ENOMEM. */
static int parse_line(virtwire_auth_config *cfg, const char *p, size_t n, char **group,
                      const char **why)
{
    size_t b = 0;
    while (b < n && is_space(p[b]))
        b++;
    if (b == n || p[b] == '#')
        return 0; /* blank or comment */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 && p[i] != '\t') {
            *why = "a control character";
            return VIRTWIRE_EINVAL;
        }
    if (p[b] == '[') {
        size_t e = n;
        while (e > b && is_space(p[e - 1]))
            e--;
        if (p[e - 1] != ']' || e - b < 3) {
            *why = "a group name that is not of the form [NAME]";
            return VIRTWIRE_EINVAL;
        }
        for (size_t i = b + 1; i < e - 1; i++)
            if (p[i] == '[' || p[i] == ']') {
                *why = "a group name with '[' or ']' in it";
                return VIRTWIRE_EINVAL;
            }
        return add_group(cfg, p + b + 1, e - b - 2, group);
    }
    const char *eq = memchr(p + b, '=', n - b);
    if (!eq) {
        *why = "a line that is neither a group, a KEY=VALUE pair nor a comment";
        return VIRTWIRE_EINVAL;
    }
    if (!*group) {
        *why = "a key before the first group";
        return VIRTWIRE_EINVAL;
    }
    size_t ke = (size_t)(eq - p);
    while (ke > b && is_space(p[ke - 1]))
        ke--;
    if (ke == b) {
        *why = "an empty key";
        return VIRTWIRE_EINVAL;
    }
    size_t vb = (size_t)(eq - p) + 1;
    while (vb < n && is_space(p[vb]))
        vb++;
    char *key = dup_range(p + b, ke - b);
    if (!key)
        return VIRTWIRE_ENOMEM;
    int bad;
    char *value = unescape(p + vb, n - vb, &bad);
    if (!value) {
        free(key);
        if (bad) {
            *why = "a value with an invalid escape";
            return VIRTWIRE_EINVAL;
        }
        return VIRTWIRE_ENOMEM;
    }
    int rc = add_entry(cfg, *group, key, value);
    if (rc < 0) {
        free(key);
        free(value);
    }
    return rc;
}

int virtwire_auth_config_parse(const char *data, size_t len, const char *path,
                               virtwire_auth_config **out, char *errbuf, size_t errlen)
{
    if (out)
        *out = NULL;
    if ((!data && len) || !out)
        return VIRTWIRE_EINVAL;
    if (!path)
        path = "auth.conf";
    if (len > AUTH_CONFIG_MAX) {
        vw_errorf(errbuf, errlen, "'%s' is larger than %u bytes", path, AUTH_CONFIG_MAX);
        return VIRTWIRE_ETOOLONG;
    }
    virtwire_auth_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->path = strdup(path))) {
        free(cfg);
        return VIRTWIRE_ENOMEM;
    }
    char *group = NULL;
    size_t line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
        line++;
        size_t m = n;
        if (m && data[pos + m - 1] == '\r')
            m--;
        const char *why = NULL;
        int rc = memchr(data + pos, '\0', n) ? VIRTWIRE_EINVAL : 0;
        if (rc)
            why = "a NUL byte";
        else
            rc = parse_line(cfg, data + pos, m, &group, &why);
        if (rc < 0) {
            if (rc == VIRTWIRE_EINVAL)
                vw_errorf(errbuf, errlen, "'%s' line %zu: %s", path, line, why);
            virtwire_auth_config_free(cfg);
            return rc;
        }
        pos += n + (nl ? 1 : 0);
    }
    *out = cfg;
    return 0;
}

int virtwire_auth_config_load(const char *path, virtwire_auth_config **out, char *errbuf,
                              size_t errlen)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return VIRTWIRE_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        vw_errorf(errbuf, errlen, "Failed to read auth file '%s': %s", path, strerror(err));
        errno = err;
        return VIRTWIRE_EIO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > AUTH_CONFIG_MAX) {
        close(fd);
        vw_errorf(errbuf, errlen, "'%s' is not a regular file of at most %u bytes", path,
                  AUTH_CONFIG_MAX);
        return VIRTWIRE_ETOOLONG;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return VIRTWIRE_ENOMEM;
    }
    for (;;) { /* the file may have grown: read no more than cap */
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            free(buf);
            vw_errorf(errbuf, errlen, "Failed to read auth file '%s': %s", path, strerror(err));
            errno = err;
            return VIRTWIRE_EIO;
        }
        if (n == 0 || (len += (size_t)n) == cap)
            break;
    }
    close(fd);
    int rc = len == cap ? VIRTWIRE_ETOOLONG
                        : virtwire_auth_config_parse(buf, len, path, out, errbuf, errlen);
    if (len == cap)
        vw_errorf(errbuf, errlen, "'%s' changed while it was read", path);
    memset(buf, 0, len);
    free(buf);
    return rc;
}

static const char *get(const virtwire_auth_config *cfg, const char *group, const char *key)
{
    for (size_t i = 0; i < cfg->nentries; i++)
        if (strcmp(cfg->entries[i].group, group) == 0 && strcmp(cfg->entries[i].key, key) == 0)
            return cfg->entries[i].value;
    return NULL;
}

int virtwire_auth_config_lookup(const virtwire_auth_config *cfg, const char *service,
                                const char *hostname, const char *credname,
                                const char **value, char *errbuf, size_t errlen)
{
    if (value)
        *value = NULL;
    if (!cfg || !service || !credname || !value)
        return VIRTWIRE_EINVAL;
    if (!hostname)
        hostname = "localhost";
    size_t n = strlen(service) + strlen(hostname) + 16;
    char *authgroup = malloc(n);
    if (!authgroup)
        return VIRTWIRE_ENOMEM;
    snprintf(authgroup, n, "auth-%s-%s", service, hostname);
    if (!find_group(cfg, authgroup))
        snprintf(authgroup, n, "auth-%s-%s", service, "default");
    int rc = 0;
    if (find_group(cfg, authgroup)) {
        const char *cred = get(cfg, authgroup, "credentials");
        if (!cred) {
            vw_errorf(errbuf, errlen, "Missing item 'credentials' in group '%s' in '%s'",
                      authgroup, cfg->path);
            rc = VIRTWIRE_EINVAL;
        } else {
            size_t m = strlen(cred) + 16;
            char *credgroup = malloc(m);
            if (!credgroup) {
                rc = VIRTWIRE_ENOMEM;
            } else {
                snprintf(credgroup, m, "credentials-%s", cred);
                if (!find_group(cfg, credgroup)) {
                    vw_errorf(errbuf, errlen,
                              "Missing group 'credentials-%s' referenced from group '%s' in '%s'",
                              cred, authgroup, cfg->path);
                    rc = VIRTWIRE_EINVAL;
                } else {
                    *value = get(cfg, credgroup, credname);
                }
                free(credgroup);
            }
        }
    }
    free(authgroup);
    return rc;
}

/* dir + "/" + rest into a new string, or NULL. */
static char *join(const char *dir, const char *rest)
{
    size_t n = strlen(dir) + strlen(rest) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, rest);
    return s;
}

int virtwire_auth_config_path(const virtwire_uri *uri, char **path)
{
    if (!path)
        return VIRTWIRE_EINVAL;
    *path = NULL;
    const char *env = getenv("LIBVIRT_AUTH_FILE");
    if (env) {
        *path = strdup(env);
        return *path ? 0 : VIRTWIRE_ENOMEM;
    }
    if (uri) {
        /* libvirt takes the first authfile= with a value (names as given) */
        for (size_t i = 0; i < uri->nparams; i++) {
            if (uri->params[i].name && strcmp(uri->params[i].name, "authfile") == 0 &&
                uri->params[i].value) {
                *path = strdup(uri->params[i].value);
                return *path ? 0 : VIRTWIRE_ENOMEM;
            }
        }
    }
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *user = NULL;
    if (xdg && *xdg)
        user = join(xdg, "libvirt/auth.conf");
    else if (home)
        user = join(home, ".config/libvirt/auth.conf");
    else
        user = NULL;
    if ((xdg && *xdg) || home) {
        if (!user)
            return VIRTWIRE_ENOMEM;
        if (access(user, R_OK) == 0) {
            *path = user;
            return 0;
        }
        free(user);
    }
    if (access("/etc/libvirt/auth.conf", R_OK) == 0) {
        *path = strdup("/etc/libvirt/auth.conf");
        return *path ? 0 : VIRTWIRE_ENOMEM;
    }
    return 0;
}
