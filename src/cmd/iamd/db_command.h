/*
 * db_command.h: `iamd db ...`, database maintenance commands that run
 * instead of the server (dispatched by main.c before iamd's settings are
 * loaded, so they need none of them).
 */
#ifndef IAMD_DB_COMMAND_H
#define IAMD_DB_COMMAND_H

/*
 * Runs `iamd db <command> ...`; argv[0] is "iamd", argv[1] "db". Returns
 * the process's exit status: 0 done, 1 failed, 2 bad usage.
 */
int iamd_db_command(int argc, char **argv);

#endif
