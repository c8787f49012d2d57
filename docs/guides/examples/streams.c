/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams (docs/guides/streams.md): a sparse volume upload (data, a hole,
 * data), a sparse download of the same volume printed as runs of data and
 * holes, a stream the daemon fails, and a domain screenshot saved to a
 * file.
 *
 *   guide-streams URI POOL VOLUME DOMAIN SCREENSHOT_FILE
 *
 * examples/virtwire-mockd serves all of it:
 *
 *   virtwire-mockd SOCKET &
 *   guide-streams 'test+unix:///default?socket=SOCKET' default disk.img test shot.png
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_protocol_client.h"

/* VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM and VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM
 * (libvirt-storage.h): holes may travel as STREAM_HOLE packets. */
#define VOL_SPARSE_STREAM 1u

#define DATA1 (64 * 1024)  /* bytes of data at offset 0 */
#define HOLE (1024 * 1024) /* then a hole */
#define DATA2 (4 * 1024)   /* then more data */
#define TIMEOUT_MS 10000

/* The byte at offset off of what is uploaded (0 in holes and past it). */
static unsigned char expected(size_t off)
{
    if (off < DATA1)
        return (unsigned char)(1 + off % 251);
    if (off >= DATA1 + HOLE && off < DATA1 + HOLE + DATA2)
        return 0xab;
    return 0;
}

static int fail(const char *what, int rc, virNetMessageError *err)
{
    if (rc == VIRTWIRE_EREMOTE && err && err->message)
        fprintf(stderr, "guide-streams: %s: %s\n", what, *err->message);
    else
        fprintf(stderr, "guide-streams: %s: %s\n", what, virtwire_strerror(rc));
    return 1;
}

static int upload(virtwire_client *c, const remote_nonnull_storage_vol *vol)
{
    remote_storage_vol_upload_args a = { .vol = *vol, .offset = 0, .length = 0,
                                         .flags = VOL_SPARSE_STREAM };
    virtwire_client_stream *s;
    int rc = remote_stream_storage_vol_upload(c, &a, NULL, &s);
    if (rc < 0)
        return fail("upload", rc, NULL);

    unsigned char *buf = malloc(DATA1);
    if (!buf) {
        virtwire_client_stream_free(s); /* aborts the stream */
        return fail("upload", VIRTWIRE_ENOMEM, NULL);
    }
    for (size_t i = 0; i < DATA1; i++)
        buf[i] = expected(i);
    rc = virtwire_client_stream_send(s, buf, DATA1);
    if (rc == 0)
        rc = virtwire_client_stream_send_hole(s, HOLE);
    memset(buf, 0xab, DATA2);
    if (rc == 0)
        rc = virtwire_client_stream_send(s, buf, DATA2);
    free(buf);

    /* Sends the end of data and waits for the daemon's confirmation; the
     * error of a daemon that failed the stream comes back here (heap mode). */
    virNetMessageError err = { 0 };
    if (rc == 0)
        rc = virtwire_client_stream_finish(s, TIMEOUT_MS, &err);
    virtwire_client_stream_free(s);
    if (rc < 0) {
        fail("upload", rc, &err);
        virNetMessageError_free(&err);
        return 1;
    }
    printf("uploaded: data %d, hole %d, data %d\n", DATA1, HOLE, DATA2);
    return 0;
}

/* Prints one run of data or hole when the next one starts. */
typedef struct run {
    int hole; /* -1: no run yet */
    unsigned long long start, len;
} run;

static void run_add(run *r, int hole, unsigned long long len)
{
    if (r->hole == hole) {
        r->len += len;
        return;
    }
    if (r->hole >= 0)
        printf("  %s %llu +%llu\n", r->hole ? "hole" : "data", r->start, r->len);
    r->hole = hole;
    r->start += r->len;
    r->len = len;
}

static int download(virtwire_client *c, const remote_nonnull_storage_vol *vol)
{
    remote_storage_vol_download_args a = { .vol = *vol, .offset = 0, .length = 0,
                                           .flags = VOL_SPARSE_STREAM };
    virtwire_client_stream *s;
    int rc = remote_stream_storage_vol_download(c, &a, NULL, &s);
    if (rc < 0)
        return fail("download", rc, NULL);

    printf("downloaded:\n");
    static unsigned char buf[256 * 1024];
    unsigned long long off = 0, mismatches = 0;
    run r = { -1, 0, 0 };
    virNetMessageError err = { 0 };
    long n;
    int64_t hole;
    while ((n = virtwire_client_stream_recv(s, buf, sizeof buf, &hole, TIMEOUT_MS, &err)) > 0) {
        if (n == VIRTWIRE_CLIENT_STREAM_HOLE) {
            for (int64_t i = 0; i < hole; i++)
                mismatches += expected(off + (unsigned long long)i) != 0;
            run_add(&r, 1, (unsigned long long)hole);
            off += (unsigned long long)hole;
            continue;
        }
        for (long i = 0; i < n; i++)
            mismatches += buf[i] != expected(off + (unsigned long long)i);
        run_add(&r, 0, (unsigned long long)n);
        off += (unsigned long long)n;
    }
    run_add(&r, -1, 0); /* prints the last run */
    rc = n < 0 ? (int)n : virtwire_client_stream_finish(s, TIMEOUT_MS, &err);
    virtwire_client_stream_free(s);
    if (rc < 0) {
        fail("download", rc, &err);
        virNetMessageError_free(&err);
        return 1;
    }
    printf("  %llu bytes, %s\n", off, mismatches ? "NOT as uploaded" : "as uploaded");
    return mismatches != 0;
}

