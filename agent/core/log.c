/* log.c - logfmt / JSON line logger. */
#include "log.h"
#include "buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level g_level = LOG_LVL_INFO;
static enum log_format g_format = LOG_FMT_LOGFMT;
static FILE *g_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level level, enum log_format format, FILE *out)
{
    g_level = level;
    g_format = format;
    g_out = out;
}

enum op_rc log_parse_level(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return OP_OK;
        }
    }
    return OP_ERR_INVALID;
}

enum op_rc log_parse_format(const char *s, enum log_format *out)
{
    if (strcmp(s, "logfmt") == 0)
        *out = LOG_FMT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FMT_JSON;
    else
        return OP_ERR_INVALID;
    return OP_OK;
}

bool log_enabled(enum log_level level)
{
    return level >= g_level;
}

static bool logfmt_needs_quotes(const char *s)
{
    if (!*s)
        return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f)
            return true;
    return false;
}

static void put_value(struct buf *b, const char *v)
{
    if (g_format == LOG_FMT_JSON || logfmt_needs_quotes(v))
        buf_add_json_string(b, v);
    else
        buf_adds(b, v);
}

static void put_pair(struct buf *b, bool first, const char *k, const char *v)
{
    if (g_format == LOG_FMT_JSON) {
        if (!first)
            buf_addc(b, ',');
        buf_add_json_string(b, k);
        buf_addc(b, ':');
    } else {
        if (!first)
            buf_addc(b, ' ');
        buf_adds(b, k);
        buf_addc(b, '=');
    }
    put_value(b, v ? v : "");
}

static void put_head(struct buf *b, const char *when, enum log_level level, const char *msg)
{
    if (g_format == LOG_FMT_JSON)
        buf_addc(b, '{');
    put_pair(b, true, "ts", when);
    put_pair(b, false, "level", level_names[level]);
    put_pair(b, false, "msg", msg);
}

static void put_tail(struct buf *b)
{
    if (g_format == LOG_FMT_JSON)
        buf_addc(b, '}');
    buf_addc(b, '\n');
}

void log_kv(enum log_level level, const char *msg, ...)
{
    if (!log_enabled(level))
        return;
    struct buf b;
    buf_init(&b, LOG_MAX_RECORD_BYTES);

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

    put_head(&b, when, level, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        put_pair(&b, false, k, v);
    }
    va_end(ap);
    put_tail(&b);

    if (b.failed) {
        /* Say that a record was lost rather than cut it: a cut line is not
         * JSON, and a logfmt line missing its end reads as a different
         * record. The head, a literal msg and the cap always fit. */
        buf_reset(&b);
        put_head(&b, when, level, "log record too long");
        if (strlen(msg) <= LOG_MAX_FALLBACK_MSG_BYTES)
            put_pair(&b, false, "orig_msg", msg);
        char cap[24];
        snprintf(cap, sizeof(cap), "%u", LOG_MAX_RECORD_BYTES);
        put_pair(&b, false, "cap_bytes", cap);
        put_tail(&b);
    }
    if (!b.failed) {
        FILE *out = g_out ? g_out : stderr;
        fwrite(b.data, 1, b.len, out);
        fflush(out);
    }
    buf_free(&b);
}

void log_lines(enum log_level level, const char *msg, const char *key, const char *text)
{
    const char *p = text;
    while (*p) {
        /* Lines that start with a space belong to the line before them
         * (a syntax error's source line and caret): one record, one
         * problem. */
        size_t n = strcspn(p, "\n");
        while (p[n] == '\n' && p[n + 1] == ' ')
            n += 1 + strcspn(p + n + 1, "\n");
        char *line = xstrndup(p, n);
        log_kv(level, msg, key, line, (const char *)NULL);
        free(line);
        p += n + (p[n] == '\n');
    }
}
