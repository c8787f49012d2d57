/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stands for ssh (or an ext command) to see how a client starts it:
 * records its argv (argv[0] included), its environment in order, its open
 * fds, its signal state and capabilities, then says so on standard error
 * and exits with status 7, as an ssh that fails would.
 *
 * The record goes to probe/NAME in the current directory (the client's,
 * which the child inherits), NAME being the contents of probe/current
 * when that exists, else "last".  Each line is a key, a tab and the value
 * in hex (argv and env: one line per element):
 *
 *   argv 2f62696e2f...     env 4c435f414c4c3d43 ...
 *   fds 303132             (the fd numbers, space-separated, as text)
 *   SigBlk ... SigIgn ... CapInh ... CapPrm ... CapEff ... CapBnd ... CapAmb ...
 *          (the values of /proc/self/status, as text)
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void hex(FILE *f, const char *key, const char *s)
{
    fprintf(f, "%s\t", key);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fprintf(f, "%02x", *p);
    fputc('\n', f);
}

int main(int argc, char **argv)
{
    (void)argc;
    char name[128] = "last";
    FILE *cur = fopen("probe/current", "r");
    if (cur) {
        if (!fgets(name, sizeof name, cur))
            snprintf(name, sizeof name, "last");
        name[strcspn(name, "\n")] = 0;
        fclose(cur);
    }
    /* The fds first, before this program opens any. */
    char fds[4096] = "";
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        size_t n = strlen(fds);
        snprintf(fds + n, sizeof fds - n, "%s%s", n ? " " : "", e->d_name);
    }
    if (d)
        closedir(d);

    char path[256];
    snprintf(path, sizeof path, "probe/%s", name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vw-probe: cannot write %s\n", path);
        return 6;
    }
    for (char **a = argv; *a; a++)
        hex(f, "argv", *a);
    for (char **v = environ; *v; v++)
        hex(f, "env", *v);
    fprintf(f, "fds\t%s\n", fds);
    FILE *st = fopen("/proc/self/status", "r");
    char line[512];
    static const char *const keys[] = { "SigBlk:", "SigIgn:", "CapInh:", "CapPrm:",
                                        "CapEff:", "CapBnd:", "CapAmb:" };
    while (st && fgets(line, sizeof line, st)) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(line, keys[k], kl) != 0)
                continue;
            char *v = line + kl;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            fprintf(f, "%.*s\t%s\n", (int)kl - 1, keys[k], v);
        }
    }
    if (st)
        fclose(st);
    fclose(f);
    fprintf(stderr, "vw-probe: recorded, now failing like ssh\n");
    return 7;
}
