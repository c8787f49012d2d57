/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire_tls_dn_match() against the function libvirtd matches
 * tls_allowed_dn_list with, GLib's g_pattern_match_simple() (libglib-2.0,
 * which libvirt's daemon and client link, loaded with dlopen()): libvirt's
 * documented examples, patterns and names written by hand, then 200,000
 * random pairs over an alphabet of '*', '?', ASCII, two- and three-byte
 * UTF-8 characters and the DN punctuation; and a pathological pattern that
 * must not take exponential time.
 *
 *   test_tls_dn_match
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtwire_tls.h"
#include "vt_check.h"
#include "vt_sys.h"

typedef int (*glib_match_fn)(const char *pattern, const char *string);
static glib_match_fn glib_match;

static void same(const char *pattern, const char *dn)
{
    int ours = virtwire_tls_dn_match(pattern, dn) != 0;
    int theirs = glib_match(pattern, dn) != 0;
    CHECK_MSG(ours == theirs, "pattern '%s' dn '%s': ours %d, GLib %d", pattern, dn, ours, theirs);
}

/* xorshift: the same pairs every run. */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static unsigned next(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_text(char *buf, size_t max, int wild)
{
    static const char *const atoms[] = { "a", "b", "C", "=", ",", " ", "\xc3\xa9" /* é */,
                                         "\xe2\x82\xac" /* € */, "*", "?" };
    size_t natoms = sizeof atoms / sizeof atoms[0] - (wild ? 0 : 2);
    size_t len = 0;
    unsigned n = next(12);
    buf[0] = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *a = atoms[next((unsigned)natoms)];
        /* Wildcards more often in patterns. */
        if (wild && next(3) == 0)
            a = next(2) ? "*" : "?";
        if (len + strlen(a) + 1 > max)
            break;
        memcpy(buf + len, a, strlen(a) + 1);
        len += strlen(a);
    }
}

int main(void)
{
    void *h = dlopen("libglib-2.0.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "libglib-2.0.so.0 not found (libvirt's own dependency): %s\n", dlerror());
        return 1;
    }
    glib_match = (glib_match_fn)(uintptr_t)dlsym(h, "g_pattern_match_simple");
    REQUIRE(glib_match);

    /* libvirtd.conf's examples, and what they must say. */
    const char *dn = "C=GB,ST=London,L=London,O=Red Hat,CN=client.example.com";
    CHECK(virtwire_tls_dn_match("C=GB,ST=London,L=London,O=Red Hat,CN=*", dn));
    CHECK(virtwire_tls_dn_match("*", dn));
    CHECK(virtwire_tls_dn_match("C=GB,*,CN=client.example.co?", dn));
    CHECK(!virtwire_tls_dn_match("C=GB,ST=London,L=London,O=Red Hat,CN=server*", dn));
    CHECK(!virtwire_tls_dn_match("C=GB", dn));
    CHECK(!virtwire_tls_dn_match(NULL, dn));
    const char *const fixed[][2] = {
        { "", "" }, { "", "a" }, { "*", "" }, { "?", "" }, { "a*", "a" }, { "*a", "ba" },
        { "a*b*c", "aXbYc" }, { "a*b*c", "aXbYcZ" }, { "**", "x" }, { "*?*", "" },
        { "?", "\xc3\xa9" }, { "??", "\xc3\xa9" }, { "?", "\xe2\x82\xac" },
        { "*\xc3\xa9", "x\xc3\xa9" }, { "a?c", "a\xe2\x82\xac" "c" }, { "a\\*", "a\\b" },
        { "[ab]", "a" }, { "CN=*,O=x", "CN=a,O=b,O=x" }, { "*,O=x", "CN=a,O=x,O=x" },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        same(fixed[i][0], fixed[i][1]);

    char pattern[64], text[64];
    for (int i = 0; i < 200000; i++) {
        random_text(pattern, sizeof pattern, 1);
        random_text(text, sizeof text, 0);
        same(pattern, text);
    }

    /* "*a*a*...*b" against 20,000 a's: a backtracking matcher would never
     * end; this one is quadratic at worst. */
    size_t n = 20000;
    char *big = malloc(n + 1);
    REQUIRE(big);
    memset(big, 'a', n);
    big[n] = 0;
    uint64_t t0 = vt_now_ms();
    CHECK(!virtwire_tls_dn_match("*a*a*a*a*a*a*a*a*a*a*b", big));
    CHECK(virtwire_tls_dn_match("*a*a*a*a*a*a*a*a*a*a", big));
    CHECK_MSG(vt_now_ms() - t0 < 20000, "took %llu ms", (unsigned long long)(vt_now_ms() - t0));
    free(big);
    dlclose(h);
    return vt_finish("tls.dn_match");
}
