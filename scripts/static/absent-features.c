/*
 * What the portable devbox links in place of three libraries Debian's libcurl.a was built
 * against but that cannot be linked statically here (Debian 12 ships no libgssapi_krb5.a, and
 * its libldap.a and librtmp.a need GnuTLS, whose PKCS#11 part needs p11-kit, shipped only as
 * a shared library):
 *   - GSS-API (Kerberos, SPNEGO "Negotiate" auth): libcurl calls it only when a program asks
 *     for Negotiate/Kerberos authentication, which our HTTP module never does; libgit2 (built
 *     with it too) only when a Git server offers Negotiate, which then fails as "not supported".
 *   - LDAP (ldap:// URLs) and RTMP (rtmp:// URLs): libcurl calls them only for those schemes;
 *     our HTTP module allows http and https only (CURLOPT_PROTOCOLS_STR).
 * Each function fails the way its library fails when the feature is unavailable, so were one
 * ever reached, libcurl would report an error rather than crash. Built by
 * scripts/build-devbox-static into libgssapi_krb5.a, libldap.a, liblber.a and librtmp.a in a
 * directory that is searched before /usr/lib, so `pkg-config --static` flags resolve to these.
 * Nothing else links this: the debug and test builds use the system's shared libraries.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(ABSENT_GSSAPI)
typedef uint32_t OM_uint32;
struct gss_buffer { size_t length; void *value; };
#define GSS_S_COMPLETE 0u
#define GSS_S_FAILURE (13u << 16)      /* GSS_S_FAILURE: "unspecified failure" */
#define GSS_S_UNAVAILABLE (16u << 16)  /* GSS_S_UNAVAILABLE: "operation unavailable" */

void *GSS_C_NT_HOSTBASED_SERVICE = NULL;

static OM_uint32 absent(OM_uint32 *minor) { if (minor) *minor = 0; return GSS_S_UNAVAILABLE; }

OM_uint32 gss_import_name(OM_uint32 *minor, void *name, void *type, void **out) {
    (void)name; (void)type;
    if (out) *out = NULL;
    return absent(minor);
}
OM_uint32 gss_init_sec_context(OM_uint32 *minor, void *cred, void **context, void *target, void *mech,
                               OM_uint32 flags, OM_uint32 time, void *bindings, void *input,
                               void **actual_mech, struct gss_buffer *output, OM_uint32 *ret_flags,
                               OM_uint32 *time_rec) {
    (void)cred; (void)context; (void)target; (void)mech; (void)flags; (void)time; (void)bindings;
    (void)input; (void)actual_mech; (void)ret_flags; (void)time_rec;
    if (output) { output->length = 0; output->value = NULL; }
    return absent(minor);
}
OM_uint32 gss_inquire_context(OM_uint32 *minor, void *context, void **src, void **target, OM_uint32 *lifetime,
                              void **mech, OM_uint32 *flags, int *local, int *open) {
    (void)context; (void)src; (void)target; (void)lifetime; (void)mech; (void)flags; (void)local; (void)open;
    return absent(minor);
}
OM_uint32 gss_display_name(OM_uint32 *minor, void *name, struct gss_buffer *output, void **type) {
    (void)name; (void)type; if (output) { output->length = 0; output->value = NULL; } return absent(minor);
}
OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, void *mech, OM_uint32 *context,
                             struct gss_buffer *output) {
    (void)status; (void)type; (void)mech; if (context) *context = 0;
    if (output) { output->length = 0; output->value = NULL; }
    return absent(minor);
}
OM_uint32 gss_wrap(OM_uint32 *minor, void *context, int conf, OM_uint32 qop, void *input, int *state,
                   struct gss_buffer *output) {
    (void)context; (void)conf; (void)qop; (void)input; (void)state;
    if (output) { output->length = 0; output->value = NULL; } return absent(minor);
}
OM_uint32 gss_unwrap(OM_uint32 *minor, void *context, void *input, struct gss_buffer *output, int *conf,
                     OM_uint32 *qop) {
    (void)context; (void)input; (void)conf; (void)qop;
    if (output) { output->length = 0; output->value = NULL; } return absent(minor);
}
/* libgit2 asks for the mechanisms first when a server offers Negotiate; none are available. */
OM_uint32 gss_indicate_mechs(OM_uint32 *minor, void **mechs) {
    if (mechs) *mechs = NULL;
    return absent(minor);
}
OM_uint32 gss_release_oid_set(OM_uint32 *minor, void **set) {
    if (minor) *minor = 0;
    if (set) *set = NULL;
    return GSS_S_COMPLETE;
}
/* Releasing what was never allocated succeeds, as the real ones do for empty handles. */
OM_uint32 gss_release_buffer(OM_uint32 *minor, struct gss_buffer *buffer) {
    if (minor) *minor = 0;
    if (buffer) { buffer->length = 0; buffer->value = NULL; }
    return GSS_S_COMPLETE;
}
OM_uint32 gss_release_name(OM_uint32 *minor, void **name) {
    if (minor) *minor = 0;
    if (name) *name = NULL;
    return GSS_S_COMPLETE;
}
OM_uint32 gss_delete_sec_context(OM_uint32 *minor, void **context, struct gss_buffer *output) {
    if (minor) *minor = 0;
    if (context) *context = NULL;
    if (output) { output->length = 0; output->value = NULL; }
    return GSS_S_COMPLETE;
}
#endif

