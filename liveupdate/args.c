/*
 * The new binary's command line of `live-update -c <cmdline>`, cut into
 * arguments.
 *
 * Xen's xenstore-control sends <cmdline> as one string, and Xen's C
 * xenstored cuts it at every blank. The same rules hold here for a
 * command line without quotes or backslashes, and these let an argument
 * hold a blank, a quote or a backslash (a subset of sh(1), with nothing
 * expanded):
 *   - blanks (space, tab, newline) outside quotes separate arguments;
 *     runs of them count as one;
 *   - '...' keeps everything up to the next single quote as it is;
 *   - "..." likewise up to the next unescaped double quote, where \" and
 *     \\ stand for " and \ (any other backslash stays);
 *   - outside quotes, a backslash makes the next character literal;
 *   - quoted parts and plain characters next to each other form one
 *     argument, so '' is an empty argument and a'b c'd is "ab cd".
 * An unterminated quote or a trailing backslash is refused.
 *
 * Worked example: --opt="a b" 'c\d' e\ f  gives three arguments:
 * [--opt=a b] [c\d] [e f].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liveupdate/liveupdate.h"

static bool
lu_args_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n';
}

/* Appends the argument in word (len bytes) to *argv, if max allows. */
static int
lu_args_push(char ***argv, int *argc, int max, const char *word, size_t len)
{
	char *copy;

	if (*argc >= max)
		return -E2BIG;
	copy = xmalloc(len + 1);
	memcpy(copy, word, len);
	copy[len] = '\0';
	*argv = xrealloc(*argv, (size_t)(*argc + 2) * sizeof(**argv));
	(*argv)[(*argc)++] = copy;
	(*argv)[*argc] = NULL;
	return 0;
}

/*
 * The quoted part that opens at p (a quote) into word at *len; returns
 * where it stopped: at the closing quote, or at the NUL if there is none.
 */
static const char *
lu_args_quoted(const char *p, char *word, size_t *len)
{
	char q = *p;

	for (p++; *p && *p != q; p++) {
		if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		word[(*len)++] = *p;
	}
	return p;
}

/*
 * The argument that starts at *pp (not a blank), up to the next blank
 * outside quotes, into word (*len bytes, no NUL); *pp moves past it.
 * -EINVAL with *why (static) for an unterminated quote or a trailing
 * backslash.
 */
static int
lu_args_word(const char **pp, char *word, size_t *len, const char **why)
{
	const char *p = *pp;

	*len = 0;
	while (*p && !lu_args_blank(*p)) {
		char q = *p;

		if (q == '\\') {
			if (p[1] == '\0') {
				*why = "a backslash ends the command line";
				return -EINVAL;
			}
			word[(*len)++] = p[1];
			p += 2;
		} else if (q != '\'' && q != '"') {
			word[(*len)++] = *p++;
		} else {
			p = lu_args_quoted(p, word, len);
			if (*p != q) {
				*why = q == '"' ? "a double quote is not closed" :
						  "a single quote is not closed";
				return -EINVAL;
			}
			p++;
		}
	}
	*pp = p;
	return 0;
}

int
lu_args_split(const char *cmdline, int max, char ***out, int *outc,
	      const char **why)
{
	char *word = xmalloc(strlen(cmdline) + 1);
	char **argv = NULL;
	const char *p = cmdline;
	int argc = 0, rc = 0;

	*why = NULL;
	for (;;) {
		size_t len;

		while (lu_args_blank(*p))
			p++;
		if (*p == '\0')
			break;
		rc = lu_args_word(&p, word, &len, why);
		if (rc < 0)
			break;
		rc = lu_args_push(&argv, &argc, max, word, len);
		if (rc < 0) {
			*why = "too many arguments";
			break;
		}
	}
	free(word);
	if (rc < 0) {
		lu_args_free(argv);
		return rc;
	}
	if (argv == NULL)
		argv = xcalloc(1, sizeof(*argv));
	*out = argv;
	*outc = argc;
	return 0;
}

void
lu_args_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}
