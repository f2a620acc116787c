/*
 * history_cmd.h - `outpost canary history`: the canary run history of an
 * agent's --storage.path, read-only (also while the agent runs and writes
 * it), as an aligned table or as the JSON of the HTTP API.
 */
#ifndef OUTPOST_HISTORY_CMD_H
#define OUTPOST_HISTORY_CMD_H

/* Exit codes: 0 printed; 1 the history is missing or unreadable, or there
 * is no such run (a message on stderr); 2 usage error. */
enum history_exit { HISTORY_EXIT_OK = 0, HISTORY_EXIT_FAILED = 1, HISTORY_EXIT_USAGE = 2 };

/* argv[0] is "history". Returns an enum history_exit. */
int history_cmd_main(int argc, char **argv);

#endif
