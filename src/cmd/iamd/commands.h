/*
 * commands.h: iamd's subcommands ("iamd audit verify") and what they share
 * with the server: the same settings table, read the same way (flags, then
 * environment variables, then defaults), so a subcommand finds the
 * database and the secrets exactly where the server would.
 */
#ifndef IAMD_COMMANDS_H
#define IAMD_COMMANDS_H

#include <stdint.h>

#include "secrets.h"

/* What a subcommand needs to open an existing installation. */
struct iamd_store_settings {
    char data_dir[4096];
    char database[4200];              /* the store location, as iamd builds it */
    uint8_t pepper[IAMD_SECRET_SIZE]; /* read, never created; the caller wipes it */
};

/*
 * Loads iamd's settings from `argv` (argv[0] is the program name shown in
 * messages and --help) and the environment, and reads the pepper without
 * creating it. Returns -1 when `out` is filled; otherwise the exit status
 * the process should end with (0 after --help, 2 for bad usage, 1 when the
 * pepper cannot be read), the reason printed on stderr.
 */
int iamd_store_settings_load(int argc, char **argv, const char *summary, struct iamd_store_settings *out);

/* `iamd audit ...` (audit_command.c); argv[0] is "audit". Returns the exit status. */
int iamd_audit_command(int argc, char **argv);

#endif
