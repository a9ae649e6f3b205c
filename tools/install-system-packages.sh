#!/usr/bin/env bash
# System packages esgledger's report needs (Debian/Ubuntu), installed only when missing:
#   fonts-noto-cjk       "Noto Sans CJK SC": Chinese text in the PDF report and its charts
#   poppler-utils        pdftoppm / pdffonts / pdftotext: the report's PDF checks in the tests
#   libharfbuzz-subset0  fast font subsetting in WeasyPrint (without it the Chinese PDF takes
#                        about 3x longer and WeasyPrint warns)
#   chromium             the browser the page tests drive (Playwright with its executable path;
#                        no browser is ever downloaded by a test tool)
# WeasyPrint itself needs Pango (libpango-1.0-0, libpangoft2-1.0-0), present on most systems.
# Usage: bash tools/install-system-packages.sh   (as root, or with sudo available)
set -euo pipefail

missing=()
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  missing+=(fontconfig fonts-noto-cjk)
fi
if ! command -v pdftoppm >/dev/null 2>&1; then
  missing+=(poppler-utils)
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset\.so\.0'; then
  missing+=(libharfbuzz-subset0)
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1\.0\.so\.0'; then
  missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fi

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages for the report and the browser tests: all present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]}; install them with your package manager" \
       "(Fedora: google-noto-sans-cjk-ttc-fonts poppler-utils harfbuzz pango chromium)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fc-cache -f >/dev/null 2>&1 || true
