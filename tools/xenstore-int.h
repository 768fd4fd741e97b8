/*
 * The xenstore multi-call tool: what its command files share.
 *
 * One run is one struct cli: the mode picked from argv[0] or argv[1], the
 * parsed flags, the operands, the connection and the transaction the
 * commands run in. Commands append what they print to cli->out, which main
 * writes once the transaction has committed, so a retried transaction never
 * prints twice; ls and watch print directly, as they run outside any
 * transaction.
 */
#ifndef LXS_XENSTORE_INT_H
#define LXS_XENSTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "tools/xsclient.h"

enum cli_mode {
	CLI_MODE_UNKNOWN,
	CLI_MODE_CHMOD,
	CLI_MODE_EXISTS,
	CLI_MODE_LIST,
	CLI_MODE_LS,
	CLI_MODE_READ,
	CLI_MODE_RM,
	CLI_MODE_WRITE,
	CLI_MODE_WATCH,
};

struct cli {
	enum cli_mode mode;
	char **args;		/* operands, NULL-terminated */
	int nargs;

	bool prefix;		/* read, list, ls: -p */
	bool full;		/* ls: -f */
	bool tidy;		/* rm: -t */
	bool upto;		/* chmod: -u */
	bool recurse;		/* chmod: -r */
	bool raw;		/* read, write: -R */
	int nr_events;		/* watch: -n, -1 for no limit */
	int depth;		/* watch: -d, -1 for none */
	int max_width;		/* ls: line width; see cli_ls */
	int desired_width;	/* ls: where the -p column starts */

	struct xsc *conn;
	uint32_t tx;
	struct buf out;
};

/*
 * Runs the command of cli->mode on its operands inside cli->tx. Returns the
 * exit status (0 or 1); exits directly on the errors the tools treat as
 * fatal (permission parse errors, failed chmod).
 */
int cli_perform(struct cli *cli);
/* Lists path as a tree on stdout; exits on an error at the top level. */
void cli_ls(struct cli *cli, const char *path);

/*
 * Appends val to out with non-printable bytes, and the backslash, escaped:
 * \t \n \r \\, \NNN (octal) below 8, \xNN otherwise. Adds no NUL.
 */
void cli_escape(struct buf *out, const char *val, size_t len);
/* As cli_escape, NUL-terminated, into a string the caller frees. */
char *cli_escape_str(const char *val, size_t len);
/*
 * Decodes the escapes cli_escape writes (and \xN, \N, other \c as c) into
 * a buffer the caller frees; *len gets its length (it may hold NULs).
 */
char *cli_unescape(const char *in, size_t *len);

#endif
