#!/usr/bin/env bash
# Bring this machine up to what juece needs; safe to run any number of times.
#
#   1. Debian packages: WeasyPrint's runtime libraries, a CJK font, poppler-utils
#      (pdffonts/pdftoppm) and python3-venv; installed with apt-get only when missing.
#   2. A Python >= 3.11 virtual environment in .venv, with requirements.txt installed
#      again only when that file changed since the last install.
#   3. The translations (locale/*/LC_MESSAGES/django.po) compiled to .mo files, again only
#      when a .po is newer than its .mo (the .mo files are build output, not committed).
#
# Run it (`scripts/setup.sh`) or source it: either way it changes nothing in the
# calling shell (the body runs in a subshell) and returns non-zero on failure.

_juece_setup() (
    set -euo pipefail

    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    cd "$root"

    say() { printf 'setup: %s\n' "$*"; }

    # --- 1. Debian packages -------------------------------------------------
    # WeasyPrint >= 53 needs Pango >= 1.44 with its FreeType backend and HarfBuzz
    # (subset) through cffi; fonts-noto-cjk so Chinese text is not drawn as empty boxes.
    # gettext: the translations (English UI) are compiled here. The browser tests (juece-test sets
    # JUECE_SETUP_BROWSER=1) drive Debian's Chromium; nothing downloads a browser of its own.
    local packages=(
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libffi8
        fonts-noto-cjk poppler-utils python3-venv gettext
    )
    if [ "${JUECE_SETUP_BROWSER:-0}" = "1" ]; then
        packages+=(chromium)
    fi
    local missing=() p
    for p in "${packages[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
            missing+=("$p")
        fi
    done

    if [ "${#missing[@]}" -eq 0 ]; then
        say "system packages: all ${#packages[@]} present"
    else
        say "system packages missing: ${missing[*]}"
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
                sudo=(sudo -n)
            else
                {
                    echo "缺少系统软件包，需要 root 权限安装。请运行："
                    echo "Missing system packages; installing them needs root. Please run:"
                    echo
                    echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
                    echo
                    echo "然后重新运行本命令。 Then run this command again."
                } >&2
                exit 1
            fi
        fi
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
        say "system packages installed: ${missing[*]}"
    fi

    # --- 2. Python virtual environment ---------------------------------------
    py_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

    local venv="$root/.venv"
    if [ -x "$venv/bin/python" ] && ! py_ok "$venv/bin/python"; then
        say ".venv is broken or older than Python 3.11: recreating it"
        rm -rf "$venv"
    fi

    if [ ! -x "$venv/bin/python" ]; then
        local python="" candidate
        for candidate in python3 python3.11 python3.12 python3.13; do
            if command -v "$candidate" >/dev/null 2>&1 && py_ok "$candidate"; then
                python="$candidate"
                break
            fi
        done
        if [ -z "$python" ]; then
            echo "需要 Python 3.11 或更高版本。 juece needs Python >= 3.11 (python3, python3.11, python3.12 or python3.13)." >&2
            exit 1
        fi
        say "creating .venv with $python ($("$python" --version 2>&1))"
        "$python" -m venv "$venv"
        rm -f "$venv/.requirements.sha256"
    fi

    local stamp="$venv/.requirements.sha256" want
    want="$(sha256sum requirements.txt | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "python packages: requirements.txt unchanged since last install"
    else
        say "python packages: installing requirements.txt into .venv"
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r requirements.txt
        printf '%s\n' "$want" >"$stamp"
        say "python packages: installed"
    fi

    # --- 3. Translations -----------------------------------------------------
    # Chinese is the source language; locale/ holds the English catalogue (and the Chinese names of
    # viewflow's own strings). Compile only when some .po is newer than its .mo, or the .mo is missing.
    local po stale=()
    for po in locale/*/LC_MESSAGES/*.po; do
        [ -e "$po" ] || continue
        if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
            stale+=("$po")
        fi
    done
    if [ "${#stale[@]}" -eq 0 ]; then
        say "translations: compiled catalogues up to date"
    else
        say "translations: compiling ${stale[*]}"
        JUECE_DEBUG=true "$venv/bin/python" manage.py compilemessages --ignore=.venv --ignore=var --ignore=staticfiles >/dev/null
        say "translations: compiled"
    fi
)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _juece_setup
else
    _juece_setup
    _juece_setup_status=$?
    unset -f _juece_setup
    return "$_juece_setup_status"
fi