/* Data past the range the call asked for: the daemon fails the stream,
 * and the stream's next call (here finish) returns its error. */
static int refused(virtwire_client *c, const remote_nonnull_storage_vol *vol,
                   uint64_t capacity)
{
    remote_storage_vol_upload_args a = { .vol = *vol, .offset = capacity - 16, .length = 16 };
    virtwire_client_stream *s;
    int rc = remote_stream_storage_vol_upload(c, &a, NULL, &s);
    if (rc < 0)
        return fail("short upload", rc, NULL);
    unsigned char junk[32] = { 0 };
    virNetMessageError err = { 0 };
    rc = virtwire_client_stream_send(s, junk, sizeof junk);
    if (rc == 0)
        rc = virtwire_client_stream_finish(s, TIMEOUT_MS, &err);
    virtwire_client_stream_free(s);
    if (rc == VIRTWIRE_EREMOTE)
        printf("refused: %s\n", err.message ? *err.message : "(no message)");
    else
        printf("refused: unexpected %s\n", virtwire_error_name(rc));
    virNetMessageError_free(&err);
    return rc != VIRTWIRE_EREMOTE;
}

static int screenshot(virtwire_client *c, const char *domain, const char *path)
{
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = TIMEOUT_MS, .error = &err };
    remote_domain_lookup_by_name_args la = { .name = (char *)domain };
    remote_domain_lookup_by_name_ret lr;
    int rc = remote_call_domain_lookup_by_name(c, &la, &lr, &opts);
    if (rc < 0) {
        fail("lookup", rc, &err);
        virtwire_arena_fini(&arena);
        return 1;
    }
    /* The call's reply (the MIME type) comes first, then the data. */
    remote_domain_screenshot_args sa = { .dom = lr.dom, .screen = 0, .flags = 0 };
    remote_domain_screenshot_ret sr;
    virtwire_client_stream *s;
    rc = remote_stream_domain_screenshot(c, &sa, &sr, &opts, &s);
    if (rc < 0) {
        fail("screenshot", rc, &err);
        virtwire_arena_fini(&arena);
        return 1;
    }
    FILE *f = fopen(path, "wb");
    unsigned char buf[16384];
    size_t total = 0;
    long n;
    /* No hole pointer: a screenshot is not sparse. */
    while ((n = virtwire_client_stream_recv(s, buf, sizeof buf, NULL, TIMEOUT_MS, NULL)) > 0) {
        if (f && fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
            fclose(f);
            f = NULL;
        }
        total += (size_t)n;
    }
    rc = n < 0 ? (int)n : virtwire_client_stream_finish(s, TIMEOUT_MS, NULL);
    virtwire_client_stream_free(s);
    if (!f || fclose(f) != 0)
        rc = rc < 0 ? rc : VIRTWIRE_EIO;
    if (rc == 0)
        printf("screenshot: %s, %zu bytes\n", sr.mime ? *sr.mime : "?", total);
    else
        fail("screenshot", rc, NULL);
    virtwire_arena_fini(&arena);
    return rc < 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: guide-streams URI POOL VOLUME DOMAIN SCREENSHOT_FILE\n");
        if (help)
            return 0;
        return 2;
    }
    virtwire_client_options copts = { .size = sizeof copts, .call_timeout_ms = TIMEOUT_MS };
    virtwire_client *c;
    int rc = virtwire_client_connect(argv[1], &copts, &c);
    if (rc < 0)
        return fail("connect", rc, NULL);

    /* The volume: its pool, then the volume in it, then its size. */
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = TIMEOUT_MS, .error = &err };
    remote_storage_pool_lookup_by_name_args pa = { .name = argv[2] };
    remote_storage_pool_lookup_by_name_ret pr;
    remote_storage_vol_lookup_by_name_ret vr;
    remote_storage_vol_get_info_ret info;
    int status = 1;
    if ((rc = remote_call_storage_pool_lookup_by_name(c, &pa, &pr, &opts)) < 0) {
        fail("pool", rc, &err);
    } else {
        remote_storage_vol_lookup_by_name_args va = { .pool = pr.pool, .name = argv[3] };
        if ((rc = remote_call_storage_vol_lookup_by_name(c, &va, &vr, &opts)) < 0) {
            fail("volume", rc, &err);
        } else {
            remote_storage_vol_get_info_args ia = { .vol = vr.vol };
            if ((rc = remote_call_storage_vol_get_info(c, &ia, &info, &opts)) < 0)
                fail("volume info", rc, &err);
            else
                status = 0;
        }
    }
    if (status == 0) {
        printf("volume %s: capacity %llu\n", vr.vol.name, (unsigned long long)info.capacity);
        status |= upload(c, &vr.vol);
        status |= download(c, &vr.vol);
        status |= refused(c, &vr.vol, info.capacity);
        status |= screenshot(c, argv[4], argv[5]);
    }
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    return status;
}
