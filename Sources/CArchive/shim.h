#ifndef NUVOLA_CARCHIVE_SHIM_H
#define NUVOLA_CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
