/* audit_cmd.c - `outpost audit verify` (audit_cmd.h). */
#include "audit_cmd.h"
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CMD "outpost audit verify"

/* The read buffer: one whole line of the cap, and room to read on. */
#define READ_BYTES ((size_t)AUDIT_MAX_LINE_BYTES + (64u << 10))

static void usage(FILE *out)
{
    fprintf(out,
            "usage: outpost audit verify [--] FILE [FILE...]\n"
            "\n"
            "Verify the hash chain of an audit log (audit.jsonl under --storage.path): every\n"
            "line's hash matches its content, each line's prev is the hash of the line before\n"
            "and its seq is one more, and the last line ends with a newline. Give rotated files\n"
            "oldest first, across them the chain goes on:\n"
            "\n"
            "  outpost audit verify data/audit.jsonl.2 data/audit.jsonl.1 data/audit.jsonl\n"
            "\n"
            "The first line of the first file is taken as given. Prints\n"
            "  ok: N events, last seq S, last hash H\n"
            "or, for the first line that breaks the chain,\n"
            "  FILE:LINE: what broke\n"
            "Exit status: 0 verified, 1 a line breaks the chain, 2 usage error or a file that\n"
            "cannot be read.\n");
}

int audit_verify_stream(FILE *f, const char *name, struct audit_chain *c, struct buf *report)
{
    char *b = xmalloc(READ_BYTES);
    size_t start = 0, end = 0;
    uint64_t line = 0;
    bool eof = false;
    int code = AUDIT_EXIT_OK;
    struct buf why;
    buf_init(&why, 1u << 12);
    for (;;) {
        char *nl = memchr(b + start, '\n', end - start);
        if (nl) {
            size_t len = (size_t)(nl - (b + start));
            line++;
            if (len + 1 > AUDIT_MAX_LINE_BYTES) {
                buf_addf(report, "%s:%" PRIu64 ": line longer than %u bytes\n", name, line,
                         AUDIT_MAX_LINE_BYTES);
                code = AUDIT_EXIT_BROKEN;
                break;
            }
            buf_reset(&why);
            if (audit_chain_next(c, b + start, len, &why) != OP_OK) {
                buf_addf(report, "%s:%" PRIu64 ": %s\n", name, line, buf_str(&why));
                code = AUDIT_EXIT_BROKEN;
                break;
            }
            start += len + 1;
            continue;
        }
        /* No newline in what is buffered. */
        if (end - start >= AUDIT_MAX_LINE_BYTES) {
            buf_addf(report, "%s:%" PRIu64 ": line longer than %u bytes\n", name, line + 1,
                     AUDIT_MAX_LINE_BYTES);
            code = AUDIT_EXIT_BROKEN;
            break;
        }
        if (eof) {
            if (end > start) {
                buf_addf(report,
                         "%s:%" PRIu64 ": truncated mid-line: the file ends without a newline "
                         "(%zu bytes of a line)\n",
                         name, line + 1, end - start);
                code = AUDIT_EXIT_BROKEN;
            }
            break;
        }
        memmove(b, b + start, end - start);
        end -= start;
        start = 0;
        size_t got = fread(b + end, 1, READ_BYTES - end, f);
        end += got;
        if (got == 0) {
            if (ferror(f)) {
                buf_addf(report, "%s: cannot read: %s\n", name, strerror(errno ? errno : EIO));
                code = AUDIT_EXIT_USAGE;
                break;
            }
            eof = true;
        }
    }
    buf_free(&why);
    free(b);
    return code;
}

int audit_verify_main(int argc, char **argv)
{
    int first = 1;
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return AUDIT_EXIT_OK;
    }
    if (argc > 1 && strcmp(argv[1], "--") == 0)
        first = 2;
    else
        for (int i = 1; i < argc; i++)
            if (argv[i][0] == '-' && argv[i][1])
                return cli_reject(CMD, argv[i], false);
    if (first >= argc)
        return cli_usage_error(CMD, "name at least one FILE");
    struct audit_chain c;
    audit_chain_init(&c);
    struct buf report;
    buf_init(&report, 1u << 16);
    int code = AUDIT_EXIT_OK;
    for (int i = first; i < argc && code == AUDIT_EXIT_OK; i++) {
        errno = 0;
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            buf_addf(&report, "%s: cannot open: %s\n", argv[i], strerror(errno));
            code = AUDIT_EXIT_USAGE;
            break;
        }
        code = audit_verify_stream(f, argv[i], &c, &report);
        fclose(f);
    }
    if (code == AUDIT_EXIT_OK) {
        if (c.lines)
            printf("ok: %" PRIu64 " events, last seq %" PRIu64 ", last hash %s\n", c.lines, c.seq,
                   c.hash);
        else
            printf("ok: 0 events\n");
    } else {
        /* A broken chain is the command's answer (stdout); a file it could
         * not read is an error (stderr). */
        fputs(buf_str_or(&report, "the report is longer than its cap\n"),
              code == AUDIT_EXIT_BROKEN ? stdout : stderr);
    }
    buf_free(&report);
    return code;
}
