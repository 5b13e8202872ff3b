#ifndef NUVOLA_CGIT2_SHIM_H
#define NUVOLA_CGIT2_SHIM_H
#include <git2.h>
/* libgit2's *_INIT macros are not importable: use the git_*_options_init functions with the
   GIT_*_VERSION constants instead. git_libgit2_opts is variadic: wrap each use here. */
static inline int git_shim_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}
#endif
