#ifndef NUVOLA_CARCHIVE_SHIM_H
#define NUVOLA_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>

/* archive_set_error is variadic (printf-style): pass the message as one "%s" argument. */
static inline void archive_shim_set_error(struct archive *a, const char *message) {
    archive_set_error(a, EIO, "%s", message);
}
#endif
