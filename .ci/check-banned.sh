#!/usr/bin/env bash
# check-banned.sh — rejects calls to functions STYLE.md bans in lagwatch's own C (unbounded or
# locale/thread-unsafe ones): atoi, atol, sscanf, strtok, sprintf, vsprintf, strcpy, strcat,
# gets, gmtime, localtime, ctime, asctime.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='(^|[^a-zA-Z0-9_])(atoi|atol|atoll|sscanf|strtok|sprintf|vsprintf|strcpy|strcat|gets|gmtime|localtime|ctime|asctime)[[:space:]]*\('
if git ls-files '*.c' '*.h' | xargs -r grep -nE "$pattern" | grep -v 'banned-ok'; then
    echo "banned: the calls above use functions STYLE.md bans (use the bounded or _r forms)" >&2
    exit 1
fi
echo "banned: no banned calls"
