#!/usr/bin/env bash
# What `npm test` needs besides Node and npm: Chromium (the web console's end-to-end tests), tmux and
# script (the CLI's terminal tests), Xvfb (the desktop tests' virtual X display), xclip (the desktop
# clipboard tests) and libXtst, which the input package (libnut) links (Debian's Chromium pulls it in
# only by the way, so it is named here). Installs the missing Debian packages when it may (root, or sudo
# without a password), otherwise stops at once with the apt-get line to run. `npm test` and .ci/run
# call it. It runs nothing but shell builtins, id, sudo, env, dpkg-query and apt-get, so a test can
# decide everything with a PATH of fakes.
set -euo pipefail

# The Debian packages that provide what is missing, one per line in $missing.
find_missing() {
  missing=()
  if [ -z "${CHROMIUM_PATH:-}" ]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  fi
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  command -v script >/dev/null 2>&1 || missing+=(bsdutils)
  command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
  command -v xclip >/dev/null 2>&1 || missing+=(xclip)
  # A shared library has no command to look for; where there is no dpkg, nothing can say.
  if command -v dpkg-query >/dev/null 2>&1 &&
    [ "$(dpkg-query -W -f '${db:Status-Status}' libxtst6 2>/dev/null || true)" != installed ]; then
    missing+=(libxtst6)
  fi
}

# The tests launch $CHROMIUM_PATH instead of Debian's chromium when it is set: no package helps there.
if [ -n "${CHROMIUM_PATH:-}" ] && [ ! -x "$CHROMIUM_PATH" ]; then
  echo "CHROMIUM_PATH is $CHROMIUM_PATH, which is not an executable file: point it at a Chromium binary, or unset it to use Debian's chromium package." >&2
  exit 1
fi

find_missing
((${#missing[@]})) || exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need Debian packages that are missing (${missing[*]}), and this machine has no apt-get: install Chromium, tmux, script, Xvfb, xclip and libXtst with its package manager (CHROMIUM_PATH can point at Chromium), then run npm test again." >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  if command -v sudo >/dev/null 2>&1; then prefix='sudo ' who=''; else prefix='' who=' as root'; fi
  echo "The tests need Debian packages that are not installed (${missing[*]}), and this user may not install them. Run this${who}, then npm test again:" >&2
  echo "  ${prefix}apt-get update && ${prefix}apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "Installing the Debian packages the tests need: ${missing[*]}" >&2
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
  ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "apt-get could not install ${missing[*]} (its message is above): fix that, or install them yourself, then run npm test again." >&2
  exit 1
fi

installed=("${missing[@]}")
find_missing
if ((${#missing[@]})); then
  echo "apt-get installed ${installed[*]}, yet ${missing[*]} still cannot be found: check PATH, then run npm test again." >&2
  exit 1
fi
