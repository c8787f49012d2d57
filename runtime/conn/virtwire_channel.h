/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file
 * virtwire channels: the byte streams a connection (virtwire_conn.h) runs
 * the transport over.
 *
 * A channel moves bytes, and fds where it can, between this process and
 * the peer, without knowing anything of frames: a unix or TCP socket
 * (virtwire_channel_socket_new()), the socketpair of an `ssh` child
 * process (virtwire_channel_open_uri() with an ssh or ext URI), a TLS session (libvirtwire_tls), or a layer
 * of its own on top of another channel (a SASL security layer).  The
 * connection, the client and the server do not care which: they call the
 * channel's operations and poll its fd.
 *
 * Every channel is non-blocking: an operation that cannot go on now says
 * so (returns 0) and the caller polls the channel's fd for the events
 * virtwire_channel_events() gives.
 *
 * Ownership: a channel owns what it was made with (the socket, the child
 * process and its pipes, the TLS session, the channel it wraps) and
 * releases all of it in virtwire_channel_free(), which also reaps a child
 * process.  A connection owns its channel.
 *
 * Threads: a channel is used by one thread at a time, except
 * virtwire_channel_shutdown(), which any thread may call at any time.
 *
 * Implementing a channel: embed virtwire_channel as the first member of
 * the implementation's structure, fill ops, fd and flags, and give the
 * operations below.  The operations' structure starts with its size, like
 * every structure virtwire reads from a caller (docs/reference.md,
 * "Structures that can grow").
 */
#ifndef VIRTWIRE_CHANNEL_H
#define VIRTWIRE_CHANNEL_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "virtwire_error.h"
#include "virtwire_uri.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A channel: what implementations embed first (see above). */
typedef struct virtwire_channel virtwire_channel;

/* virtwire_channel.flags */
/** The channel carries fds (SCM_RIGHTS): a local unix socket of its own. */
#define VIRTWIRE_CHANNEL_FDS 0x1u
/**
 * The channel keeps no input of its own: every byte it has not returned
 * yet is still in the kernel's buffer of its fd, so poll() on the fd
 * reports it.  A read shorter than asked then proves the fd had nothing
 * more at that moment, and a caller that polls level-triggered may go back
 * to poll() instead of reading again to find the channel empty (see
 * virtwire_conn_set_level_triggered()).  The socket channels and the ssh
 * and ext child channels have it.  A channel that decodes records or
 * frames of its own (TLS: GnuTLS keeps decrypted records the fd no longer
 * shows; a SASL security layer keeps decoded bytes) must not set it: it
 * is read until it says it has nothing (read() returns 0).
 */
#define VIRTWIRE_CHANNEL_NO_BUFFER 0x2u

/** A channel's operations; the optional ones may be NULL. */
typedef struct virtwire_channel_ops {
    /** sizeof(virtwire_channel_ops) as the implementation was compiled. */
    size_t size;
    /** A short name for messages: "unix", "tcp", "ssh", "tls", ... */
    const char *name;
    /**
     * Required.  Reads at most len > 0 bytes into buf.  Returns the count
     * (> 0); 0 when nothing can be read now (the channel has nothing
     * buffered and the socket is empty); VIRTWIRE_ECLOSED at the end of the
     * stream; or an error (VIRTWIRE_EIO with errno set, or the channel's
     * own).  With VIRTWIRE_CHANNEL_FDS, *fd is set to an fd received with
     * the last byte read (the caller owns it), else to -1.
     */
    ssize_t (*read)(virtwire_channel *ch, void *buf, size_t len, int *fd);
    /**
     * Required.  Writes from the niov chunks.  Returns the bytes taken
     * (maybe 0 when nothing can be written now), or VIRTWIRE_ECLOSED (the
     * peer is gone), VIRTWIRE_EIO with errno set, or the channel's own
     * error.  Never raises SIGPIPE.
     */
    ssize_t (*writev)(virtwire_channel *ch, const struct iovec *iov, size_t niov);
    /**
     * Required with VIRTWIRE_CHANNEL_FDS.  Sends one fd (borrowed) with
     * one byte, as libvirt does.  Returns 1 when sent, 0 when it cannot be
     * sent now, or an error as writev().
     */
    int (*send_fd)(virtwire_channel *ch, int fd);
    /**
     * Optional.  Takes the channel's own handshake one step further (TLS:
     * the handshake and libvirt's confirmation byte).  Returns 0 once the
     * channel is ready for data, 1 while it is in progress (poll for
     * virtwire_channel_events() and call again), or an error.  Channels
     * without one are ready at once.
     */
    int (*handshake)(virtwire_channel *ch);
    /**
     * Optional.  The poll() events to wait for on the channel's fd when the
     * caller wants to read (POLLIN in want) and/or write (POLLOUT): a TLS
     * session may need to write to go on reading, and the other way round.
     * Default: want itself.
     */
    short (*events)(virtwire_channel *ch, short want);
    /**
     * Optional.  Why the channel ended, in words, for an error message
     * (e.g. what ssh wrote on its standard error); NULL if nothing is
     * known.  Valid until the next operation on the channel.
     */
    const char *(*error_detail)(virtwire_channel *ch);
    /**
     * Optional.  The security strength factor the channel itself gives the
     * bytes it carries (SASL's SSF, in bits): a TLS session's cipher key
     * size; 0 (the default) for a channel that neither encrypts nor
     * authenticates.  SASL takes it as its external SSF.
     */
    unsigned int (*ssf)(virtwire_channel *ch);
    /** Required.  Makes both directions end at once, from any thread:
     *  pollers wake up, later reads and writes fail. */
    void (*shutdown)(virtwire_channel *ch);
    /** Required.  Releases everything the channel owns (see above). */
    void (*free)(virtwire_channel *ch);
} virtwire_channel_ops;

