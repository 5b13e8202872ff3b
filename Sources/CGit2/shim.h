#ifndef NUVOLA_CGIT2_SHIM_H
#define NUVOLA_CGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/stream.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* libgit2's *_INIT macros are not importable: use the git_*_options_init functions with the
   GIT_*_VERSION constants instead. git_libgit2_opts is variadic: wrap each use here. */
static inline int git_shim_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}
static inline int git_shim_set_ssl_cert_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL);
}
static inline int git_shim_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

/* A plain TCP stream for libgit2 that gathers small writes (the smart protocol writes a pack
   object by object, and over HTTP each write becomes a chunk of its own) into 64 KiB sends,
   flushed before every read and on close. */
typedef struct {
    git_stream parent;
    char *host;
    char *port;
    int fd;
    size_t used;
    char buffer[65536];
} git_shim_buffered_stream;

static inline int git_shim_buffered_send(git_shim_buffered_stream *stream, const char *data, size_t length) {
    while (length > 0) {
        ssize_t sent = send(stream->fd, data, length, MSG_NOSIGNAL);  /* a closed peer is an error, not SIGPIPE */
        if (sent < 0) {
            if (errno == EINTR) continue;
            git_error_set(GIT_ERROR_NET, "could not write to the socket: %s", strerror(errno));
            return -1;
        }
        data += sent;
        length -= (size_t)sent;
    }
    return 0;
}

static inline int git_shim_buffered_flush(git_shim_buffered_stream *stream) {
    if (stream->used == 0) return 0;
    int error = git_shim_buffered_send(stream, stream->buffer, stream->used);
    stream->used = 0;
    return error;
}

static inline int git_shim_buffered_connect(git_stream *base) {
    git_shim_buffered_stream *stream = (git_shim_buffered_stream *)base;
    struct addrinfo hints, *info = NULL, *entry;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int code = getaddrinfo(stream->host, stream->port, &hints, &info);
    if (code != 0) {
        git_error_set(GIT_ERROR_NET, "failed to resolve address for %s: %s", stream->host, gai_strerror(code));
        return -1;
    }
    int fd = -1, failure = 0;
    for (entry = info; entry; entry = entry->ai_next) {
        fd = socket(entry->ai_family, entry->ai_socktype | SOCK_CLOEXEC, entry->ai_protocol);
        if (fd < 0) { failure = errno; continue; }
        if (connect(fd, entry->ai_addr, entry->ai_addrlen) == 0) break;
        failure = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(info);
    if (fd < 0) {
        git_error_set(GIT_ERROR_NET, "failed to connect to %s: %s", stream->host, strerror(failure));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    stream->fd = fd;
    return 0;
}

static inline ssize_t git_shim_buffered_write(git_stream *base, const char *data, size_t length, int flags) {
    git_shim_buffered_stream *stream = (git_shim_buffered_stream *)base;
    (void)flags;
    if (stream->used + length > sizeof(stream->buffer)) {
        if (git_shim_buffered_flush(stream) < 0) return -1;
    }
    if (length >= sizeof(stream->buffer)) {
        return git_shim_buffered_send(stream, data, length) < 0 ? -1 : (ssize_t)length;
    }
    memcpy(stream->buffer + stream->used, data, length);
    stream->used += length;
    return (ssize_t)length;
}

static inline ssize_t git_shim_buffered_read(git_stream *base, void *data, size_t length) {
    git_shim_buffered_stream *stream = (git_shim_buffered_stream *)base;
    if (git_shim_buffered_flush(stream) < 0) return -1;
    for (;;) {
        ssize_t got = recv(stream->fd, data, length, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) git_error_set(GIT_ERROR_NET, "could not read from the socket: %s", strerror(errno));
        return got;
    }
}

static inline int git_shim_buffered_close(git_stream *base) {
    git_shim_buffered_stream *stream = (git_shim_buffered_stream *)base;
    int error = stream->fd >= 0 ? git_shim_buffered_flush(stream) : 0;
    if (stream->fd >= 0) close(stream->fd);
    stream->fd = -1;
    return error;
}

static inline void git_shim_buffered_free(git_stream *base) {
    git_shim_buffered_stream *stream = (git_shim_buffered_stream *)base;
    if (stream->fd >= 0) close(stream->fd);
    free(stream->host);
    free(stream->port);
    free(stream);
}

static inline int git_shim_buffered_init(git_stream **out, const char *host, const char *port) {
    git_shim_buffered_stream *stream = calloc(1, sizeof(*stream));
    if (!stream) return -1;
    stream->parent.version = GIT_STREAM_VERSION;
    stream->parent.connect = git_shim_buffered_connect;
    stream->parent.write = git_shim_buffered_write;
    stream->parent.read = git_shim_buffered_read;
    stream->parent.close = git_shim_buffered_close;
    stream->parent.free = git_shim_buffered_free;
    stream->host = strdup(host);
    stream->port = strdup(port && *port ? port : "80");
    stream->fd = -1;
    *out = &stream->parent;
    return 0;
}

/* Makes every plain socket libgit2 opens (and the one under its TLS) a buffered one. */
static inline int git_shim_register_buffered_stream(void) {
    static git_stream_registration registration = {GIT_STREAM_VERSION, git_shim_buffered_init, NULL};
    return git_stream_register(GIT_STREAM_STANDARD, &registration);
}
#endif
