/*
 * Value escaping for the xenstore tools: how read and ls show values with
 * non-printable bytes, and how write reads them back from the command line.
 *
 * Printable ASCII other than the backslash is shown as is. The rest becomes
 * \t, \n, \r, \\, a three-digit octal escape for bytes below 8 ("\001") or
 * \xNN for any other byte ("\x1b", "\xff"); Xen's tools print exactly this,
 * and scripts compare these strings.
 *
 * Decoding follows the same tools: \xHH and \OOO take up to two hex or three
 * octal digits as sscanf's %2x / %3o read them (so blanks and a sign before
 * the digits are accepted), an unknown escape yields the character itself,
 * and a trailing lone backslash yields a NUL byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/xenstore-int.h"

void
cli_escape(struct buf *out, const char *val, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c >= ' ' && c <= '~' && c != '\\') {
			buf_add(out, &c, 1);
			continue;
		}
		switch (c) {
		case '\t':
			buf_add(out, "\\t", 2);
			break;
		case '\n':
			buf_add(out, "\\n", 2);
			break;
		case '\r':
			buf_add(out, "\\r", 2);
			break;
		case '\\':
			buf_add(out, "\\\\", 2);
			break;
		default:
			if (c < 8)
				buf_printf(out, "\\%03o", c);
			else
				buf_printf(out, "\\x%02x", c);
			break;
		}
	}
}

char *
cli_escape_str(const char *val, size_t len)
{
	struct buf b = { 0 };

	cli_escape(&b, val, len);
	buf_add(&b, "", 1);
	return b.data;
}

/*
 * Reads a numeric escape at *in, hex (sscanf %2x) or octal (%3o); on a match
 * stores the value in *c and advances *in, otherwise leaves both alone.
 */
static void
cli_unescape_number(const char **in, bool hex, unsigned int *c)
{
	unsigned int v;
	int n = 0, got;

	if (hex)
		got = sscanf(*in, "%2x%n", &v, &n);
	else
		got = sscanf(*in, "%3o%n", &v, &n);
	if (got == 1 && n > 0) {
		*c = v;
		*in += n;
	}
}

char *
cli_unescape(const char *in, size_t *len)
{
	char *out = xmalloc(strlen(in) + 1);
	size_t n = 0;
	unsigned int c;

	while ((c = (unsigned char)*in++) != '\0') {
		if (c == '\\') {
			c = (unsigned char)*in++;
			switch (c) {
			case 't':
				c = '\t';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 'x':
				cli_unescape_number(&in, true, &c);
				break;
			case '0': case '1': case '2': case '3':
			case '4': case '5': case '6': case '7':
				in--;
				cli_unescape_number(&in, false, &c);
				break;
			case '\0':
				/* A trailing backslash: emit NUL, stop at the end. */
				in--;
				break;
			default:
				/* "\\" and unknown escapes stand for themselves. */
				break;
			}
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	*len = n;
	return out;
}