/** The part of every channel that the connection reads. */
struct virtwire_channel {
    const virtwire_channel_ops *ops; /**< its operations */
    int fd;                          /**< what to poll; owned by the channel */
    unsigned int flags;              /**< VIRTWIRE_CHANNEL_* */
};

/* ------------------------------------------------------------------------ */
/* Using a channel                                                          */
/* ------------------------------------------------------------------------ */

/** See virtwire_channel_ops.read. */
ssize_t virtwire_channel_read(virtwire_channel *ch, void *buf, size_t len, int *fd);
/** See virtwire_channel_ops.writev. */
ssize_t virtwire_channel_writev(virtwire_channel *ch, const struct iovec *iov, size_t niov);
/** See virtwire_channel_ops.send_fd; VIRTWIRE_EINVAL without
 *  VIRTWIRE_CHANNEL_FDS. */
int virtwire_channel_send_fd(virtwire_channel *ch, int fd);
/** See virtwire_channel_ops.handshake (0 for channels without one). */
int virtwire_channel_handshake(virtwire_channel *ch);
/** See virtwire_channel_ops.events. */
short virtwire_channel_events(virtwire_channel *ch, short want);
/** See virtwire_channel_ops.error_detail (NULL when there is none). */
const char *virtwire_channel_error_detail(virtwire_channel *ch);
/** See virtwire_channel_ops.ssf (0 for channels without one). */
unsigned int virtwire_channel_ssf(virtwire_channel *ch);
/** See virtwire_channel_ops.shutdown.  NULL is fine. */
void virtwire_channel_shutdown(virtwire_channel *ch);
/** See virtwire_channel_ops.free.  NULL is fine. */
void virtwire_channel_free(virtwire_channel *ch);
/** The channel's fd, to poll. */
int virtwire_channel_fd(const virtwire_channel *ch);
/** Whether the channel carries fds. */
int virtwire_channel_can_pass_fds(const virtwire_channel *ch);
/** The channel's name ("unix", "tcp", ...). */
const char *virtwire_channel_name(const virtwire_channel *ch);

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * A channel over a connected stream socket, which it takes over in every
 * case (closed on failure too): made non-blocking and close-on-exec.  With
 * is_unix, fds pass (VIRTWIRE_CHANNEL_FDS) exactly as libvirt passes them:
 * one sendmsg() per fd carrying one '\0' byte and one SCM_RIGHTS message;
 * received fds come close-on-exec, one per message (others are closed).
 * Without, TCP_NODELAY is set.  Returns 0, VIRTWIRE_EINVAL (fd < 0, out
 * NULL), VIRTWIRE_ENOMEM or VIRTWIRE_EIO (errno says why).
 */
