/*
 * Linked into the portable devbox only (scripts/build-devbox-static), so that it runs on glibc
 * 2.34 (Amazon Linux 2023) although Debian 12's static archives were built against glibc 2.36.
 * Four references would otherwise need newer symbol versions:
 *   - _dl_find_object (GLIBC_2.35): libgcc_eh.a's unwinder (C++ exceptions in libstdc++, ICU);
 *     done here with dl_iterate_phdr, as libgcc itself does on older glibc;
 *   - arc4random, arc4random_buf (GLIBC_2.36): libstdc++.a (std::random_device), libarchive.a;
 *     done here with getrandom(2) (GLIBC_2.25, Linux 3.17), which is what glibc's do;
 *   - hypot, hypotf (GLIBC_2.35, new versions of old functions): Foundation, swiftGlibc; passed
 *     here to their GLIBC_2.2.5 versions in libm (dlvsym), which every glibc still has.
 * A definition in the executable wins over glibc's, so the binary asks glibc for none of them.
 * scripts/check-portable verifies the result (objdump -T shows no GLIBC_2.35/2.36 symbol).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct finder { uintptr_t address; struct dl_find_object *result; int found; };

static int find_in_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct finder *finder = data;
    uintptr_t start = UINTPTR_MAX, end = 0;
    void *eh_frame = NULL;
    int inside = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type == PT_LOAD) {
            uintptr_t low = info->dlpi_addr + header->p_vaddr, high = low + header->p_memsz;
            if (low < start) start = low;
            if (high > end) end = high;
            if (finder->address >= low && finder->address < high) inside = 1;
        } else if (header->p_type == PT_GNU_EH_FRAME) {
            eh_frame = (void *)(info->dlpi_addr + header->p_vaddr);
        }
    }
    if (!inside) return 0;
    memset(finder->result, 0, sizeof *finder->result);
    finder->result->dlfo_map_start = (void *)start;
    finder->result->dlfo_map_end = (void *)end;
    finder->result->dlfo_link_map = NULL;  /* libgcc's unwinder reads only dlfo_eh_frame on x86_64 */
    finder->result->dlfo_eh_frame = eh_frame;
    finder->found = 1;
    return 1;
}

/* 0 and the object's PT_GNU_EH_FRAME when address lies in a loaded object, else -1. */
int _dl_find_object(void *address, struct dl_find_object *result) {
    struct finder finder = { (uintptr_t)address, result, 0 };
    dl_iterate_phdr(find_in_object, &finder);
    return finder.found ? 0 : -1;
}

void arc4random_buf(void *buffer, size_t length) {
    unsigned char *bytes = buffer;
    while (length > 0) {
        ssize_t got = getrandom(bytes, length, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            abort();  /* as glibc's arc4random does when the kernel gives no randomness */
        }
        bytes += got;
        length -= (size_t)got;
    }
}

uint32_t arc4random(void) {
    uint32_t value;
    arc4random_buf(&value, sizeof value);
    return value;
}

/* glibc's own hypot and hypotf, as every glibc since 2.2.5 exports them; looked up once. A plain
 * `.symver` reference would bind back to these definitions (the executable comes first in the
 * lookup scope) and loop; asking libm's handle for the version cannot. */
typedef double (*hypot_function)(double, double);
typedef float (*hypotf_function)(float, float);

static void *glibc_2_2_5(const char *name) {
    void *libm = dlopen("libm.so.6", RTLD_LAZY);  /* already loaded: devbox needs it; else glibc's */
    void *function = libm ? dlvsym(libm, name, "GLIBC_2.2.5") : NULL;
    if (function == NULL) abort();  /* not glibc, or libm not loaded: cannot happen for this binary */
    return function;
}

double hypot(double x, double y) {
    static _Atomic(hypot_function) cached;
    hypot_function function = cached;
    if (function == NULL) cached = function = (hypot_function)glibc_2_2_5("hypot");
    return function(x, y);
}

float hypotf(float x, float y) {
    static _Atomic(hypotf_function) cached;
    hypotf_function function = cached;
    if (function == NULL) cached = function = (hypotf_function)glibc_2_2_5("hypotf");
    return function(x, y);
}
