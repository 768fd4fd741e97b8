# bench/usage.awk: prints a script's usage, which is its header comment:
# the comment lines after the first line, without "# ", up to the first
# line that is not a comment; shellcheck directives are left out.
#   awk -f bench/usage.awk SCRIPT
NR == 1 || /^# shellcheck/ { next }
/^#/ { sub(/^# ?/, ""); print; next }
{ exit }
