#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H

#include <curl/curl.h>
#include <sys/types.h>

// glibc declares sync_file_range only under _GNU_SOURCE, which Swift's Glibc module is built without.
extern int sync_file_range(int fd, __off64_t offset, __off64_t count, unsigned int flags);

/// Starts writing the file's dirty pages back to disk without waiting (SYNC_FILE_RANGE_WRITE), so that a
/// later fsync finds little left to do. Returns 0, or -1 with errno set.
static inline int CCurl_start_writeback(int fd) {
    return sync_file_range(fd, 0, 0, 2 /* SYNC_FILE_RANGE_WRITE */);
}

// Swift cannot call C variadic functions: one typed wrapper per argument type.
// The argument type must match what libcurl reads with va_arg for that option.

static inline CURLcode CCurl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_write_callback(CURL *handle, CURLoption option,
        size_t (*value)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_xferinfo_callback(CURL *handle, CURLoption option,
        int (*value)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_read_callback(CURL *handle, CURLoption option,
        size_t (*value)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_seek_callback(CURL *handle, CURLoption option,
        int (*value)(void *, curl_off_t, int)) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_mime(CURL *handle, curl_mime *value) {
    return curl_easy_setopt(handle, CURLOPT_MIMEPOST, value);
}

static inline CURLcode CCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode CCurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode CCurl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode CCurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode CCurl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

// Named constants that are macros of a cast or a long literal, which Swift does not import.
static inline long CCurl_pipe_multiplex(void) { return CURLPIPE_MULTIPLEX; }
static inline long CCurl_http_version_2tls(void) { return CURL_HTTP_VERSION_2TLS; }
static inline long CCurl_http_version_1_1(void) { return CURL_HTTP_VERSION_1_1; }
static inline int CCurl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
static inline int CCurl_seekfunc_ok(void) { return CURL_SEEKFUNC_OK; }
static inline int CCurl_seekfunc_fail(void) { return CURL_SEEKFUNC_FAIL; }
static inline int CCurl_error_size(void) { return CURL_ERROR_SIZE; }

static inline curl_version_info_data *CCurl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
