/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a fuzz target over files, for compilers without libFuzzer and for
 * the test suite: every argument is a file or a directory of files (not
 * recursive below the first level).  Files whose name ends in ".hex" hold
 * the input as hexadecimal digits; whitespace and '#' comments (to the end
 * of the line) are skipped.  Other files are the input as it is.
 *
 * Checks that the target leaves no fd open.  Built with
 * FUZZ_EXPECT_EXACT (the decode target only), it also checks that every
 * input decoded and re-encoded to itself byte for byte.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vt_sys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_EXPECT_EXACT
extern unsigned long fuzz_decode_ok, fuzz_decode_exact;
#endif

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Turns the hex text in buf[0..*len) into bytes, in place. */
static int unhex(const char *path, unsigned char *buf, size_t *len)
{
    size_t in = 0, out = 0;
    while (in < *len) {
        int c = buf[in];
        if (c == '#') {
            while (in < *len && buf[in] != '\n')
                in++;
        } else if (isspace(c)) {
            in++;
        } else if (in + 1 < *len && isxdigit(c) && isxdigit(buf[in + 1])) {
            buf[out++] = (unsigned char)(hexval(c) << 4 | hexval(buf[in + 1]));
            in += 2;
        } else {
            fprintf(stderr, "%s: byte %zu: not a pair of hex digits\n", path, in);
            return -1;
        }
    }
    *len = out;
    return 0;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    size_t plen = strlen(path);
    if (plen > 4 && strcmp(path + plen - 4, ".hex") == 0 && unhex(path, buf, &len) < 0) {
        free(buf);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int run_path(const char *path, size_t *count, int top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    if (!top)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rc = run_path(sub, count, 0);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    /* A target may keep something open for good (the transport target
     * keeps /dev/null): let it, before counting. */
    static const uint8_t warmup[8];
    LLVMFuzzerTestOneInput(warmup, sizeof(warmup));
#ifdef FUZZ_EXPECT_EXACT
    fuzz_decode_ok = fuzz_decode_exact = 0;
#endif
    int before = vt_count_fds(0);
    size_t count = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count, 1) != 0)
            return 1;
    int after = vt_count_fds(0);
    printf("replayed %zu inputs, fds open before %d after %d\n", count, before, after);
    if (count == 0 || after != before) {
        fprintf(stderr, "no input, or fds leaked\n");
        return 1;
    }
#ifdef FUZZ_EXPECT_EXACT
    printf("decoded %lu, re-encoded byte for byte %lu\n", fuzz_decode_ok, fuzz_decode_exact);
    if (fuzz_decode_ok != count || fuzz_decode_exact != count) {
        fprintf(stderr, "some inputs did not decode, or did not re-encode to themselves\n");
        return 1;
    }
#endif
    return 0;
}