#if defined(ABSENT_LDAP)
#define LDAP_NOT_SUPPORTED (-12)
#define LDAP_OPT_ERROR (-1)
#define LDAP_URL_ERR_BADSCHEME 3

int ldap_url_parse(const char *url, void **desc) { (void)url; if (desc) *desc = NULL; return LDAP_URL_ERR_BADSCHEME; }
void ldap_free_urldesc(void *desc) { (void)desc; }
int ldap_pvt_url_scheme2proto(const char *scheme) { (void)scheme; return -1; }
int ldap_init_fd(int fd, int proto, const char *url, void **ld) {
    (void)fd; (void)proto; (void)url; if (ld) *ld = NULL; return LDAP_NOT_SUPPORTED;
}
const char *ldap_err2string(int error) { (void)error; return "LDAP is not part of this portable build"; }
int ldap_set_option(void *ld, int option, const void *value) { (void)ld; (void)option; (void)value; return LDAP_OPT_ERROR; }
int ldap_get_option(void *ld, int option, void *value) { (void)ld; (void)option; (void)value; return LDAP_OPT_ERROR; }
int ldap_start_tls(void *ld, void *server, void *client, int *id) {
    (void)ld; (void)server; (void)client; (void)id; return LDAP_NOT_SUPPORTED;
}
int ldap_sasl_bind(void *ld, const char *dn, const char *mech, void *cred, void *server, void *client, int *id) {
    (void)ld; (void)dn; (void)mech; (void)cred; (void)server; (void)client; (void)id; return LDAP_NOT_SUPPORTED;
}
int ldap_parse_sasl_bind_result(void *ld, void *res, void **cred, int freeit) {
    (void)ld; (void)res; (void)freeit; if (cred) *cred = NULL; return LDAP_NOT_SUPPORTED;
}
int ldap_search_ext(void *ld, const char *base, int scope, const char *filter, char **attrs, int attrsonly,
                    void *server, void *client, void *timeout, int sizelimit, int *id) {
    (void)ld; (void)base; (void)scope; (void)filter; (void)attrs; (void)attrsonly; (void)server; (void)client;
    (void)timeout; (void)sizelimit; (void)id; return LDAP_NOT_SUPPORTED;
}
int ldap_result(void *ld, int id, int all, void *timeout, void **res) {
    (void)ld; (void)id; (void)all; (void)timeout; if (res) *res = NULL; return -1;
}
int ldap_parse_result(void *ld, void *res, int *code, char **matched, char **message, char ***referrals,
                      void ***controls, int freeit) {
    (void)ld; (void)res; (void)matched; (void)message; (void)referrals; (void)controls; (void)freeit;
    if (code) *code = LDAP_NOT_SUPPORTED;
    return LDAP_NOT_SUPPORTED;
}
int ldap_msgtype(void *msg) { (void)msg; return -1; }
int ldap_msgfree(void *msg) { (void)msg; return 0; }
void ldap_memfree(void *p) { (void)p; }
int ldap_get_dn_ber(void *ld, void *entry, void **ber, void *dn) {
    (void)ld; (void)entry; (void)dn; if (ber) *ber = NULL; return LDAP_NOT_SUPPORTED;
}
int ldap_get_attribute_ber(void *ld, void *entry, void *ber, void *attr, void **values) {
    (void)ld; (void)entry; (void)ber; (void)attr; if (values) *values = NULL; return LDAP_NOT_SUPPORTED;
}
int ldap_abandon_ext(void *ld, int id, void *server, void *client) {
    (void)ld; (void)id; (void)server; (void)client; return LDAP_NOT_SUPPORTED;
}
int ldap_unbind_ext(void *ld, void *server, void *client) { (void)ld; (void)server; (void)client; return 0; }
#endif

#if defined(ABSENT_LBER)
void ber_free(void *ber, int freebuf) { (void)ber; (void)freebuf; }
void ber_bvfree(void *bv) { (void)bv; }
void ber_memfree(void *p) { (void)p; }
void ber_memvfree(void **v) { (void)v; }
int ber_sockbuf_add_io(void *sb, void *io, int layer, void *arg) { (void)sb; (void)io; (void)layer; (void)arg; return -1; }
#endif

#if defined(ABSENT_RTMP)
/* RTMP_Alloc failing makes libcurl answer CURLE_OUT_OF_MEMORY before touching the others. */
void *RTMP_Alloc(void) { return NULL; }
void RTMP_Free(void *r) { (void)r; }
void RTMP_Init(void *r) { (void)r; }
int RTMP_SetupURL(void *r, char *url) { (void)r; (void)url; return 0; }
void RTMP_SetBufferMS(void *r, int size) { (void)r; (void)size; }
int RTMP_Connect1(void *r, void *cp) { (void)r; (void)cp; return 0; }
int RTMP_ConnectStream(void *r, int seek) { (void)r; (void)seek; return 0; }
int RTMP_Read(void *r, char *buf, int size) { (void)r; (void)buf; (void)size; return -1; }
int RTMP_Write(void *r, const char *buf, int size) { (void)r; (void)buf; (void)size; return -1; }
void RTMP_Close(void *r) { (void)r; }
#endif
