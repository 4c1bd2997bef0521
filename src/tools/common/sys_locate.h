/*
 * Shared by the client tools (cairn, cairn-bench): find the system's URI to attach to.
 */
#ifndef CAIRN_TOOLS_SYS_LOCATE_H
#define CAIRN_TOOLS_SYS_LOCATE_H

#include <stddef.h>

/*
 * *sys (from --sys) if set, else $CAIRN_SYSTEM_URI, else rank 0's URI from the
 * system_query of cairn-server at *sock (default $CAIRN_SERVER_SOCKET, then def_sock;
 * *sock is updated) copied into buf. On failure the reason is printed to stderr prefixed
 * with prog. \return 0 or -1.
 */
int tool_sys_locate(const char *prog, const char **sys, const char **sock, const char *def_sock,
                    char *buf, size_t len);

#endif /* CAIRN_TOOLS_SYS_LOCATE_H */