int virtwire_channel_socket_new(int fd, int is_unix, virtwire_channel **out);

/**
 * Connects to the unix socket at path.  On failure, errbuf (errlen bytes,
 * may be NULL) gets libvirt's message ("Failed to connect socket to
 * 'PATH': No such file or directory") and the code is VIRTWIRE_EINVAL
 * (path too long) or VIRTWIRE_EIO (errno says why).
 */
int virtwire_channel_connect_unix(const char *path, char *errbuf, size_t errlen,
                                  virtwire_channel **out);

/**
 * Connects over TCP to host (a name or an address) and port (1-65535),
 * trying each address getaddrinfo() gives in turn.  A name that does not
 * resolve gives VIRTWIRE_EIO with errno ENOENT (or the system's errno for
 * EAI_SYSTEM); errbuf as for virtwire_channel_connect_unix().
 */
int virtwire_channel_connect_tcp(const char *host, int port, char *errbuf, size_t errlen,
                                 virtwire_channel **out);

/* ------------------------------------------------------------------------ */
/* Channels to what a URI designates                                        */
/* ------------------------------------------------------------------------ */

typedef struct virtwire_channel_opener virtwire_channel_opener;

/**
 * Opens channels for a URI transport the runtime's core does not
 * implement itself: TLS, from libvirtwire_tls (virtwire_tls_opener), or one
 * of the caller's.
 */
struct virtwire_channel_opener {
    /** sizeof(virtwire_channel_opener) as the opener was compiled. */
    size_t size;
    /** Opens a channel to the daemon uri designates (flags:
     *  VIRTWIRE_URI_*); on failure, says why in errbuf (errlen bytes, may
     *  be NULL).  The channel may still have its handshake to do. */
    int (*open)(const virtwire_channel_opener *self, const virtwire_uri *uri, unsigned flags,
                char *errbuf, size_t errlen, virtwire_channel **out);
    /** For the opener's own use. */
    void *opaque;
};

/** How to reach a daemon: virtwire_channel_open_uri()'s parameters. */
typedef struct virtwire_connect_params {
    /** sizeof(virtwire_connect_params) as the caller was compiled. */
    size_t size;
    /** VIRTWIRE_URI_READONLY, VIRTWIRE_URI_ADMIN,
     *  VIRTWIRE_URI_DIRECT_FALLBACK (see virtwire_uri_socket_path()). */
    unsigned int flags;
    /** Opens +tls URIs (NULL: they fail with
     *  VIRTWIRE_EUNSUPPORTED_TRANSPORT). */
    const virtwire_channel_opener *tls;
    /** When not NULL: on failure, what failed, in libvirt's words where
     *  libvirt has some, NUL-terminated in errbuf_len bytes. */
    char *errbuf;
    size_t errbuf_len; /**< room in errbuf */
} virtwire_connect_params;

/**
 * Opens a channel to the daemon a libvirt URI designates, as libvirt's
 * remote driver reaches it:
 *
 *   unix   the socket of virtwire_uri_socket_path(uri, flags);
 *   tcp    virtwire_uri_connect_host() and virtwire_uri_tcp_port();
 *   tls    params->tls;
 *   ssh    the ssh command (?command=, else "ssh" in PATH), with
 *          libvirt's command line and environment, running virt-ssh-helper
 *          or nc on the remote host as libvirt chooses them
 *          (virtwire_channel_ssh.c has the details); no fds pass; what ssh
 *          wrote on its standard error is in virtwire_channel_error_detail()
 *          once the channel has ended, and virtwire_channel_free() reaps the
 *          child (SIGTERM, then SIGKILL, if it does not end by itself);
 *   ext    ?command=, run locally without arguments, talking on its
 *          standard input and output, managed as ssh is;
 *   libssh, libssh2: VIRTWIRE_EUNSUPPORTED_TRANSPORT, suggesting +ssh.
 *
 * The channel may still have its handshake to do (virtwire_conn_handshake()).
 * Returns 0, or the code of what failed (the URI's, the socket's, the
 * child's, the opener's), with params->errbuf saying what.
 */
int virtwire_channel_open_uri(const virtwire_uri *uri, const virtwire_connect_params *params,
                              virtwire_channel **out);

#ifdef __cplusplus
}
#endif

#endif /* VIRTWIRE_CHANNEL_H */
