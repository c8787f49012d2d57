/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the layers of the bad-input runner share (run.c has the catalogue,
 * the expectations and the layers of the core runtime; sasl.c the layer of
 * libvirtwire_sasl).
 */
#ifndef VIRTWIRE_TESTS_BAD_INPUT_RUN_H
#define VIRTWIRE_TESTS_BAD_INPUT_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "script.h"
#include "virnetprotocol.h"
#include "virtwire_server.h"
#include "vt_buf.h"
#include "vt_check.h"

/* One case of the catalogue. */
typedef struct bcase {
    char *name;
    char *layer;  /* first word of "layer" */
    char *role;   /* the rest of "layer" */
    char *setup;
    char *input;
    char *expect;
    char *note;
    int line;
} bcase;

#define MAX_WORDS 16

/* Its expectation: CODE STATE [ARGS] [key=value...]. */
typedef struct expectation {
    int code;           /* the error the runtime must give */
    char state[32];
    char *args[MAX_WORDS]; /* positional words after the state */
    size_t nargs;
    /* key=value options */
    int calls;   /* program callbacks the input itself causes (transport, conn) */
    int events;  /* event handler runs (client) */
    int after;   /* frames the peer gets before the one checked (server) */
    int data;    /* stream data callbacks (server) */
    int drops;   /* non-fatal errors before a fatal one (transport, conn) */
    int fds;     /* fds the call hands to the caller (client) */
} expectation;

#define CHECK_CODE(got, want, what)                                                      \
    do {                                                                                 \
        int got_ = (int)(got), want_ = (int)(want);                                      \
        CHECK_MSG(got_ == want_, "%s: got %s (%d), want %s", (what), vt_error_name(got_), \
                  got_, vt_error_name(want_));                                           \
    } while (0)

/* A frame found in a buffer. */
typedef struct frame {
    virNetMessageHeader hdr;
    const unsigned char *payload;
    size_t len;
} frame;

/* The error code called name ("-": 0); -1 when there is none. */
int code_by_name(const char *name, int *code);
int state_is(const expectation *e, const char *s);
/* Splits b into complete frames; returns how many (at most max). */
size_t split_frames(const vt_buf *b, frame *f, size_t max, size_t *rest);
/* Checks that f is a REPLY/ERROR whose remote_error has code and a
 * message starting with prefix. */
void check_error_reply(const frame *f, const char *code, const char *prefix);
/* Plays a script's bytes, fds and end of file on a blocking socket. */
int play(int sock, const bi_script *s);
/* Reads what the socket has within timeout_ms into b; 1 at end of file. */
int drain(int sock, vt_buf *b, int timeout_ms);
/* Reads one whole frame into b (blocking, 5 s at most); 0 or -1. */
int read_frame(int sock, vt_buf *b, frame *f);
/* Drops the first n bytes of b. */
void consume(vt_buf *b, size_t n);
/* Every fd open but the runner's inherited ones must be close-on-exec. */
void check_cloexec(const char *when);
/* The case's input compiled into *s (serial 0) and, with in, its bytes
 * into *in; 0, or -1 after a failed check. */
int compile_input(const bcase *c, bi_script *s, vt_buf *in);
/* The servers' on_close: the client's virtwire_server_client_error() in
 * server_close_reason. */
extern int server_close_reason;
void server_on_close(virtwire_server_client *c, void *opaque);
/* CONNECT_GET_LIB_VERSION: 42, what the scripted peers answer too. */
int server_h_lib_version(virtwire_server_call *call, void *opaque);
/* The server's verdict on the input, from what the peer got (got; eof:
 * up to its end) and the reason the server gave when it dropped the
 * client: first e->after frames with status OK, then the state e says
 * (replied, silent, closed).  Whether the connection should still answer
 * a good call. */
int check_server_verdict(const expectation *e, virtwire_server *srv, const vt_buf *got, int eof,
                         int close_reason);
/* Runs the server until the peer has n frames or end of file, or for
 * rounds rounds; collects what the peer gets in b; 1 at end of file. */
int server_rounds(virtwire_server *srv, int peer, vt_buf *b, size_t n, int rounds);

#ifdef BAD_INPUT_SASL
/* The sasl layer (sasl.c). */
void run_sasl(const bcase *c, const expectation *e);
#endif

#endif
