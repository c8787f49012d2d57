/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt's auth.conf (virtwire_auth_config_*): the format and lookup as
 * libvirt's virauthconfig.c (its tests' file: tests/virauthconfigtest.c's
 * groups and answers), its messages, the file's location in libvirt's
 * order, and input that is not an auth.conf.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vt_check.h"
#include "virtwire_sasl.h"

/* The shape of libvirt's own test file. */
static const char conf[] =
    "[credentials-test]\n"
    "username=fred\n"
    "password=123456\n"
    "\n"
    "[credentials-prod]\n"
    "username=bar\n"
    "password=letmein\n"
    "\n"
    "[auth-libvirt-test1.example.com]\n"
    "credentials=test\n"
    "\n"
    "[auth-libvirt-test2.example.com]\n"
    "credentials=test\n"
    "\n"
    "[auth-libvirt-demo3.example.com]\n"
    "credentials=test\n"
    "\n"
    "[auth-libvirt-prod1.example.com]\n"
    "credentials=prod\n"
    "\n"
    "[auth-libvirt-default]\n"
    "credentials=test\n";

static const char *look(virtwire_auth_config *c, const char *host, const char *cred)
{
    const char *v = NULL;
    char err[256];
    CHECK_RC(virtwire_auth_config_lookup(c, "libvirt", host, cred, &v, err, sizeof err), 0);
    return v;
}

static void test_lookup(void)
{
    virtwire_auth_config *c = NULL;
    char err[256] = "";
    CHECK_RC(virtwire_auth_config_parse(conf, strlen(conf), "auth.conf", &c, err, sizeof err), 0);
    if (!c)
        return;
    CHECK_STR(look(c, "test1.example.com", "username"), "fred");
    CHECK_STR(look(c, "test1.example.com", "password"), "123456");
    CHECK_STR(look(c, "prod1.example.com", "username"), "bar");
    CHECK_STR(look(c, "prod1.example.com", "password"), "letmein");
    CHECK(look(c, "test1.example.com", "realm") == NULL);
    CHECK_STR(look(c, "other.example.com", "username"), "fred"); /* auth-libvirt-default */
    CHECK_STR(look(c, NULL, "username"), "fred");                /* "localhost" */
    virtwire_auth_config_free(c);

    /* libvirt's messages for broken references. */
    const char broken[] = "[auth-libvirt-h]\nfoo=bar\n[auth-libvirt-g]\ncredentials=nope\n";
    CHECK_RC(virtwire_auth_config_parse(broken, strlen(broken), "/x/auth.conf", &c, err,
                                        sizeof err), 0);
    const char *v = "x";
    CHECK_RC(virtwire_auth_config_lookup(c, "libvirt", "h", "username", &v, err, sizeof err),
             VIRTWIRE_EINVAL);
    CHECK(v == NULL);
    CHECK_STR(err, "Missing item 'credentials' in group 'auth-libvirt-h' in '/x/auth.conf'");
    CHECK_RC(virtwire_auth_config_lookup(c, "libvirt", "g", "username", &v, err, sizeof err),
             VIRTWIRE_EINVAL);
    CHECK_STR(err, "Missing group 'credentials-nope' referenced from group 'auth-libvirt-g' in "
                   "'/x/auth.conf'");
    /* No auth group for the host and no default: nothing, no error. */
    CHECK_RC(virtwire_auth_config_lookup(c, "ssh", "h", "username", &v, err, sizeof err), 0);
    CHECK(v == NULL);
    virtwire_auth_config_free(c);
}

static void test_syntax(void)
{
    /* GLib key file details: spaces, comments, escapes, CRLF, repeats. */
    const char ok[] = "# comment\r\n  [credentials-a]  \r\n  username = al ice \r\n"
                      "password=\\spw\\t\\\\x\n[credentials-a]\nusername=bob\n"
                      "[auth-libvirt-default]\ncredentials=a\n";
    virtwire_auth_config *c = NULL;
    char err[256] = "";
    CHECK_RC(virtwire_auth_config_parse(ok, strlen(ok), NULL, &c, err, sizeof err), 0);
    if (c) {
        CHECK_STR(look(c, "x", "username"), "bob");
        CHECK_STR(look(c, "x", "password"), " pw\t\\x");
        virtwire_auth_config_free(c);
    }
    CHECK_RC(virtwire_auth_config_parse("", 0, NULL, &c, err, sizeof err), 0);
    virtwire_auth_config_free(c);

    /* Bad input: each an error naming the line, nothing kept. */
    static const struct {
        const char *text;
        size_t len;
        const char *msg;
    } bad[] = {
        { "username=fred\n", 0, "'f' line 1: a key before the first group" },
        { "[a]\nnot a pair\n", 0,
          "'f' line 2: a line that is neither a group, a KEY=VALUE pair nor a comment" },
        { "[a\n", 0, "'f' line 1: a group name that is not of the form [NAME]" },
        { "[]\n", 0, "'f' line 1: a group name that is not of the form [NAME]" },
        { "[a]b]\n", 0, "'f' line 1: a group name with '[' or ']' in it" },
        { "[a]\n=x\n", 0, "'f' line 2: an empty key" },
        { "[a]\nk=\\q\n", 0, "'f' line 2: a value with an invalid escape" },
        { "[a]\nk=x\\\n", 0, "'f' line 2: a value with an invalid escape" },
        { "[a]\nk=\x01\n", 0, "'f' line 2: a control character" },
        { "[a]\nk=x\0y\n", 9, "'f' line 2: a NUL byte" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        c = (virtwire_auth_config *)1;
        err[0] = '\0';
        CHECK_RC(virtwire_auth_config_parse(bad[i].text, len, "f", &c, err, sizeof err),
                 VIRTWIRE_EINVAL);
        CHECK(c == NULL);
        CHECK_STR(err, bad[i].msg);
    }
    /* Too big, before anything is parsed. */
    size_t big = (1u << 20) + 1;
    char *huge = malloc(big);
    REQUIRE(huge);
    memset(huge, '#', big);
    CHECK_RC(virtwire_auth_config_parse(huge, big, "f", &c, err, sizeof err), VIRTWIRE_ETOOLONG);
    free(huge);
    CHECK_RC(virtwire_auth_config_parse(NULL, 1, "f", &c, err, sizeof err), VIRTWIRE_EINVAL);
}

static void test_path(void)
{
    char dir[] = "/tmp/vw-authconf-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char xdg[128], file[160];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    snprintf(file, sizeof file, "%s/libvirt/auth.conf", xdg);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/libvirt", xdg);
    REQUIRE(mkdir(xdg, 0700) == 0 && mkdir(sub, 0700) == 0);

    virtwire_uri *u = NULL;
    REQUIRE(virtwire_uri_parse("qemu+tcp://h/system?authfile=/from/uri", &u) == 0);
    char *p = NULL;
    unsetenv("LIBVIRT_AUTH_FILE");
    setenv("XDG_CONFIG_HOME", xdg, 1);
    /* The URI's authfile= first ... */
    CHECK_RC(virtwire_auth_config_path(u, &p), 0);
    CHECK_STR(p, "/from/uri");
    free(p);
    /* ... after LIBVIRT_AUTH_FILE. */
    setenv("LIBVIRT_AUTH_FILE", "/from/env", 1);
    CHECK_RC(virtwire_auth_config_path(u, &p), 0);
    CHECK_STR(p, "/from/env");
    free(p);
    unsetenv("LIBVIRT_AUTH_FILE");
    /* XDG only when the file is readable. */
    CHECK_RC(virtwire_auth_config_path(NULL, &p), 0);
    if (access("/etc/libvirt/auth.conf", R_OK) == 0)
        CHECK_STR(p, "/etc/libvirt/auth.conf");
    else
        CHECK(p == NULL);
    free(p);
    FILE *f = fopen(file, "w");
    REQUIRE(f);
    fputs(conf, f);
    fclose(f);
    CHECK_RC(virtwire_auth_config_path(NULL, &p), 0);
    CHECK_STR(p, file);
    virtwire_auth_config *c = NULL;
    char err[256];
    CHECK_RC(virtwire_auth_config_load(p, &c, err, sizeof err), 0);
    if (c)
        CHECK_STR(look(c, "prod1.example.com", "password"), "letmein");
    virtwire_auth_config_free(c);
    free(p);
    CHECK_RC(virtwire_auth_config_load("/nonexistent/auth.conf", &c, err, sizeof err),
             VIRTWIRE_EIO);
    CHECK_STR(err, "Failed to read auth file '/nonexistent/auth.conf': No such file or directory");
    CHECK_RC(virtwire_auth_config_load(dir, &c, err, sizeof err), VIRTWIRE_ETOOLONG);
    unlink(file);
    rmdir(sub);
    rmdir(xdg);
    rmdir(dir);
    virtwire_uri_free(u);
}

int main(void)
{
    test_lookup();
    test_syntax();
    test_path();
    return vt_finish("sasl.authconf");
}
